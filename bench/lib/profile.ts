/** Reads a V8 CPU profile (--cpu-prof) into the functions that took the most time, as evidence for a figure. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  /** `function file:line`, with paths relative to the project or to node_modules. */
  where: string;
  /** Share of all sampled time (idle included), 0..1. */
  self: number;
  /** Share of sampled time spent in it or anything it called. */
  inclusive: number;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.includes('/node_modules/') ? url.slice(url.lastIndexOf('/node_modules/') + 14) : url.replace(/^file:\/\/.*?\/(src|routes|bench)\//, '$1/');
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

/** The `top` functions by self time, and by inclusive time those whose label contains one of `focus`. */
export function summarizeProfile(path: string, top = 20, focus: string[] = []): { self: ProfileLine[]; focused: ProfileLine[]; totalMs: number } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const selfById = new Map<number, number>();
  profile.samples.forEach((id, i) => selfById.set(id, (selfById.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfById.values()].reduce((a, b) => a + b, 0);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, micros] of selfById) {
    const node = byId.get(id);
    if (node === undefined) continue;
    self.set(label(node), (self.get(label(node)) ?? 0) + micros);
    // Each function once per stack, however deep its recursion.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = label(byId.get(at)!);
      if (!seen.has(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + micros);
      seen.add(name);
    }
  }
  const line = (where: string): ProfileLine => ({ where, self: (self.get(where) ?? 0) / total, inclusive: (inclusive.get(where) ?? 0) / total });
  return {
    totalMs: total / 1000,
    self: [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([where]) => line(where)),
    focused: [...inclusive.keys()].filter((where) => focus.some((f) => where.includes(f))).map(line).sort((a, b) => b.inclusive - a.inclusive),
  };
}
