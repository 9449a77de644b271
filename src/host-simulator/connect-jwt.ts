/** Connect JWTs as Jira makes them (RS256 lifecycle, HS256 pages and webhooks) and Jira's check of the JWTs an app sends it. */
import {
  AsymmetricAlgorithm,
  SymmetricAlgorithm,
  createQueryStringHash,
  decodeSymmetric,
  encodeAsymmetric,
  encodeSymmetric,
  fromMethodAndUrl,
} from 'atlassian-jwt';
import { z } from 'zod';

/** Jira's Connect JWTs live three minutes. */
export const DEFAULT_TTL_SECONDS = 180;

/** The `qsh` claim for a request to `absoluteUrl`, with the path taken relative to `relativeTo` (a base URL). */
export function queryStringHash(method: string, absoluteUrl: string, relativeTo: string): string {
  return createQueryStringHash(fromMethodAndUrl(method.toUpperCase(), absoluteUrl), false, relativeTo);
}

export interface Lifetime {
  /** Epoch seconds. */
  iat: number;
  ttlSeconds: number;
}

export interface LifecycleTokenInput extends Lifetime {
  kid: string;
  privateKeyPem: string;
  clientKey: string;
  /** The descriptor's baseUrl; ACE checks `aud[0]` against it. */
  audience: string;
  method: string;
  url: string;
}

/** The RS256 token of a signed install: `kid` in the header, `iss` the site's clientKey, `aud` the app. */
export function signLifecycleToken(input: LifecycleTokenInput): string {
  const claims = {
    iss: input.clientKey,
    aud: [input.audience],
    qsh: queryStringHash(input.method, input.url, input.audience),
    iat: input.iat,
    exp: input.iat + input.ttlSeconds,
    context: {},
  };
  return encodeAsymmetric(claims, input.privateKeyPem, AsymmetricAlgorithm.RS256, { kid: input.kid });
}

export interface HostTokenInput extends Lifetime {
  sharedSecret: string;
  clientKey: string;
  /** The descriptor's baseUrl; the qsh path is relative to it. */
  appBaseUrl: string;
  method: string;
  url: string;
  /** The user on whose behalf Jira calls; absent for calls no user made. */
  accountId?: string;
}

/** The HS256 token Jira puts on page loads and webhooks. */
export function signHostToken(input: HostTokenInput): string {
  const claims = {
    iss: input.clientKey,
    ...(input.accountId === undefined ? {} : { sub: input.accountId }),
    qsh: queryStringHash(input.method, input.url, input.appBaseUrl),
    iat: input.iat,
    exp: input.iat + input.ttlSeconds,
    context: input.accountId === undefined ? {} : { user: { accountId: input.accountId } },
  };
  return encodeSymmetric(claims, input.sharedSecret, SymmetricAlgorithm.HS256);
}

const appClaimsSchema = z.object({
  iss: z.string(),
  qsh: z.string(),
  iat: z.number(),
  exp: z.number(),
  sub: z.string().optional(),
  aud: z.array(z.string()).optional(),
});
export type AppTokenClaims = z.infer<typeof appClaimsSchema>;

export type AppTokenFailure = 'token_missing' | 'token_invalid' | 'token_expired' | 'issuer_unknown' | 'qsh_mismatch';
export type AppTokenCheck = { ok: true; claims: AppTokenClaims } | { ok: false; code: AppTokenFailure };

export interface AppTokenExpectation {
  sharedSecret: string;
  appKey: string;
  method: string;
  /** The absolute URL the request reached, query included. */
  url: string;
  hostBaseUrl: string;
  /** Epoch seconds. */
  now: number;
}

/** What Jira checks on a JWT an app sends to its REST API: HS256 only, issuer, expiry, qsh. */
export function verifyAppToken(token: string | undefined, expected: AppTokenExpectation): AppTokenCheck {
  if (!token) return { ok: false, code: 'token_missing' };
  let decoded: unknown;
  try {
    decoded = decodeSymmetric(token, expected.sharedSecret, SymmetricAlgorithm.HS256);
  } catch {
    return { ok: false, code: 'token_invalid' };
  }
  const parsed = appClaimsSchema.safeParse(decoded);
  if (!parsed.success) return { ok: false, code: 'token_invalid' };
  const claims = parsed.data;
  if (claims.iss !== expected.appKey) return { ok: false, code: 'issuer_unknown' };
  if (expected.now >= claims.exp) return { ok: false, code: 'token_expired' };
  if (claims.qsh !== queryStringHash(expected.method, expected.url, expected.hostBaseUrl)) {
    return { ok: false, code: 'qsh_mismatch' };
  }
  return { ok: true, claims };
}
