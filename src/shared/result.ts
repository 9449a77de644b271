/** Failures as values: every decision the core makes is `ok` or a stable code. */

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

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail<C extends string>(code: C): { ok: false; code: C } {
  return { ok: false, code };
}
