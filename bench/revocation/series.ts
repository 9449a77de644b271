/** What every series of figure 4 shares: how many revocations it makes, and how it reads in a progress line. */
import { quantile } from '../lib/stats';

export interface SampleCounts {
  /** Revocations made first and left out of the latencies (never out of the failure counts). */
  warmup: number;
  samples: number;
}

/** `p50 7.9 ms, p99 23.3 ms`. */
export function summary(samples: readonly number[]): string {
  return `p50 ${quantile(samples, 0.5).toFixed(1)} ms, p99 ${quantile(samples, 0.99).toFixed(1)} ms`;
}
