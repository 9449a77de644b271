/** The one place where a failure code becomes an HTTP answer: status, JSON body, WWW-Authenticate. */
import type { Response } from 'express';
import type { DenyCode } from '../src/base/result';

export type ErrorCode = DenyCode | 'keys_unavailable' | 'not_found' | 'conflict' | 'payload_too_large' | 'internal_error' | 'channels_full';

const STATUS: Record<ErrorCode, number> = {
  token_missing: 401,
  token_malformed: 401,
  token_invalid: 401,
  token_expired: 401,
  token_revoked: 401,
  token_forked: 401,
  token_idle: 401,
  token_replayed: 401,
  token_stale: 401,
  tenant_unknown: 401,
  resource_mismatch: 403,
  tenant_inactive: 403,
  forbidden: 403,
  bad_request: 400,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  store_unavailable: 503,
  keys_unavailable: 503,
  channels_full: 503,
  internal_error: 500,
};

const MESSAGE: Record<ErrorCode, string> = {
  token_missing: 'No page token: send Authorization: Bearer <token>.',
  token_malformed: 'The page token is not a well-formed JWT.',
  token_invalid: 'The page token failed verification.',
  token_expired: 'The page token has expired; reload the page.',
  token_revoked: 'Access to this page has been revoked.',
  token_forked: 'This session was used from somewhere else at the same time, so it was ended everywhere; reload the page to start a new one.',
  token_idle: 'The page token was idle too long; reload the page.',
  token_replayed: 'This signed call was already received; a lifecycle JWT is accepted once.',
  token_stale: 'This signed call is older than the last one accepted for the site.',
  tenant_unknown: 'The page token names a site that is not installed.',
  resource_mismatch: 'The page token was issued for another resource.',
  tenant_inactive: 'The app is disabled or uninstalled on this site.',
  forbidden: 'Access is not allowed.',
  bad_request: 'The request is not valid.',
  not_found: 'Nothing here.',
  conflict: 'That exists already.',
  payload_too_large: 'The request body is too large.',
  store_unavailable: 'The session store is unavailable; try again shortly.',
  keys_unavailable: "Atlassian's signing keys could not be fetched to verify the Forge call; try again shortly.",
  internal_error: 'Something went wrong on our side.',
  channels_full: 'This node holds as many live channels as it may; the page carries on without one.',
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

export function messageOf(code: ErrorCode): string {
  return MESSAGE[code];
}

/** Answers `{"error": {"code", "message"}}`; 401s carry an RFC 6750 challenge. */
export function sendError(res: Response, code: ErrorCode, message: string = MESSAGE[code]): void {
  const status = STATUS[code];
  if (status === 401) {
    // RFC 6750 3.1: a request without credentials gets a challenge but no error code.
    res.set(
      'WWW-Authenticate',
      code === 'token_missing'
        ? 'Bearer realm="PanelGuard"'
        : `Bearer realm="PanelGuard", error="invalid_token", error_description="${message.replace(/"/g, "'")}"`,
    );
  } else if (code === 'resource_mismatch') {
    res.set('WWW-Authenticate', `Bearer realm="PanelGuard", error="insufficient_scope", error_description="${message}"`);
  }
  if (status === 503) res.set('Retry-After', '5');
  res.status(status).json({ error: { code, message } });
}

/** One input at fault in a refused request body: its name in the API and what it must be. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** A 400 that names every input at fault (`fields`), with the first one as the message older clients read. */
export function sendFieldErrors(res: Response, message: string, fields: readonly FieldProblem[]): void {
  res.status(STATUS.bad_request).json({ error: { code: 'bad_request', message, fields } });
}

/**
 * A refusal on a Forge call whose FIT verified. Forge keeps 401 for "the FIT did not verify": it never hands
 * a 401's body to the page, which would then show a network failure instead of why. So what would be a 401
 * (a revoked, expired or idle page token, an unknown site) is a 403 here, with the same code and message.
 */
export function sendForgeError(res: Response, code: ErrorCode, message: string = MESSAGE[code]): void {
  if (STATUS[code] !== 401) return sendError(res, code, message);
  res.status(403).json({ error: { code, message } });
}
