/**
 * Tokens an attacker could present, made from real page tokens: bit flips, cuts, another `alg` (`none`
 * among them), claims swapped under the old signature, re-signed with a wrong key, and plain garbage.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import fc from 'fast-check';

/** A token and how it was made from its source, for failure messages. */
export interface Forgery {
  token: string;
  how: string;
}

interface Parts {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: string;
}

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function partsOf(token: string): Parts {
  const [header, payload, signature] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>,
    signingInput: `${header}.${payload}`,
    signature,
  };
}

type Hmac = 'sha256' | 'sha384' | 'sha512';
const HMAC_OF: Record<string, Hmac> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

export function sign(header: Record<string, unknown>, payload: Record<string, unknown>, key: Buffer | string, hash: Hmac = 'sha256'): string {
  const input = `${encode(header)}.${encode(payload)}`;
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}

/**
 * The app's per-tenant page-token key, derived as src/tokens/page-token.ts derives it: what a forger who had
 * PAGE_TOKEN_SECRET would sign with. `TokenKeys.assertDerivation` checks it still matches the app's.
 */
export function tenantKey(secret: string, clientKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'panelguard/page-token/v1', clientKey, 32));
}

export interface TokenKeys {
  /** PAGE_TOKEN_SECRET. */
  secret: string;
  /** Every site's clientKey and Connect shared secret. */
  sites: { clientKey: string; sharedSecret: string }[];
}

/** Fails loudly if re-signing a real token with the derived key no longer reproduces it: the forgeries would be weaker than they claim. */
export function assertDerivation(keys: TokenKeys, token: string): void {
  const { header, payload } = partsOf(token);
  if (sign(header, payload, tenantKey(keys.secret, String(payload.aud))) !== token) {
    throw new Error('forgeries.ts derives page-token keys differently from the app: update tenantKey()');
  }
}

const BASE64URL = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];
/** Characters an HTTP client may send in a header value. */
const HEADER_CHARS = [...Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)), '\t', 'é', '\u00ff'];

export const base64urlChars = (options: fc.StringConstraints = {}) => fc.string({ unit: fc.constantFrom(...BASE64URL), ...options });
export const headerText = (options: fc.StringConstraints = {}) => fc.string({ unit: fc.constantFrom(...HEADER_CHARS), ...options });

/** Claim values worth trying in place of a real one: other tokens' values, the wrong type, nothing. */
function claimValue(pool: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...pool) },
    fc.string({ maxLength: 40 }),
    fc.integer(),
    fc.constantFrom(null, true, [], {}, ['x'], 0, -1, 1e21, 'undefined'),
  );
}

const CLAIMS = ['iss', 'aud', 'sub', 'jti', 'res', 'iat', 'exp'] as const;

export interface ForgeryOptions {
  /** Real page tokens to start from, every standing. */
  sources: readonly string[];
  keys: TokenKeys;
  /**
   * Whether to include tokens signed with the app's own key for changed claims (`aud`, `sub`, `res` or `jti`
   * differ from every real token's). Only the allowlist can refuse those, not the signature check.
   */
  withAppKey: boolean;
}

/** Tokens made from real ones; every one differs from the token it was made from. */
export function forgeries(options: ForgeryOptions): fc.Arbitrary<Forgery> {
  const { sources, keys } = options;
  const parsed = sources.map(partsOf);
  const pool = [...new Set(parsed.flatMap((p) => CLAIMS.map((claim) => p.payload[claim])))];
  const source = fc.nat({ max: sources.length - 1 });
  const unlike = (made: fc.Arbitrary<Forgery>) => made.filter((f) => !sources.includes(f.token));

  // One character changed, inserted or removed anywhere, or a bit of one decoded segment flipped.
  const flipped = fc.tuple(source, fc.nat(), fc.nat({ max: 7 }), fc.nat({ max: 2 })).map(([i, at, bit, segment]): Forgery => {
    const segments = sources[i].split('.');
    const bytes = Buffer.from(segments[segment], 'base64url');
    if (bytes.length === 0) return { token: `${sources[i]}A`, how: `token ${i} with a character added` };
    bytes[at % bytes.length] ^= 1 << bit;
    segments[segment] = bytes.toString('base64url');
    return { token: segments.join('.'), how: `token ${i}, bit ${bit} of byte ${at % bytes.length} of segment ${segment} flipped` };
  });
  const retyped = fc.tuple(source, fc.nat(), fc.constantFrom(...HEADER_CHARS), fc.constantFrom('replace', 'insert', 'delete')).map(
    ([i, at, char, edit]): Forgery => {
      const token = sources[i];
      const k = at % token.length;
      const edited = edit === 'replace' ? token.slice(0, k) + char + token.slice(k + 1) : edit === 'insert' ? token.slice(0, k) + char + token.slice(k) : token.slice(0, k) + token.slice(k + 1);
      return { token: edited, how: `token ${i}, ${edit} ${JSON.stringify(char)} at ${k}` };
    },
  );
  const truncated = fc.tuple(source, fc.nat()).map(([i, at]): Forgery => {
    const k = at % sources[i].length;
    return { token: sources[i].slice(0, k), how: `token ${i} cut to ${k} characters` };
  });
  const withoutSignature = fc.tuple(source, fc.constantFrom('', '.', '.AAAA', '.' + '_'.repeat(43))).map(([i, tail]): Forgery => ({
    token: parsed[i].signingInput + tail,
    how: `token ${i} with signature ${JSON.stringify(tail)}`,
  }));

  // Another algorithm in the header. With the app's own key too: the algorithm is pinned, not negotiated.
  const algorithm = fc.constantFrom('none', 'None', 'NONE', 'nOnE', 'HS384', 'HS512', 'RS256', 'ES256', 'PS256', 'EdDSA', '', 'HS256 ', 'hs256', null, 256);
  const realigned = fc
    .tuple(source, algorithm, fc.constantFrom('empty', 'kept', 'app key', 'shared secret'), fc.boolean())
    .map(([i, alg, signature, dropTyp]): Forgery => {
      const { header, payload } = parsed[i];
      const newHeader: Record<string, unknown> = dropTyp ? { alg } : { ...header, alg };
      const input = `${encode(newHeader)}.${encode(payload)}`;
      const hash = typeof alg === 'string' ? HMAC_OF[alg] : undefined;
      const key = signature === 'app key' ? tenantKey(keys.secret, String(payload.aud)) : keys.sites[0]?.sharedSecret ?? 'x';
      const tail =
        signature === 'empty' ? '' : signature === 'kept' || hash === undefined ? parsed[i].signature : createHmac(hash, key).update(input).digest('base64url');
      return { token: `${input}.${tail}`, how: `token ${i} with alg ${JSON.stringify(alg)}, signature ${signature}` };
    });

  // A claim replaced (or removed, or added) under the old signature.
  const swapped = fc
    .tuple(source, fc.constantFrom(...CLAIMS, 'nbf', 'extra'), fc.option(claimValue(pool), { nil: undefined }))
    .map(([i, claim, value]): Forgery => {
      const payload: Record<string, unknown> = { ...parsed[i].payload, [claim]: value };
      if (value === undefined) delete payload[claim];
      return { token: `${encode(parsed[i].header)}.${encode(payload)}.${parsed[i].signature}`, how: `token ${i} with ${claim} ${value === undefined ? 'removed' : `= ${JSON.stringify(value)}`}, old signature` };
    });

  // Claims (maybe changed) signed HS256 with a key that is not the tenant's page-token key.
  const wrongKeys: { name: string; key: (aud: string) => Buffer | string }[] = [
    { name: 'a random key', key: () => 'an attacker who guessed this key' },
    { name: 'the raw PAGE_TOKEN_SECRET', key: () => keys.secret },
    ...keys.sites.map((site) => ({ name: `${site.clientKey}'s Connect shared secret`, key: () => site.sharedSecret })),
    ...keys.sites.map((site) => ({
      name: `${site.clientKey}'s page-token key`,
      key: (aud: string) => (aud === site.clientKey ? 'never the right key' : tenantKey(keys.secret, site.clientKey)),
    })),
    { name: 'a key derived for a near-miss clientKey', key: (aud: string) => tenantKey(keys.secret, `${aud}/`) },
  ];
  const resigned = fc
    .tuple(source, fc.nat({ max: wrongKeys.length - 1 }), fc.option(fc.tuple(fc.constantFrom(...CLAIMS), claimValue(pool)), { nil: undefined }))
    .map(([i, k, change]): Forgery => {
      const payload = change === undefined ? parsed[i].payload : { ...parsed[i].payload, [change[0]]: change[1] };
      return {
        token: sign(parsed[i].header, payload, wrongKeys[k].key(String(payload.aud))),
        how: `token ${i}${change === undefined ? '' : ` with ${change[0]} = ${JSON.stringify(change[1])}`}, signed with ${wrongKeys[k].name}`,
      };
    });

  // Signed with the right key for its (new) aud, but the entry it names does not match: only the allowlist can tell.
  const bound = ['aud', 'sub', 'res', 'jti'] as const;
  const appKeyForged = fc
    .tuple(source, fc.subarray([...bound], { minLength: 1 }), fc.array(fc.constantFrom(...pool), { minLength: 4, maxLength: 4 }))
    .map(([i, claims, values]): Forgery => {
      const payload: Record<string, unknown> = { ...parsed[i].payload };
      claims.forEach((claim, n) => {
        payload[claim] = values[n];
      });
      return { token: sign(parsed[i].header, payload, tenantKey(keys.secret, String(payload.aud))), how: `token ${i} with ${claims.map((c) => `${c} = ${JSON.stringify(payload[c])}`).join(', ')}, signed with the app's own key` };
    })
    .filter((f) => {
      // Excluded: a copy of a real token's binding (that would be the real token, re-signed).
      const { payload } = partsOf(f.token);
      return !parsed.some((p) => bound.every((claim) => p.payload[claim] === payload[claim]));
    });

  const garbage = fc.oneof(
    fc.tuple(base64urlChars({ minLength: 1, maxLength: 60 }), base64urlChars({ minLength: 1, maxLength: 200 }), base64urlChars({ maxLength: 60 })).map(
      ([h, p, s]): Forgery => ({ token: `${h}.${p}.${s}`, how: 'three random segments' }),
    ),
    headerText({ maxLength: 120 }).map((token): Forgery => ({ token, how: 'random text' })),
    fc.tuple(source, source).map(([i, j]): Forgery => ({ token: `${sources[i]}${sources[j]}`, how: `tokens ${i} and ${j} run together` })),
    fc.tuple(source, fc.nat({ max: 4 })).map(([i, n]): Forgery => ({ token: sources[i].replace(/\./g, '.'.repeat(n)), how: `token ${i} with its dots ×${n}` })),
  );

  return unlike(
    fc.oneof(
      flipped,
      retyped,
      truncated,
      withoutSignature,
      realigned,
      swapped,
      resigned,
      ...(options.withAppKey ? [appKeyForged] : []),
      garbage,
    ),
  );
}

/** The real tokens themselves and forgeries made from them, about one in six real. */
export function presentedTokens(options: ForgeryOptions): fc.Arbitrary<Forgery> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.nat({ max: options.sources.length - 1 }).map((i): Forgery => ({ token: options.sources[i], how: `token ${i} as minted` })) },
    { weight: 5, arbitrary: forgeries(options) },
  );
}
