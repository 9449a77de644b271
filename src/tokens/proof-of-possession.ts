/** DPoP proofs (RFC 9449): whether a call's proof was signed by the key it names, for this very call, just now, and once. */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify, type JWTHeaderParameters, type JWTPayload, type KeyLike } from 'jose';
import { fail, ok, type Result } from '../base/result';
import type { Clock, EpochMs } from '../base/clock';

/** The call a proof is presented with. */
export interface ProofRequest {
  /** As the server received it; compared case-sensitively, as RFC 9449 says. */
  method: string;
  /** Absolute, as the server was called (its public scheme, host and path); any query or fragment is ignored. */
  url: string;
  /** The page token the call carries; the proof must name its hash (`ath`). */
  accessToken: string;
}

/**
 * Why a proof was refused:
 * - `proof_missing`: the call carries none;
 * - `proof_malformed`: not a compact JWS with a JSON header, or too long to read;
 * - `proof_invalid`: not a proof PanelGuard accepts: its `typ`, `alg` or `jwk`, its signature, or a claim it
 *   lacks or mistypes;
 * - `proof_stale`: issued too long ago or too far ahead of our clock;
 * - `proof_replayed`: a proof with its `jti` was accepted already;
 * - `proof_mismatch`: made for another call: its method (`htm`), URL (`htu`) or token (`ath`) differs.
 */
export type ProofFailure = 'proof_missing' | 'proof_malformed' | 'proof_invalid' | 'proof_stale' | 'proof_replayed' | 'proof_mismatch';

export interface VerifiedProof {
  /** RFC 7638 SHA-256 thumbprint of the key that signed the proof: what a session is bound to. */
  thumbprint: string;
  jti: string;
  issuedAt: EpochMs;
}

export interface ProofVerifier {
  verify(proof: string | undefined | null, request: ProofRequest): Promise<Result<VerifiedProof, ProofFailure>>;
  /** How many proof ids the replay memory holds now; never more than `rememberJtis`. */
  held(): number;
}

export interface ProofVerifierOptions {
  clock: Clock;
  /** How old a proof may be (default 60 s). */
  maxAgeSeconds?: number;
  /** How far ahead of our clock a proof may be dated, for the page's clock running fast (default 5 s). */
  maxFutureSeconds?: number;
  /** How many accepted proof ids to remember against replay (default 100,000); see `SpentProofs` on eviction. */
  rememberJtis?: number;
}

/** The only proof type and the only algorithm accepted: what a page's non-extractable WebCrypto P-256 key makes. */
export const PROOF_TYPE = 'dpop+jwt';
export const PROOF_ALGORITHM = 'ES256';
/** Longer proofs are refused unread. A P-256 proof is about 500 characters. */
export const MAX_PROOF_LENGTH = 4096;

const MAX_AGE_SECONDS = 60;
const MAX_FUTURE_SECONDS = 5;
const REMEMBER_JTIS = 100_000;
const MIN_JTI_LENGTH = 16;
const MAX_JTI_LENGTH = 128;
/** Public keys kept imported, by coordinates: a page signs every call with one key, so few are hot at once. */
const REMEMBER_KEYS = 1_000;

interface ProofKey {
  key: KeyLike;
  thumbprint: string;
}

/** The proof's claims PanelGuard reads, once their types are known. */
interface ProofClaims {
  htm: string;
  htu: string;
  iat: number;
  jti: string;
  ath: string;
}

/**
 * Proof ids accepted lately, oldest first. Each is kept until no proof carrying it could be fresh any more:
 * through `maxAge + maxFuture` after it was accepted, which is never earlier than its `iat + maxAge`, the last
 * moment its proof is fresh. Since that deadline follows acceptance order, the expired ids are always the oldest,
 * and dropping them is a walk from the front.
 *
 * Eviction and security: when the memory is full of ids that have not expired, the oldest is forgotten, and the
 * proof that carried it could be replayed until it goes stale. Forcing that takes more than `rememberJtis` proofs
 * accepted within one window (100,000 by default: about 1,500 a second for 65 seconds on one node), and the replay
 * still names the method, URL and token the captured proof was made for: it repeats that one call, nothing more.
 * Anyone can make accepted proofs with a key of their own, so callers should verify a proof only once the page
 * token it names has checked out; then only holders of live tokens can fill the memory. Without the bound, anyone
 * could grow it without end.
 * The memory is this process's: a proof replayed to another node is not seen here.
 */
class SpentProofs {
  private readonly until = new Map<string, EpochMs>();

  constructor(
    private readonly capacity: number,
    private readonly retainMs: number,
  ) {}

  isSpent(jti: string, now: EpochMs): boolean {
    const until = this.until.get(jti);
    return until !== undefined && until >= now;
  }

  spend(jti: string, now: EpochMs): void {
    this.forgetExpired(now);
    if (this.until.size >= this.capacity) {
      const oldest = this.until.keys().next();
      if (!oldest.done) this.until.delete(oldest.value);
    }
    // Were the clock stepped back, an id spent before and expired since could still be held: it goes to the back,
    // where its new deadline belongs.
    this.until.delete(jti);
    this.until.set(jti, now + this.retainMs);
  }

  get size(): number {
    return this.until.size;
  }

  private forgetExpired(now: EpochMs): void {
    for (const [jti, until] of this.until) {
      if (until >= now) return;
      this.until.delete(jti);
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The header's `jwk` when it is a public P-256 key, else null: a private key in a header means it leaked. */
function publicP256(jwk: unknown): { x: string; y: string } | null {
  if (!isRecord(jwk) || jwk.kty !== 'EC' || jwk.crv !== 'P-256' || 'd' in jwk) return null;
  const { x, y } = jwk;
  return typeof x === 'string' && typeof y === 'string' ? { x, y } : null;
}

function proofClaims(payload: JWTPayload): ProofClaims | null {
  const { htm, htu, iat, jti, ath } = payload;
  if (typeof htm !== 'string' || typeof htu !== 'string' || typeof ath !== 'string') return null;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return null;
  if (typeof jti !== 'string' || jti.length < MIN_JTI_LENGTH || jti.length > MAX_JTI_LENGTH) return null;
  return { htm, htu, iat, jti, ath };
}

/** A URL as RFC 9449 compares them: parsed the WHATWG way (scheme and host lowercased, default port and dot segments dropped), without query or fragment; null when it is none. */
function comparableUrl(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  url.search = '';
  url.hash = '';
  return url.href;
}

/** What a proof's `ath` must be for this token: base64url of its SHA-256. */
function tokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

/** Thrown from inside jose's verification when the header names a type, algorithm or key PanelGuard does not take. */
const HEADER_REFUSED = Symbol('proof header refused');

const coordinatesKey = (x: string, y: string): string => `${x}.${y}`;

/**
 * Whether a proof's `htu` names the URL called, as RFC 9449 compares them. The same text is the same URL (the
 * request's is always absolute), which spares the two parses on every call a page makes.
 */
function sameUrl(htu: string, url: string): boolean {
  if (htu === url) return true;
  const named = comparableUrl(htu);
  return named !== null && named === comparableUrl(url);
}

/** A failed verification in proof terms: a header that does not even decode is malformed; the rest is jose's. */
function refusalOf(proof: string, error: unknown): ProofFailure {
  try {
    decodeProtectedHeader(proof);
  } catch {
    return 'proof_malformed';
  }
  return joseFailure(error);
}

/** A jose failure in proof terms: an `exp` or `nbf` that rules the proof out now is staleness, anything else invalidity. */
function joseFailure(error: unknown): ProofFailure {
  const { code, claim } = isRecord(error) ? error : {};
  if (code === 'ERR_JWT_EXPIRED') return 'proof_stale';
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'nbf') return 'proof_stale';
  return 'proof_invalid';
}

export function createProofVerifier(options: ProofVerifierOptions): ProofVerifier {
  const { clock } = options;
  const maxAgeMs = (options.maxAgeSeconds ?? MAX_AGE_SECONDS) * 1000;
  const maxFutureMs = (options.maxFutureSeconds ?? MAX_FUTURE_SECONDS) * 1000;
  const rememberJtis = options.rememberJtis ?? REMEMBER_JTIS;
  if (!Number.isSafeInteger(rememberJtis) || rememberJtis < 1) throw new RangeError('rememberJtis must be a positive integer');
  const spent = new SpentProofs(rememberJtis, maxAgeMs + maxFutureMs);
  // Importing a key (which checks its point is on the curve) and hashing its thumbprint cost as much again as
  // verifying the signature: do both once per key.
  const keys = new Map<string, ProofKey>();

  async function proofKey(x: string, y: string): Promise<ProofKey | null> {
    const coordinates = coordinatesKey(x, y);
    const known = keys.get(coordinates);
    if (known) return known;
    let key: KeyLike | Uint8Array;
    let thumbprint: string;
    try {
      key = await importJWK({ kty: 'EC', crv: 'P-256', x, y }, PROOF_ALGORITHM);
      thumbprint = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x, y }, 'sha256');
    } catch {
      return null; // no key: coordinates off the curve or of the wrong length
    }
    if (key instanceof Uint8Array) return null;
    if (keys.size >= REMEMBER_KEYS) {
      const oldest = keys.keys().next();
      if (!oldest.done) keys.delete(oldest.value);
    }
    const imported = { key, thumbprint };
    keys.set(coordinates, imported);
    return imported;
  }

  /**
   * The key a proof's header names, once that header passes: the exact type, and a public P-256 key. jose calls
   * this with the header it parsed, after refusing every algorithm but ES256, so the proof is parsed once and no
   * other algorithm or key type reaches the signature check. The type is compared exactly, as RFC 9449 writes
   * it (jose's own check would also take `application/DPoP+JWT`). A key seen before is answered at once.
   */
  function signerOf(header: JWTHeaderParameters): ProofKey | Promise<ProofKey> {
    if (header.typ !== PROOF_TYPE || header.alg !== PROOF_ALGORITHM) throw HEADER_REFUSED;
    const coordinates = publicP256(header.jwk);
    if (!coordinates) throw HEADER_REFUSED;
    const known = keys.get(coordinatesKey(coordinates.x, coordinates.y));
    if (known !== undefined) return known;
    return proofKey(coordinates.x, coordinates.y).then((imported) => {
      if (!imported) throw HEADER_REFUSED;
      return imported;
    });
  }

  async function verify(proof: string | undefined | null, request: ProofRequest): Promise<Result<VerifiedProof, ProofFailure>> {
    if (!proof) return fail('proof_missing');
    if (proof.length > MAX_PROOF_LENGTH || proof.split('.').length !== 3) return fail('proof_malformed');

    const now = clock.now();
    // Set by jose's call for the key (a closure, so its type is not narrowed to null here).
    let signer = null as ProofKey | null;
    const keyFor = (header: JWTHeaderParameters): KeyLike | Promise<KeyLike> => {
      const found = signerOf(header);
      if (found instanceof Promise) return found.then((imported) => (signer = imported).key);
      return (signer = found).key;
    };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(proof, keyFor, { algorithms: [PROOF_ALGORITHM], currentDate: new Date(now) }));
    } catch (error) {
      return fail(error === HEADER_REFUSED ? 'proof_invalid' : refusalOf(proof, error));
    }
    const claims = proofClaims(payload);
    if (!claims || signer === null) return fail('proof_invalid');

    const issuedAt = claims.iat * 1000;
    if (issuedAt < now - maxAgeMs || issuedAt > now + maxFutureMs) return fail('proof_stale');
    if (claims.htm !== request.method) return fail('proof_mismatch');
    if (!sameUrl(claims.htu, request.url)) return fail('proof_mismatch');
    if (claims.ath !== tokenHash(request.accessToken)) return fail('proof_mismatch');

    // No await from here on: checking and spending the id is one step, so two calls racing with one proof
    // cannot both pass.
    if (spent.isSpent(claims.jti, now)) return fail('proof_replayed');
    spent.spend(claims.jti, now);
    return ok({ thumbprint: signer.thumbprint, jti: claims.jti, issuedAt });
  }

  return { verify, held: () => spent.size };
}
