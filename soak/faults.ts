/**
 * Faults at random: a node SIGKILLed and restarted, a node's bus link cut and restored, a node's
 * PostgreSQL link cut and restored. The first three are one of each kind, in random order, so
 * that even a short run sees every kind; faults overlap, on several nodes and often on one (a
 * node restarted while its bus or store link is cut).
 */
import type { SoakCluster } from './cluster';
import { soakClock, type FaultKind } from './ledger';
import type { Random } from './random';

export interface FaultOptions {
  /** Mean pause between the starts of two faults. */
  meanGapMs: number;
  /** How long a fault lasts (min, max); for a kill, how long the node stays down before its restart begins. */
  holdMs: [number, number];
  /** Faults under way at once, at most. */
  maxConcurrent: number;
}

export const FAULT_KINDS: readonly FaultKind[] = ['node_kill', 'bus_cut', 'store_cut'];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Injects faults until `until`; resolves once every fault it began is repaired (a killed node answers again). */
export async function driveFaults(cluster: SoakCluster, random: Random, options: FaultOptions, until: number): Promise<void> {
  const firstRound = [...FAULT_KINDS].sort(() => random.next() - 0.5);
  const inFlight = new Set<Promise<void>>();

  async function fault(kind: FaultKind, node: number): Promise<void> {
    const repair = await cluster.inject(kind, node);
    try {
      await sleep(Math.min(random.between(...options.holdMs), until - soakClock()));
    } finally {
      await repair();
    }
  }

  const eligible = (kind: FaultKind) =>
    cluster.nodes.map((_, index) => index).filter((index) => (kind === 'node_kill' ? !cluster.isDown(index) : !cluster.isFaulted(kind, index)));
  /** The node of the fault under way, if any: half the time a second fault joins it (a node restarting with its bus cut...). */
  let lastNode: number | null = null;

  while (soakClock() < until - options.holdMs[0]) {
    await sleep(random.between(0.5, 1.5) * options.meanGapMs);
    if (soakClock() >= until - options.holdMs[0] || inFlight.size >= options.maxConcurrent) continue;
    const kind = firstRound[0] ?? random.pick(FAULT_KINDS);
    const nodes = eligible(kind);
    if (nodes.length === 0) continue;
    if (firstRound[0] === kind) firstRound.shift();
    const target: number = lastNode !== null && inFlight.size > 0 && nodes.includes(lastNode) && random.chance(0.5) ? lastNode : random.pick(nodes);
    lastNode = target;
    const work = fault(kind, target);
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => undefined);
  }
  await Promise.all([...inFlight]);
}
