/** The operator CLI's option values: parsed once where commander reads them, so a bad value stops before anything opens. */
import { InvalidArgumentError } from 'commander';
import type { EpochMs } from '../allowlist/types';
import { SOURCE_LABEL } from '../signals/leaks';

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 50;

export function parseLimit(value: string): number {
  const limit = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new InvalidArgumentError(`Expected a whole number from 1 to ${MAX_LIMIT}.`);
  }
  return limit;
}

// A date first, so Date.parse's leniency ("March 7", "1") never turns a typo into some other time.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseSince(value: string): EpochMs {
  const at = /^[0-9]+$/.test(value) ? Number(value) : ISO_TIME.test(value) ? Date.parse(value) : NaN;
  if (!Number.isSafeInteger(at) || at < 0) {
    throw new InvalidArgumentError('Expected an ISO 8601 time (2026-01-31 or 2026-01-31T12:00:00Z) or milliseconds since the epoch.');
  }
  return at;
}

/** A leak report's source label, as the audit names its actor (`intel:<source>`). */
export function parseSource(value: string): string {
  if (!SOURCE_LABEL.test(value)) throw new InvalidArgumentError('Expected 1 to 64 letters, digits and . _ : @ / - (starting with a letter or digit).');
  return value;
}
