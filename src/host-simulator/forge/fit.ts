/** Forge Invocation Tokens (FITs) as Atlassian mints them, the JWKS that vouches for them, and the forgeries tests send. */
import { createHmac, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { randomHex, randomUuid } from '../../tokens/random';

export const FIT_ISSUER = 'forge/invocation-token';
/** Atlassian's documented example lives 25 seconds (iat 1700175149, exp 1700175174). */
export const FIT_TTL_SECONDS = 25;

/** One entry of `app.installation.contexts`: a site (Jira, Confluence) the installation is on. */
export interface FitInstallationContext {
  name: string;
  apiBaseUrl: string;
  cloudId: string;
}

/** Present only for paid apps in production; the simulator sends it only when told to. */
export interface FitLicense {
  active: boolean;
  billingPeriod: string;
  capabilitySet: string;
  ccpEntitlementId: string;
  ccpEntitlementSlug: string;
  isEvaluation: boolean;
  subscriptionEndDate: string;
  supportEntitlementNumber: null;
  trialEndDate: string;
  type: string;
  modes: string[];
}

export interface FitAppClaims {
  id: string;
  /** Deprecated by Atlassian but still sent. */
  version: string;
  appVersion: string;
  installationId: string;
  apiBaseUrl: string;
  installation: { id: string; contexts: FitInstallationContext[] };
  environment: { type: string; id: string };
  module: { type: string; key: string };
  license?: FitLicense;
}

/** What a UI module's call says about where it ran; events carry none. */
export interface FitContextClaims {
  localId: string;
  cloudId: string;
  moduleKey: string;
  siteUrl: string;
  extension: Record<string, unknown>;
}

export interface FitClaims {
  app: FitAppClaims;
  context?: FitContextClaims;
  /** The user's accountId, on UI calls only. */
  principal?: string;
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
}

export interface FitInput {
  app: Omit<FitAppClaims, 'module' | 'license'>;
  module: FitAppClaims['module'];
  context?: FitContextClaims;
  principal?: string;
  license?: FitLicense;
  /** Epoch seconds. */
  now: number;
}

/** The claims, in the order Atlassian's example lists them. */
export function fitClaims(input: FitInput): FitClaims {
  const { installation, environment, ...app } = input.app;
  return {
    app: {
      id: app.id,
      version: app.version,
      appVersion: app.appVersion,
      installationId: app.installationId,
      apiBaseUrl: app.apiBaseUrl,
      installation,
      environment,
      module: input.module,
      ...(input.license === undefined ? {} : { license: input.license }),
    },
    ...(input.context === undefined ? {} : { context: input.context }),
    ...(input.principal === undefined ? {} : { principal: input.principal }),
    aud: app.id,
    iss: FIT_ISSUER,
    iat: input.now,
    nbf: input.now,
    exp: input.now + FIT_TTL_SECONDS,
    jti: randomHex(20),
  };
}

/**
 * How a token is signed. Only `genuine` is what Forge sends; the rest are attacks a remote must refuse:
 * a key the JWKS does not hold under the genuine kid or under a kid it has never listed, a genuine key
 * under an algorithm off the allowlist, the public key used as an HMAC secret, and no signature at all.
 */
export type FitSigning = 'genuine' | 'foreign-key' | 'unknown-kid' | 'rs512' | 'hs256-public-key' | 'none';

/** Changes to a genuine FIT, for tests of a remote's refusals. Every field is optional. */
export interface FitForgery {
  signing?: FitSigning;
  /** Another user; null removes the claim. */
  principal?: string | null;
  /** Another installation, in both `app.installationId` and `app.installation.id`. */
  installationId?: string;
  aud?: string;
  iss?: string;
  /** Epoch seconds. */
  iat?: number;
  nbf?: number;
  exp?: number;
  /** iat and nbf a minute ago, exp 35 seconds ago. */
  expired?: boolean;
  /** Another `app.module`. */
  module?: FitAppClaims['module'];
  /** Another `context.moduleKey`. */
  moduleKey?: string;
  /** Another `context.extension`. */
  extension?: Record<string, unknown>;
  /** Any other change, applied last to a copy of the claims. */
  edit?: (claims: FitClaims) => Record<string, unknown>;
}

/** A copy of `claims` with the forgery's changes; `now` in epoch seconds. */
export function forgeClaims(claims: FitClaims, forgery: FitForgery, now: number): Record<string, unknown> {
  const forged: FitClaims = structuredClone(claims);
  if (forgery.principal === null) delete forged.principal;
  else if (forgery.principal !== undefined) forged.principal = forgery.principal;
  if (forgery.installationId !== undefined) {
    forged.app.installationId = forgery.installationId;
    forged.app.installation.id = forgery.installationId;
  }
  if (forgery.aud !== undefined) forged.aud = forgery.aud;
  if (forgery.iss !== undefined) forged.iss = forgery.iss;
  if (forgery.expired === true) Object.assign(forged, { iat: now - 60, nbf: now - 60, exp: now - 35 });
  if (forgery.iat !== undefined) forged.iat = forgery.iat;
  if (forgery.nbf !== undefined) forged.nbf = forgery.nbf;
  if (forgery.exp !== undefined) forged.exp = forgery.exp;
  if (forgery.module !== undefined) forged.app.module = { ...forgery.module };
  if (forged.context !== undefined) {
    if (forgery.moduleKey !== undefined) forged.context.moduleKey = forgery.moduleKey;
    if (forgery.extension !== undefined) forged.context.extension = structuredClone(forgery.extension);
  }
  return forgery.edit === undefined ? { ...forged } : forgery.edit(forged);
}

export interface FitSigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface RsaJwk {
  kty: 'RSA';
  n: string;
  e: string;
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

function generateKey(kid: string): FitSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicKey };
}

function newKid(): string {
  return `${FIT_ISSUER}/${randomUuid()}`;
}

function segment(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Forge's FIT signer: the keys its JWKS lists (newest signs), and one it never lists, for forgeries. */
export class FitIssuer {
  private keys: FitSigningKey[];
  private foreign: FitSigningKey | undefined;

  constructor(kid: string = newKid()) {
    this.keys = [generateKey(kid)];
  }

  /** The kid genuine FITs carry now. */
  get kid(): string {
    return this.current.kid;
  }

  /** What `GET /.well-known/jwks.json` answers. */
  jwks(): { keys: RsaJwk[] } {
    return {
      keys: this.keys.map((key) => {
        const jwk = key.publicKey.export({ format: 'jwk' });
        return { kty: 'RSA', n: String(jwk.n), e: String(jwk.e), kid: key.kid, alg: 'RS256', use: 'sig' };
      }),
    };
  }

  /**
   * Starts signing with a new key. The old one stays in the JWKS unless `retirePrevious`, as during a
   * real rotation, so a remote that caches the JWKS must fetch it again on an unknown kid.
   */
  rotate(opts: { retirePrevious?: boolean } = {}): string {
    const key = generateKey(newKid());
    this.keys = opts.retirePrevious === true ? [key] : [key, ...this.keys];
    return key.kid;
  }

  sign(claims: object, signing: FitSigning = 'genuine'): string {
    const payload = segment(claims);
    switch (signing) {
      case 'genuine':
        return this.rsa('RS256', 'sha256', this.current.kid, this.current, payload);
      case 'foreign-key':
        return this.rsa('RS256', 'sha256', this.current.kid, this.foreignKey(), payload);
      case 'unknown-kid':
        return this.rsa('RS256', 'sha256', this.foreignKey().kid, this.foreignKey(), payload);
      case 'rs512':
        return this.rsa('RS512', 'sha512', this.current.kid, this.current, payload);
      case 'hs256-public-key': {
        const input = `${segment({ alg: 'HS256', kid: this.current.kid })}.${payload}`;
        const secret = this.current.publicKey.export({ type: 'spki', format: 'pem' });
        return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      }
      case 'none':
        return `${segment({ alg: 'none', kid: this.current.kid })}.${payload}.`;
    }
  }

  private get current(): FitSigningKey {
    return this.keys[0];
  }

  private foreignKey(): FitSigningKey {
    this.foreign ??= generateKey(newKid());
    return this.foreign;
  }

  private rsa(alg: 'RS256' | 'RS512', hash: 'sha256' | 'sha512', kid: string, key: FitSigningKey, payload: string): string {
    const input = `${segment({ alg, kid })}.${payload}`;
    const signature = createSign(`RSA-${hash.toUpperCase()}`).update(input).sign(key.privateKey).toString('base64url');
    return `${input}.${signature}`;
  }
}
