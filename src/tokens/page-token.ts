/** Page tokens: signing and verifying the JWT that a rendered page carries, with per-tenant keys. */
import { createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Clock, EpochMs } from '../allowlist/types';
import { fail, ok, type Result } from '../allowlist/result';
import { randomTokenId } from './random';

/** The only algorithm a page token may use; anything else is refused before the signature is checked. */
export const PAGE_TOKEN_ALGORITHM = 'HS256';

export interface PageTokenClaims {
  /** the app key */
  iss: string;
  /** the tenant's clientKey */
  aud: string;
  /** the user's accountId */
  sub: string;
  /** 128-bit random id; stored only as a hash */
  jti: string;
  /** the resource the token is bound to */
  res: string;
  iat: number;
  exp: number;
}

export type TokenFailure = 'token_malformed' | 'token_invalid' | 'token_expired';

export interface IssuedPageToken {
  token: string;
  claims: PageTokenClaims;
  issuedAt: EpochMs;
  expiresAt: EpochMs;
}

export interface PageTokenCodec {
  issue(input: { clientKey: string; accountId: string; resource: string; ttlSeconds: number }): IssuedPageToken;
  verify(token: string): Result<PageTokenClaims, TokenFailure>;
}

export interface PageTokenOptions {
  /** The app's own secret (PAGE_TOKEN_SECRET); never a tenant's sharedSecret. */
  secret: string;
  appKey: string;
  clock: Clock;
  /** How many verified tokens to remember (default 10,000); 0 verifies every call in full. */
  rememberVerified?: number;
}

const REMEMBER_VERIFIED = 10_000;

const KEY_SALT = 'panelguard/page-token/v1';

/** Derives one HMAC key per tenant, so a leaked key (or a bug keyed on the wrong tenant) reaches one tenant only. */
function deriveTenantKey(secret: string, clientKey: string): KeyObject {
  const bytes = hkdfSync('sha256', secret, KEY_SALT, clientKey, 32);
  return createSecretKey(Buffer.from(bytes));
}

function isClaims(value: unknown): value is PageTokenClaims {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return (
    typeof c.iss === 'string' &&
    typeof c.aud === 'string' &&
    typeof c.sub === 'string' &&
    typeof c.jti === 'string' &&
    typeof c.res === 'string' &&
    typeof c.iat === 'number' &&
    typeof c.exp === 'number'
  );
}

export function createPageTokenCodec(options: PageTokenOptions): PageTokenCodec {
  // KeyObjects, not strings: jsonwebtoken verifies far faster with them, and the hot path reuses one per tenant.
  const keys = new Map<string, KeyObject>();
  const keyFor = (clientKey: string): KeyObject => {
    let key = keys.get(clientKey);
    if (key === undefined) {
      key = deriveTenantKey(options.secret, clientKey);
      keys.set(clientKey, key);
    }
    return key;
  };

  // A page calls with one token many times, and a signature that verified once verifies forever: only the
  // clock can change the answer, so a remembered token is checked for expiry again and nothing else.
  // Keyed by the whole token, so a token differing by one byte is verified in full.
  const verified = new Map<string, PageTokenClaims>();
  const remember = options.rememberVerified ?? REMEMBER_VERIFIED;

  function verifyInFull(token: string): Result<PageTokenClaims, TokenFailure> {
    let decoded: jwt.Jwt | null;
    try {
      decoded = jwt.decode(token, { complete: true });
    } catch {
      // jsonwebtoken throws, instead of answering null, when the header is JSON and the payload is not.
      return fail('token_malformed');
    }
    if (decoded === null || typeof decoded.payload !== 'object') return fail('token_malformed');
    if (decoded.header.alg !== PAGE_TOKEN_ALGORITHM) return fail('token_invalid');
    const aud = decoded.payload.aud;
    if (typeof aud !== 'string' || aud.length === 0) return fail('token_invalid');
    let payload: unknown;
    try {
      payload = jwt.verify(token, keyFor(aud), {
        algorithms: [PAGE_TOKEN_ALGORITHM],
        audience: aud,
        issuer: options.appKey,
        clockTimestamp: Math.floor(options.clock.now() / 1000),
      });
    } catch (error) {
      return fail(error instanceof jwt.TokenExpiredError ? 'token_expired' : 'token_invalid');
    }
    // Frozen: a remembered token's claims are handed to every request that carries it.
    return isClaims(payload) ? ok(Object.freeze(payload)) : fail('token_invalid');
  }

  return {
    issue({ clientKey, accountId, resource, ttlSeconds }) {
      const now = options.clock.now();
      const iat = Math.floor(now / 1000);
      const claims: PageTokenClaims = {
        iss: options.appKey,
        aud: clientKey,
        sub: accountId,
        jti: randomTokenId(),
        res: resource,
        iat,
        exp: iat + ttlSeconds,
      };
      const token = jwt.sign(claims, keyFor(clientKey), { algorithm: PAGE_TOKEN_ALGORITHM });
      return { token, claims, issuedAt: now, expiresAt: claims.exp * 1000 };
    },

    verify(token) {
      const known = verified.get(token);
      if (known !== undefined) {
        // jsonwebtoken's rule: expired once the clock reaches exp.
        if (Math.floor(options.clock.now() / 1000) < known.exp) return ok(known);
        verified.delete(token);
        return fail('token_expired');
      }
      const result = verifyInFull(token);
      if (result.ok && remember > 0) {
        // The oldest remembered token makes room: Map keeps insertion order.
        if (verified.size >= remember) verified.delete(verified.keys().next().value as string);
        verified.set(token, result.value);
      }
      return result;
    },
  };
}
