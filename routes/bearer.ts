/** The one reader of `Authorization: Bearer <credential>`; the scheme name is case-insensitive (RFC 7235 2.1). */

/** Longest header taken: a page token is far shorter, and nothing longer is worth parsing. */
export const MAX_AUTHORIZATION_LENGTH = 4096;

/** Any printable credential without spaces: operator tokens may hold more than RFC 6750's b64token does. */
const BEARER = /^bearer +([\x21-\x7e]+) *$/i;
/** A compact JWS: what a page token must look like before anything else is asked of it. */
export const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Both at once: a bearer credential that is a compact JWS, read in one pass (the Connect door's page token, on every call). */
const BEARER_JWT = /^bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*) *$/i;

export type BearerRead = { ok: true; credential: string } | { ok: false; code: 'token_missing' | 'token_malformed' };

export function readBearer(header: string | undefined): BearerRead {
  return readWith(BEARER, header);
}

/** As `readBearer`, then the credential held to `JWT_SHAPE`; the same answers as the two in turn. */
export function readBearerJwt(header: string | undefined): BearerRead {
  return readWith(BEARER_JWT, header);
}

function readWith(pattern: RegExp, header: string | undefined): BearerRead {
  if (header === undefined || header.length === 0) return { ok: false, code: 'token_missing' };
  const match = header.length <= MAX_AUTHORIZATION_LENGTH ? pattern.exec(header) : null;
  return match === null ? { ok: false, code: 'token_malformed' } : { ok: true, credential: match[1] };
}
