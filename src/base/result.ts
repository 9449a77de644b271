/**
 * Failures as values: every verb of the core resolves to `ok` or a stable code, and none rejects for a reason a
 * caller must handle. A store that rejects is turned into `store_unavailable` by `settle`, the one place that does
 * it, which reports the detail once (the code names nothing internal); callers branch on codes, never on errors.
 * A verb built on another passes the inner failure on as it came, so each failure is reported once, by the verb
 * that met it. docs/ARCHITECTURE.md, "How failures travel", lists who settles where.
 */

export type DenyCode =
  | 'token_missing'
  | 'token_malformed'
  | 'token_invalid'
  | 'token_expired'
  | 'token_revoked'
  | 'token_forked'
  | 'token_idle'
  | 'token_replayed'
  | 'token_stale'
  | 'resource_mismatch'
  | 'tenant_unknown'
  | 'tenant_inactive'
  | 'forbidden'
  | 'store_unavailable'
  | 'bad_request';

export type Result<T, C extends string = DenyCode> = { ok: true; value: T } | { ok: false; code: C };

/** What a verb that only the store can fail resolves to: its value, or `store_unavailable`. */
export type Settled<T> = Result<T, 'store_unavailable'>;

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail<C extends string>(code: C): { ok: false; code: C } {
  return { ok: false, code };
}

/** Hears each store rejection a verb turned into `store_unavailable`: the verb's name and the error, for the log. */
export type StoreFailureReport = (verb: string, error: unknown) => void;

/** Runs a verb's work; a rejection is reported once and becomes `store_unavailable`. */
export async function settle<T>(report: StoreFailureReport, verb: string, work: () => Promise<T>): Promise<Settled<T>> {
  try {
    return ok(await work());
  } catch (error) {
    report(verb, error);
    return fail('store_unavailable');
  }
}

/** `settle` for work that already answers a Result: its own codes pass through, a rejection joins them as `store_unavailable`. */
export async function settleResult<R extends { ok: boolean }>(
  report: StoreFailureReport,
  verb: string,
  work: () => Promise<R>,
): Promise<R | { ok: false; code: 'store_unavailable' }> {
  try {
    return await work();
  } catch (error) {
    report(verb, error);
    return fail('store_unavailable');
  }
}
