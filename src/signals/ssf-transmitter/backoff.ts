/** When a SET whose push failed is tried again: exponential backoff with jitter, or when the receiver said. */
import type { EpochMs } from '../../allowlist/types';

export interface RetryPolicy {
  /** The delay before the first retry. */
  baseMs: number;
  /** No delay is longer, whatever the number of failures. */
  maxMs: number;
}

/** A receiver's Retry-After is followed for at most this long; past it, the SET is tried anyway. */
const LONGEST_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * The delay after the `failures`th failed push (1 after the first): the base doubled once per failure before it,
 * capped, then drawn between half and all of that ("equal jitter"), so that SETs that failed together, on one
 * node or several, do not all come back at the same instant. `random` is in [0, 1).
 */
export function retryDelay(failures: number, policy: RetryPolicy, random: () => number): number {
  // 2^52 already dwarfs any cap; a larger exponent would only overflow to Infinity.
  const doubled = policy.baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 52);
  const ceiling = Math.min(policy.maxMs, doubled);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * The time a Retry-After header names (RFC 9110: delay-seconds or an HTTP-date), no earlier than `now` and no later
 * than a day from it; null when the header is absent or unreadable.
 */
export function retryAfter(header: string | null, now: EpochMs): EpochMs | null {
  if (header === null) return null;
  const value = header.trim();
  let at: EpochMs;
  if (/^[0-9]+$/.test(value)) {
    at = now + Number(value) * 1000;
  } else {
    const date = Date.parse(value);
    if (Number.isNaN(date)) return null;
    at = date;
  }
  return Math.min(Math.max(at, now), now + LONGEST_RETRY_AFTER_MS);
}
