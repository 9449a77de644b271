/**
 * What PanelGuard knows of each transmitter a stream names: its configuration (SSF 1.0 section 7, read from
 * `/.well-known/ssf-configuration`) and the signing keys its `jwks_uri` publishes, both fetched when first needed
 * and kept. Only issuers some stream names are ever fetched: an unverified SET's `iss` never makes PanelGuard
 * call anywhere.
 */
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Clock, EpochMs } from '../../allowlist/types';
import { configurationUrl } from './streams';

/** The configuration members PanelGuard uses. */
export interface TransmitterConfiguration {
  issuer: string;
  jwksUri: string;
  /** Complex-subject members the transmitter says a receiver must act on, or discard the event (SSF 1.0 3.6). */
  criticalMembers: readonly string[];
}

/**
 * Why a transmitter cannot be used: `unreachable` (its configuration or keys could not be fetched now; worth
 * trying again) or `unusable` (what it published is wrong for PanelGuard: another issuer, no `jwks_uri`, plain
 * http in production...), with a sentence that names no internals.
 */
export type TransmitterProblem = { code: 'unreachable' | 'unusable'; problem: string };

export type Described = { ok: true; value: TransmitterConfiguration } | ({ ok: false } & TransmitterProblem);

export interface TransmitterKeys {
  /** Reads the transmitter's configuration afresh and checks it (when an admin adds a stream). */
  describe(issuer: string): Promise<Described>;
  /** The transmitter's configuration and a resolver for its signing keys, kept between SETs. */
  keysOf(issuer: string): Promise<{ ok: true; value: { configuration: TransmitterConfiguration; keys: JWTVerifyGetKey } } | ({ ok: false } & TransmitterProblem)>;
}

export interface TransmitterKeysOptions {
  clock: Clock;
  /** Plain http issuers and key sets (development and tests); production takes https only, as SSF 1.0 requires. */
  allowHttp: boolean;
  /** How soon after fetching a key set an unknown `kid` may fetch it again (jose's cooldown). */
  jwksCooldownMs: number;
}

/** The push delivery method's URI (SSF 1.0 6.1.1): a transmitter that lists its methods must list this one. */
export const PUSH_DELIVERY = 'urn:ietf:rfc:8935';
/** How long a configuration read is trusted before it is read again. */
const CONFIGURATION_MEMORY_MS = 60 * 60 * 1000;
/** How long a key set is kept before jose fetches it again (its default), whatever kids arrive. */
const KEY_SET_MEMORY_MS = 10 * 60 * 1000;
const FETCH_TIMEOUT_MS = 5_000;
/** A configuration document is a few hundred bytes; anything far larger is not one. */
const MAX_CONFIGURATION_BYTES = 64 * 1024;
/** Transmitters kept, at most; each is one a stream named. */
const MAX_TRANSMITTERS = 1_000;

const configurationSchema = z
  .object({
    issuer: z.string(),
    jwks_uri: z.string().optional(),
    delivery_methods_supported: z.array(z.string()).optional(),
    critical_subject_members: z.array(z.string()).optional(),
  })
  .passthrough();

interface Kept {
  configuration: TransmitterConfiguration;
  keys: JWTVerifyGetKey;
  until: EpochMs;
}

export function createTransmitterKeys(options: TransmitterKeysOptions): TransmitterKeys {
  const kept = new Map<string, Kept>();
  const reading = new Map<string, Promise<Described>>();

  const unreachable = (problem: string) => ({ ok: false as const, code: 'unreachable' as const, problem });
  const unusable = (problem: string) => ({ ok: false as const, code: 'unusable' as const, problem });

  function secureEnough(url: URL): boolean {
    return url.protocol === 'https:' || (options.allowHttp && url.protocol === 'http:');
  }

  /** GETs one well-known document: the parsed JSON, null on 404, a problem otherwise. */
  async function fetchDocument(url: string): Promise<{ ok: true; value: unknown | null } | ({ ok: false } & TransmitterProblem)> {
    let response: Response;
    try {
      // No redirects: the configuration is served where the issuer says, or not at all.
      response = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch {
      return unreachable(`The transmitter configuration at ${url} could not be fetched.`);
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return { ok: true, value: null };
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      return response.status >= 500 ? unreachable(`The transmitter configuration at ${url} answered ${response.status}.`) : unusable(`The transmitter configuration at ${url} answered ${response.status}.`);
    }
    if (Number(response.headers.get('content-length') ?? 0) > MAX_CONFIGURATION_BYTES) {
      await response.body?.cancel();
      return unusable(`The transmitter configuration at ${url} is too large.`);
    }
    const body = await response.text().catch(() => null);
    if (body === null) return unreachable(`The transmitter configuration at ${url} could not be read.`);
    if (body.length > MAX_CONFIGURATION_BYTES) return unusable(`The transmitter configuration at ${url} is too large.`);
    try {
      return { ok: true, value: JSON.parse(body) as unknown };
    } catch {
      return unusable(`The transmitter configuration at ${url} is not JSON.`);
    }
  }

  async function describe(issuer: string): Promise<Described> {
    // SSF's location first, then the one RISC transmitters may still use (SSF 1.0 7.2.2).
    let document: unknown = null;
    let where = configurationUrl(issuer);
    for (const name of ['ssf-configuration', 'risc-configuration']) {
      where = configurationUrl(issuer, name);
      const fetched = await fetchDocument(where);
      if (!fetched.ok) return fetched;
      document = fetched.value;
      if (document !== null) break;
    }
    if (document === null) return unusable(`The transmitter publishes no configuration at ${configurationUrl(issuer)}.`);
    const parsed = configurationSchema.safeParse(document);
    if (!parsed.success) return unusable(`The transmitter configuration at ${where} is not an SSF configuration.`);
    const metadata = parsed.data;
    // SSF 1.0 7.3: the issuer it states is the one asked about, character for character, or nothing in it is used.
    if (metadata.issuer !== issuer) return unusable(`The transmitter configuration at ${where} names another issuer.`);
    if (metadata.jwks_uri === undefined) return unusable('The transmitter publishes no jwks_uri, so its SETs cannot be verified.');
    let jwks: URL;
    try {
      jwks = new URL(metadata.jwks_uri);
    } catch {
      return unusable('The transmitter\'s jwks_uri is not a URL.');
    }
    if (!secureEnough(jwks)) return unusable('The transmitter\'s jwks_uri must use https.');
    const methods = metadata.delivery_methods_supported;
    if (methods !== undefined && !methods.includes(PUSH_DELIVERY)) return unusable(`The transmitter does not deliver by push (${PUSH_DELIVERY}).`);
    return { ok: true, value: { issuer, jwksUri: jwks.href, criticalMembers: metadata.critical_subject_members ?? [] } };
  }

  /** One read per issuer at a time: SETs arriving together for a transmitter not yet known share it. */
  function describeOnce(issuer: string): Promise<Described> {
    let pending = reading.get(issuer);
    if (pending === undefined) {
      pending = describe(issuer).finally(() => reading.delete(issuer));
      reading.set(issuer, pending);
    }
    return pending;
  }

  function keep(issuer: string, configuration: TransmitterConfiguration, previous: Kept | undefined): Kept {
    // The same key set stays (with what jose fetched of it) unless the transmitter moved it.
    const keys =
      previous !== undefined && previous.configuration.jwksUri === configuration.jwksUri
        ? previous.keys
        : createRemoteJWKSet(new URL(configuration.jwksUri), {
            cooldownDuration: options.jwksCooldownMs,
            cacheMaxAge: KEY_SET_MEMORY_MS,
            timeoutDuration: FETCH_TIMEOUT_MS,
          });
    const entry = { configuration, keys, until: options.clock.now() + CONFIGURATION_MEMORY_MS };
    if (!kept.has(issuer) && kept.size >= MAX_TRANSMITTERS) kept.delete(kept.keys().next().value as string);
    kept.set(issuer, entry);
    return entry;
  }

  return {
    describe,

    async keysOf(issuer) {
      const known = kept.get(issuer);
      if (known !== undefined && options.clock.now() < known.until) return { ok: true, value: known };
      const described = await describeOnce(issuer);
      if (described.ok) return { ok: true, value: keep(issuer, described.value, known) };
      // A transmitter briefly unreachable keeps the configuration it last published; one that now publishes
      // something unusable is not trusted on its old word.
      if (described.code === 'unreachable' && known !== undefined) return { ok: true, value: known };
      if (described.code === 'unusable') kept.delete(issuer);
      return described;
    },
  };
}
