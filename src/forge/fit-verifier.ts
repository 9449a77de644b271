/**
 * Verifies Forge Invocation Tokens: RS256 only, signed by a key of the configured JWKS (fetched once,
 * refetched on an unknown `kid` at most every 30 s), `iss` forge/invocation-token, `aud` this app,
 * and `exp`, `nbf` in range. Which JWKS is trusted comes from configuration only, never from a claim.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey, type KeyLike } from 'jose';
import { fail, ok, type Result } from '../base/result';
import type { Clock } from '../allowlist/types';
import { FIT_ISSUER, invocationOf, type ForgeInvocation } from './invocation';

/** The only algorithm a FIT may use. */
export const FIT_ALGORITHM = 'RS256';
/** Atlassian's production JWKS; staging and Isolated Cloud are chosen by FORGE_JWKS_URL. */
export const PRODUCTION_JWKS_URL = 'https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json';
/** Clocks differ a little between Atlassian and this node. */
const CLOCK_TOLERANCE_SECONDS = 5;
/** An unknown `kid` refetches the JWKS at most this often: junk tokens cannot make the node hammer Atlassian's CDN. */
const REFETCH_COOLDOWN_MS = 30_000;
/** How long the JWKS, and a key found in it, is trusted before it is fetched again (jose's default). */
const KEY_MEMORY_MS = 10 * 60 * 1000;

export type FitFailure = 'token_invalid' | 'token_expired' | 'keys_unavailable';

export interface FitVerifier {
  verify(token: string): Promise<Result<ForgeInvocation, FitFailure>>;
}

export interface FitVerifierOptions {
  /** FORGE_APP_ID: the only audience accepted. */
  appId: string;
  jwksUrl: string;
  clock: Clock;
}

export function createFitVerifier(options: FitVerifierOptions): FitVerifier {
  const remote = createRemoteJWKSet(new URL(options.jwksUrl), { cooldownDuration: REFETCH_COOLDOWN_MS, cacheMaxAge: KEY_MEMORY_MS });
  // Every Forge call carries a FIT: a key found once by its kid is kept, for as long as the JWKS itself would
  // be, rather than looked up among the JWKS's keys again on every call. Only kids the JWKS holds get in.
  // A known kid is answered at once (no promise): jose hands this function the header it parsed, so the FIT's
  // header is read once, and only after jose refused every algorithm but RS256.
  const found = new Map<string, { key: KeyLike | Uint8Array; until: number }>();
  const keys: JWTVerifyGetKey = (header, token) => {
    const known = header.kid === undefined ? undefined : found.get(header.kid);
    if (known !== undefined && options.clock.now() < known.until) return known.key;
    return remote(header, token).then((key) => {
      if (header.kid !== undefined) found.set(header.kid, { key, until: options.clock.now() + KEY_MEMORY_MS });
      return key;
    });
  };
  return {
    async verify(token) {
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          algorithms: [FIT_ALGORITHM],
          issuer: FIT_ISSUER,
          audience: options.appId,
          requiredClaims: ['exp', 'iat', 'nbf'],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          currentDate: new Date(options.clock.now()),
        }));
      } catch (error) {
        return fail(failureOf(error));
      }
      const invocation = invocationOf(payload);
      return invocation === null ? fail('token_invalid') : ok(invocation);
    },
  };
}

/** jose's failures by kind: an expired token, keys that could not be fetched (fail closed, 503), or anything else (401). */
function failureOf(error: unknown): FitFailure {
  if (error instanceof errors.JWTExpired) return 'token_expired';
  if (error instanceof errors.JWKSTimeout) return 'keys_unavailable';
  // Not one of jose's verification errors: the JWKS could not be fetched or parsed.
  if (!(error instanceof errors.JOSEError) || error.code === 'ERR_JOSE_GENERIC' || error instanceof errors.JWKSInvalid) return 'keys_unavailable';
  return 'token_invalid';
}
