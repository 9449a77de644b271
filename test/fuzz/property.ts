/** What a fuzz property is, and how one is run and reported, by `npm run fuzz` and by mocha alike. */
import fc from 'fast-check';
import type { FuzzSite, SiteOptions } from './site';

/** The parts of fast-check's parameters a caller chooses; `path` replays one counterexample. */
export interface RunParameters {
  numRuns: number;
  seed?: number;
  path?: string;
}

/** Counts what the inputs reached (a status and error code, say): evidence that they got past parsing and authentication. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(outcome: string): void {
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
  }

  entries(): [string, number][] {
    return [...this.counts].sort((a, b) => b[1] - a[1]);
  }
}

/** Opens the sites a property runs against; one shared site unless a property needs a store of its own. */
export interface Sites {
  shared(): Promise<FuzzSite>;
  /** A site of its own, closed with the rest. */
  own(options: SiteOptions): Promise<FuzzSite>;
}

export interface OpenedProperty {
  property: fc.IRawProperty<unknown[]>;
  tally: Tally;
  /** Checks left after the last run (a fault reported late, say); throws a PropertyViolation. */
  finish?(): Promise<void>;
}

export interface FuzzProperty {
  name: string;
  /** What must hold for every input, in one sentence. */
  claim: string;
  open(sites: Sites): Promise<OpenedProperty>;
}

export interface PropertyResult {
  name: string;
  /** Inputs tried (up to and including the first failure). */
  runs: number;
  failed: boolean;
  seed: number;
  /** Replay path of the shrunk counterexample, when one failed. */
  path: string | null;
  counterexample: string | null;
  error: string | null;
  tally: [string, number][];
  ms: number;
}

/** Runs one property; a failure is a result, not a throw. */
export async function runProperty(property: FuzzProperty, sites: Sites, parameters: RunParameters): Promise<PropertyResult> {
  const started = performance.now();
  const opened = await property.open(sites);
  const details = await fc.check(opened.property, {
    numRuns: parameters.numRuns,
    seed: parameters.seed,
    path: parameters.path,
    // A request that hangs is a failure, not a stuck run.
    timeout: 15_000,
    endOnFailure: false,
  });
  let late: string | null = null;
  try {
    await opened.finish?.();
  } catch (error) {
    late = error instanceof Error ? error.message : String(error);
  }
  return {
    name: property.name,
    runs: details.numRuns,
    failed: details.failed || late !== null,
    seed: details.seed,
    path: details.counterexamplePath,
    counterexample: details.counterexample === null ? null : fc.stringify(details.counterexample),
    error: details.failed ? errorText(details.errorInstance) : late,
    tally: opened.tally.entries(),
    ms: performance.now() - started,
  };
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.name === 'PropertyViolation' ? error.message : (error.stack ?? error.message);
  return String(error);
}

/** What failed and how to replay it, one line each. */
export function failureReport(result: PropertyResult, runs: number): string[] {
  const lines = [`error: ${result.error ?? ''}`];
  if (result.counterexample !== null) lines.push(`counterexample: ${result.counterexample}`);
  if (result.path !== null) lines.push(`replay: npm run fuzz -- --runs ${runs} --only '${result.name}' --seed ${result.seed} --path '${result.path}'`);
  return lines;
}
