/** Page tokens: signing and verifying the JWT that a rendered page carries, with per-tenant keys. */
import { createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Clock, EpochMs } from '../base/clock';
import { fail, ok, type Result } from '../base/result';
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
  /**
   * How the token must be presented beyond itself (RFC 7800's confirmation claim), as the minting front
   * door asked: `fit: 'principal'` means only beside a Forge Invocation Token whose principal is `sub`.
   * Absent: the token alone is enough (the Connect door).
   */
  cnf?: HolderProof;
  /**
   * On a successor (a token handed out by rotation): the session it continues, as the idHash of the session's
   * first token, and its place in the chain (1 for the first successor). Absent on the token a mint hands out.
   */
  sid?: string;
  seq?: number;
}

/** A page token's confirmation (`cnf`): what its holder must also show. */
export interface HolderProof {
  fit?: 'principal';
}

export type TokenFailure = 'token_malformed' | 'token_invalid' | 'token_expired';

export interface IssuedPageToken {
  token: string;
  claims: PageTokenClaims;
  issuedAt: EpochMs;
  expiresAt: EpochMs;
}

/** A verification's answer; a promise only when the token names a site this node holds no key for yet. */
export type Verdict = Result<PageTokenClaims, TokenFailure>;

/** What a rotation hands on to a session's next token. */
export interface Succession {
  /** The token being replaced: the successor names the same site, user and resource and carries its `cnf`. */
  of: PageTokenClaims;
  /** The session's idHash. */
  session: string;
  seq: number;
  /** The session's expiry (ms): rotation never extends a session. */
  expiresAt: EpochMs;
}

export interface PageTokenCodec {
  issue(input: { clientKey: string; accountId: string; resource: string; ttlSeconds: number; proof?: HolderProof }): IssuedPageToken;
  /** Signs the next token of a session's chain. */
  succeed(succession: Succession): IssuedPageToken;
  /** Rejects only when `isTenant` does (the store cannot be read). */
  verify(token: string): Verdict | Promise<Verdict>;
  /** How much each of its caches holds now: each is bounded, whatever callers send. */
  held(): { tenantKeys: number; unknownTenants: number; verifiedTokens: number };
}

export interface PageTokenOptions {
  /** The app's own secret (PAGE_TOKEN_SECRET); never a tenant's sharedSecret. */
  secret: string;
  appKey: string;
  clock: Clock;
  /**
   * Whether a site has a record (any status). A key is derived only for such a site: a token naming any
   * other `aud` is refused without one, so junk tokens cannot make the node derive and keep keys.
   */
  isTenant: (clientKey: string) => Promise<boolean>;
  /** How many verified tokens to remember (default 10,000); 0 verifies every call in full. */
  rememberVerified?: number;
  /** How many sites' keys to keep (default 10,000); past it the oldest is derived again when next needed. */
  maxTenantKeys?: number;
  /** How many unknown sites to remember as unknown (default 10,000), each for UNKNOWN_TENANT_MS. */
  maxUnknownTenants?: number;
}

const REMEMBER_VERIFIED = 10_000;
const MAX_TENANT_KEYS = 10_000;
const MAX_UNKNOWN_TENANTS = 10_000;
/** How long a site found unknown is answered as unknown without asking the store again. */
export const UNKNOWN_TENANT_MS = 5_000;

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
    typeof c.exp === 'number' &&
    (c.sid === undefined || typeof c.sid === 'string') &&
    (c.seq === undefined || (typeof c.seq === 'number' && Number.isSafeInteger(c.seq) && c.seq > 0)) &&
    (c.sid === undefined) === (c.seq === undefined) &&
    (c.cnf === undefined || (typeof c.cnf === 'object' && c.cnf !== null && !Array.isArray(c.cnf)))
  );
}

export function createPageTokenCodec(options: PageTokenOptions): PageTokenCodec {
  // KeyObjects, not strings: jsonwebtoken verifies far faster with them, and the hot path reuses one per tenant.
  const keys = new BoundedMap<string, KeyObject>(options.maxTenantKeys ?? MAX_TENANT_KEYS);
  const admit = (clientKey: string): KeyObject => {
    let key = keys.get(clientKey);
    if (key === undefined) {
      key = deriveTenantKey(options.secret, clientKey);
      keys.set(clientKey, key);
    }
    return key;
  };
  // Anyone can send a token naming any aud; what such tokens fill is bounded, and each unknown aud is asked once per window.
  const unknown = new BoundedMap<string, EpochMs>(options.maxUnknownTenants ?? MAX_UNKNOWN_TENANTS);

  // A page calls with one token many times, and a signature that verified once verifies forever: only the
  // clock can change the answer, so a remembered token is checked for expiry again and nothing else.
  // Keyed by the whole token, so a token differing by one byte is verified in full. Only tokens we signed get in.
  const verified = new BoundedMap<string, PageTokenClaims>(options.rememberVerified ?? REMEMBER_VERIFIED);

  function verifyWith(token: string, key: KeyObject, aud: string): Verdict {
    let payload: unknown;
    try {
      payload = jwt.verify(token, key, {
        algorithms: [PAGE_TOKEN_ALGORITHM],
        audience: aud,
        issuer: options.appKey,
        clockTimestamp: Math.floor(options.clock.now() / 1000),
      });
    } catch (error) {
      return fail(error instanceof jwt.TokenExpiredError ? 'token_expired' : 'token_invalid');
    }
    if (!isClaims(payload)) return fail('token_invalid');
    // Frozen: a remembered token's claims are handed to every request that carries it.
    const claims = Object.freeze(payload);
    verified.set(token, claims);
    return ok(claims);
  }

  async function verifyForNewTenant(token: string, aud: string): Promise<Verdict> {
    const until = unknown.get(aud);
    if (until !== undefined && options.clock.now() < until) return fail('token_invalid');
    if (!(await options.isTenant(aud))) {
      unknown.set(aud, options.clock.now() + UNKNOWN_TENANT_MS);
      return fail('token_invalid');
    }
    unknown.delete(aud);
    return verifyWith(token, admit(aud), aud);
  }

  return {
    issue({ clientKey, accountId, resource, ttlSeconds, proof }) {
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
        ...(proof === undefined ? {} : { cnf: proof }),
      };
      // Tokens are issued only for installed, enabled sites (the allowlist checks before it asks).
      const token = jwt.sign(claims, admit(clientKey), { algorithm: PAGE_TOKEN_ALGORITHM });
      return { token, claims, issuedAt: now, expiresAt: claims.exp * 1000 };
    },

    succeed({ of, session, seq, expiresAt }) {
      const now = options.clock.now();
      const iat = Math.floor(now / 1000);
      const claims: PageTokenClaims = {
        iss: options.appKey,
        aud: of.aud,
        sub: of.sub,
        jti: randomTokenId(),
        res: of.res,
        iat,
        exp: Math.floor(expiresAt / 1000),
        ...(of.cnf === undefined ? {} : { cnf: of.cnf }),
        sid: session,
        seq,
      };
      const token = jwt.sign(claims, admit(of.aud), { algorithm: PAGE_TOKEN_ALGORITHM });
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
      const key = keys.get(aud);
      return key === undefined ? verifyForNewTenant(token, aud) : verifyWith(token, key, aud);
    },

    held: () => ({ tenantKeys: keys.size, unknownTenants: unknown.size, verifiedTokens: verified.size }),
  };
}

/** A Map that holds at most `limit` keys: the oldest inserted makes room (Map keeps insertion order). 0 holds nothing. */
class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    if (this.limit <= 0) return;
    if (!this.map.has(key) && this.map.size >= this.limit) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, value);
  }

  delete(key: K): void {
    this.map.delete(key);
  }
}
