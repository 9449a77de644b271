/** What a figure reports: named measurements, each with its unit and, where the issue sets one, its target. */

export type Comparison = '<' | '<=' | '>=' | '>' | '=';

export interface Target {
  op: Comparison;
  value: number;
}

export interface Measurement {
  /** The figure it belongs to, as numbered in docs/PERFORMANCE.md: '1', '2', '3 sqlite'... */
  figure: string;
  /** What was measured, in a few words: 'guard / plain', 'revoke a user with 10,000 tokens'. */
  name: string;
  value: number;
  /** 'x' for ratios, 'req/s', 'µs', 'ms', 'MB', 'per s', 'requests'. */
  unit: string;
  target?: Target;
  /** How it was measured, briefly: 'median of 5 rounds', 'n=200'. */
  note?: string;
}

export type Mark = 'pass' | 'SHORT' | '';

export function mark(m: Measurement): Mark {
  if (m.target === undefined) return '';
  if (!Number.isFinite(m.value)) return 'SHORT';
  const { op, value } = m.target;
  const met =
    op === '<' ? m.value < value : op === '<=' ? m.value <= value : op === '>=' ? m.value >= value : op === '>' ? m.value > value : m.value === value;
  return met ? 'pass' : 'SHORT';
}

/** A figure that could not run (a service missing, say): reported as such, never as a pass. */
export interface Skipped {
  figure: string;
  reason: string;
}

export interface FigureResult {
  measurements: Measurement[];
  /** Raw samples the chart draws, by series name (milliseconds unless the name says otherwise). */
  samples?: Record<string, number[]>;
  skipped?: Skipped[];
  /** Anything else worth keeping in latest.json: per-round numbers, settings. */
  details?: Record<string, unknown>;
}

export interface BenchContext {
  /** The one-minute smoke run: fewer rounds, smaller data; its marks are indicative only. */
  quick: boolean;
  /** A scratch folder the run deletes at its end. */
  scratchDir: string;
  /** Progress lines on stderr, so the table on stdout stays clean. */
  log(message: string): void;
  /** Where the hot path's server writes a V8 CPU profile (--profile); none when absent. */
  profileDir?: string;
}
