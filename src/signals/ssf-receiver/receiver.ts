/**
 * Takes in Security Event Tokens pushed by the transmitters a site's streams name (RFC 8417, RFC 8935, SSF 1.0),
 * verifies each before it acts, and applies what it says through the core's own verbs: end a user's sessions,
 * tombstone a user, lift a tombstone. A SET is applied once; every failure is one of RFC 8935's error codes.
 */
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Allowlist, RevokeCause } from '../../allowlist/allowlist';
import type { AuditLog } from '../../allowlist/audit';
import type { Removals } from '../../allowlist/removals';
import type { Clock, EpochMs, ReplayLedger, TenantStore } from '../../allowlist/types';
import { ok, settle, settleResult, type Settled, type StoreFailureReport } from '../../base/result';
import { sha256Hex } from '../../tokens/hash';
import { eventTimestampOf, knownEvent, UNKNOWN_EVENT, type KnownEvent } from './events';
import type { SsfStream, SsfStreamStore } from './streams';
import { isAccountId, parseSubject, unprocessedCritical, userKeyOf, type Subject } from './subjects';
import type { TransmitterConfiguration, TransmitterKeys } from './transmitters';

/** The SET error codes RFC 8935 registers (section 7.1); nothing else goes in a 400's `err`. */
export const SET_ERROR_CODES = ['invalid_request', 'invalid_key', 'invalid_issuer', 'invalid_audience', 'authentication_failed', 'access_denied'] as const;

export type SetErrorCode = (typeof SET_ERROR_CODES)[number];

/**
 * Why a SET was not taken: a registered code (a 400), or `unavailable` when it could not be judged or applied just
 * now (the transmitter's keys or the host could not be fetched, the store failed): a general HTTP error, which the
 * transmitter may retry with the very same SET.
 */
export interface SetRefusal {
  ok: false;
  code: SetErrorCode | 'unavailable';
  /** For the transmitter's operators: what was wrong, never a secret nor an internal detail. */
  description: string;
  /** The error behind an `unavailable`, for the log. */
  cause?: unknown;
}

/** What became of one event of an accepted SET. */
export type EventOutcome =
  /** Done: sessions ended, the user tombstoned or lifted. */
  | 'applied'
  /** Older than the last event applied to the user (from any source): changes nothing. */
  | 'stale'
  /** The subject names no user of the site. */
  | 'no_user'
  /** The subject has a member the transmitter marked critical that PanelGuard cannot act on (SSF 1.0 3.6). */
  | 'discarded'
  /** The stream's verification event: recorded. */
  | 'verified'
  /** An event type PanelGuard does not act on. */
  | 'ignored';

export interface Receipt {
  stream: string;
  events: { event: string; outcome: EventOutcome }[];
}

export type SetAnswer = { ok: true; value: Receipt } | SetRefusal;

/** What the receiver reports as it works, for metrics. */
export interface SsfObserver {
  /** Each event of an accepted SET, by its name (`session-revoked`, or `unknown`) and outcome. */
  event(event: string, outcome: EventOutcome): void;
  /** Each SET refused, by code. */
  refused(code: SetRefusal['code']): void;
}

/** Who the site's users are by email, as the host answers. */
export interface UserLookup {
  /** The account id of the site's one user with exactly this email; null for none or several. Rejects when the host cannot be asked. */
  accountIdByEmail(clientKey: string, email: string): Promise<string | null>;
}

export interface ReceiverDeps {
  streams: Pick<SsfStreamStore, 'streamsOfIssuer' | 'markStreamVerified'>;
  tenants: Pick<TenantStore, 'getTenant'>;
  ledger: ReplayLedger;
  transmitters: Pick<TransmitterKeys, 'keysOf'>;
  users: UserLookup;
  allowlist: Pick<Allowlist, 'revoke'>;
  removals: Pick<Removals, 'removeUser' | 'restoreUser'>;
  audit: AuditLog;
  clock: Clock;
  observer?: SsfObserver;
  /** Hears each store rejection, answered `unavailable` (the core's report, which logs it). */
  onStoreFailure: StoreFailureReport;
}

export interface SsfReceiver {
  /** Judges and applies one SET, as it arrived in a push request's body. */
  receive(token: string): Promise<SetAnswer>;
}

/** The algorithms a transmitter may sign with; anything else (HS256, `none`) is refused before a key is looked at. */
export const SET_ALGORITHMS = ['RS256', 'ES256'] as const;
/** The ledger kind under which accepted SETs are remembered, by a hash of issuer and `jti`. */
export const SET_LEDGER_KIND = 'ssf_jti';
/** A SET older than this (by `iat`) is refused: its `jti` is remembered this long, so a replay cannot outlive the memory. */
export const MAX_SET_AGE_MS = 24 * 60 * 60 * 1000;
/** How far ahead of this node's clock a transmitter's `iat` may be. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Events in one SET, at most: SSF 1.0 expects one, and alternatives of it. */
const MAX_EVENTS = 8;
const MAX_JTI_LENGTH = 256;

const NOOP_OBSERVER: SsfObserver = { event() {}, refused() {} };

/** The JOSE `typ` of a SET (RFC 8417 2.3), compared as RFC 7515 4.1.9 says: case-insensitively, `application/` optional. */
export function isSetType(typ: unknown): boolean {
  return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'secevent+jwt';
}

/** The `aud` claim as a list; null when it is neither a string nor an array of strings. */
export function audiencesOf(aud: unknown): string[] | null {
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud) && aud.length > 0 && aud.every((value) => typeof value === 'string')) return aud;
  return null;
}

/** jose's verification failures, each as the registered code a transmitter can act on. */
export function verificationFailure(error: unknown): SetRefusal {
  const refuse = (code: SetRefusal['code'], description: string): SetRefusal => ({ ok: false, code, description, ...(code === 'unavailable' ? { cause: error } : {}) });
  if (error instanceof errors.JWSSignatureVerificationFailed) return refuse('authentication_failed', 'The SET\'s signature does not verify with the transmitter\'s keys.');
  if (error instanceof errors.JWKSNoMatchingKey) return refuse('invalid_key', 'The transmitter\'s key set has no key for the SET\'s kid and algorithm.');
  if (error instanceof errors.JWKSMultipleMatchingKeys) return refuse('invalid_key', 'The SET names no kid and several of the transmitter\'s keys could have signed it.');
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return refuse('invalid_key', 'The SET is signed with a key or algorithm PanelGuard does not accept (RS256 or ES256).');
  if (error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired || error instanceof errors.JWTInvalid) {
    return refuse('invalid_request', 'The SET\'s claims are not valid: it needs iss, aud, a numeric iat and a jti, and no exp or nbf in the way.');
  }
  if (error instanceof errors.JWSInvalid) return refuse('invalid_request', 'The SET is not a well-formed JWS.');
  // Timeouts, a key set that is not one, a transmitter that answers 5xx: nothing judged yet; the same SET may come again.
  return refuse('unavailable', 'The transmitter\'s keys could not be fetched; send the SET again later.');
}

export function createSsfReceiver(deps: ReceiverDeps): SsfReceiver {
  const { clock } = deps;
  const observer = deps.observer ?? NOOP_OBSERVER;

  const refuse = (code: SetRefusal['code'], description: string, cause?: unknown): SetRefusal => {
    observer.refused(code);
    return { ok: false, code, description, ...(cause === undefined ? {} : { cause }) };
  };

  /** Everything that can be told from the token before its signature is checked, and the stream it is for. */
  async function triage(token: string): Promise<{ ok: true; value: { stream: SsfStream; issuer: string } } | SetRefusal> {
    const parts = token.split('.');
    if (parts.length === 5) return refuse('invalid_request', 'Encrypted SETs are not accepted; send a signed SET (JWS).');
    if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) return refuse('invalid_request', 'The body is not a SET in JWS compact serialization.');
    let header: ReturnType<typeof decodeProtectedHeader>;
    let claims: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      claims = decodeJwt(token);
    } catch {
      return refuse('invalid_request', 'The body is not a SET in JWS compact serialization.');
    }
    // The explicit type keeps every other JWT (ID tokens, access tokens...) from passing for a SET (RFC 8417 4.5, SSF 1.0 4.1.1).
    if (!isSetType(header.typ)) return refuse('invalid_request', 'The SET\'s JOSE header must have typ secevent+jwt.');
    if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') return refuse('authentication_failed', 'Unsigned SETs are not accepted.');
    if (!(SET_ALGORITHMS as readonly string[]).includes(header.alg)) return refuse('invalid_key', 'The SET is signed with an algorithm PanelGuard does not accept (RS256 or ES256).');
    if (typeof claims.iss !== 'string' || claims.iss === '') return refuse('invalid_request', 'The SET has no iss.');
    // The stream is found by issuer and audience before any key is fetched: only a configured issuer is ever called.
    const ofIssuer = await deps.streams.streamsOfIssuer(claims.iss);
    if (ofIssuer.length === 0) return refuse('invalid_issuer', 'No stream takes SETs from this issuer.');
    const audiences = audiencesOf(claims.aud);
    if (audiences === null) return refuse('invalid_audience', 'The SET has no aud naming a stream.');
    const matching = ofIssuer.filter((stream) => audiences.includes(stream.audience));
    if (matching.length === 0) return refuse('invalid_audience', 'No stream of this issuer has the SET\'s audience.');
    // Each stream is one site: a SET meant for several would act on all of them at once.
    if (matching.length > 1) return refuse('invalid_audience', 'The SET names more than one stream; send one SET per stream.');
    return { ok: true, value: { stream: matching[0], issuer: claims.iss } };
  }

  /** The signature, by the transmitter's published keys, and the claims a SET must have. */
  async function verify(token: string, stream: SsfStream): Promise<{ ok: true; value: { payload: JWTPayload; configuration: TransmitterConfiguration } } | SetRefusal> {
    const transmitter = await deps.transmitters.keysOf(stream.issuer);
    if (!transmitter.ok) {
      return transmitter.code === 'unreachable'
        ? refuse('unavailable', 'The transmitter\'s configuration could not be fetched; send the SET again later.')
        : refuse('invalid_key', `The transmitter's keys cannot be used: ${transmitter.problem}`);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, transmitter.value.keys, {
        algorithms: [...SET_ALGORITHMS],
        issuer: stream.issuer,
        requiredClaims: ['iat', 'jti'],
        currentDate: new Date(clock.now()),
        clockTolerance: MAX_CLOCK_SKEW_MS / 1000,
      }));
    } catch (error) {
      const failure = verificationFailure(error);
      return refuse(failure.code, failure.description, failure.cause);
    }
    return { ok: true, value: { payload, configuration: transmitter.value.configuration } };
  }

  async function receive(token: string): Promise<SetAnswer> {
    const triaged = await settleResult(deps.onStoreFailure, 'find SET stream', () => triage(token));
    if (!triaged.ok && triaged.code === 'store_unavailable') return refuse('unavailable', 'PanelGuard cannot read its streams just now; send the SET again later.');
    if (!triaged.ok) return triaged;
    const { stream, issuer } = triaged.value;
    const verified = await verify(token, stream);
    if (!verified.ok) return verified;
    const { payload, configuration } = verified.value;

    const now = clock.now();
    const issuedAt = (payload.iat as number) * 1000;
    if (issuedAt > now + MAX_CLOCK_SKEW_MS) return refuse('invalid_request', 'The SET\'s iat is in the future.');
    if (issuedAt < now - MAX_SET_AGE_MS) return refuse('invalid_request', 'The SET is older than PanelGuard accepts (24 hours by iat).');
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) return refuse('invalid_request', 'The SET\'s jti must be a string of at most 256 characters.');
    const events = eventsOf(payload.events);
    if (events === null) return refuse('invalid_request', 'The SET\'s events claim must be an object of at most 8 events, each an object.');
    const read = subjectsOf(payload, events);
    if (!read.ok) return refuse('invalid_request', read.description);

    const site = await settle(deps.onStoreFailure, 'read SET site', () => deps.tenants.getTenant(stream.clientKey));
    if (!site.ok) return refuse('unavailable', 'PanelGuard cannot read the site just now; send the SET again later.');
    const tenant = site.value;
    if (tenant === null || tenant.status === 'uninstalled') return refuse('access_denied', 'PanelGuard is not installed on the site this stream names.');

    // Once per SET: a copy sent again, by anyone, changes nothing. Remembered as long as the SET could be accepted.
    const key = sha256Hex(JSON.stringify([issuer, jti]));
    // Not applied (or not all of it): the transmitter may send the same SET again, and it must then be taken.
    // Whatever did apply is idempotent (revocations, tombstones of one event time), so the retry finishes the job.
    const notApplied = async (error?: unknown): Promise<SetRefusal> => {
      await deps.ledger.releaseClaim(SET_LEDGER_KIND, key).catch(() => undefined);
      return refuse('unavailable', 'The SET could not be applied just now; send it again later.', error);
    };
    const claimed = await settle(deps.onStoreFailure, 'record SET', () => deps.ledger.claimOnce(SET_LEDGER_KIND, key, Math.max(issuedAt, now) + MAX_SET_AGE_MS, now));
    if (!claimed.ok) return refuse('unavailable', 'PanelGuard cannot record the SET just now; send it again later.');
    if (!claimed.value) return refuse('invalid_request', 'This SET (its jti) was received before; each SET is accepted once.');
    try {
      const context: EventContext = { stream, issuer, issuedAt, configuration, emails: new Map() };
      const outcomes: Receipt['events'] = [];
      for (const [type, eventPayload] of events) {
        const event = knownEvent(type);
        const applied = event === null ? ok<EventOutcome>('ignored') : await apply(event, eventPayload, read.value.get(type) ?? null, context);
        // Reported where the store failed. Not applied: released, as below, for the transmitter's retry.
        if (!applied.ok) return await notApplied();
        const outcome = applied.value;
        const name = event?.name ?? UNKNOWN_EVENT;
        observer.event(name, outcome);
        outcomes.push({ event: name, outcome });
      }
      return { ok: true, value: { stream: stream.id, events: outcomes } };
    } catch (error) {
      return notApplied(error);
    }
  }

  interface EventContext {
    stream: SsfStream;
    issuer: string;
    issuedAt: EpochMs;
    configuration: TransmitterConfiguration;
    /** Emails already looked up for this SET. */
    emails: Map<string, string | null>;
  }

  /** Applies one event; `store_unavailable` when a revocation or removal could not be written (reported where it failed). */
  async function apply(event: KnownEvent, payload: Readonly<Record<string, unknown>>, subject: Subject | null, context: EventContext): Promise<Settled<EventOutcome>> {
    const { stream, issuer } = context;
    const actor = `ssf:${issuer}`;
    const trace = async (reason: string, accountId: string | null, count: number | null) => {
      await deps.audit.record({ at: clock.now(), kind: 'ssf', clientKey: stream.clientKey, accountId, actor, reason, resource: null, count, confirmation: null });
    };

    if (event.effect === 'verify_stream') {
      // PanelGuard never asks for verification, so there is no `state` to expect: the event proves the stream works.
      await deps.streams.markStreamVerified(stream.id, clock.now());
      await trace(event.reason, null, null);
      return ok('verified');
    }
    // Checked when the SET was read: every event PanelGuard acts on has a subject.
    if (subject === null) throw new Error('an event to act on came without a subject');
    if (unprocessedCritical(subject, context.configuration.criticalMembers).length > 0) {
      await trace(`${event.reason}:discarded`, null, null);
      return ok('discarded');
    }
    const accountId = await accountOf(subject, context);
    if (accountId === null) {
      await trace(`${event.reason}:no_user`, null, null);
      return ok('no_user');
    }
    const cause: RevokeCause = { actor, reason: event.reason };
    // When the event happened, by the transmitter's word, but never later than now: a time in the future would
    // make every later event about the user, the host's webhooks included, look older and be ignored.
    const timestamp = eventTimestampOf(payload);
    const eventAt = Math.min(timestamp === null ? context.issuedAt : timestamp * 1000, clock.now());
    switch (event.effect) {
      case 'end_sessions': {
        const revocation = await deps.allowlist.revoke({ kind: 'user', clientKey: stream.clientKey, accountId }, cause);
        if (!revocation.ok) return revocation;
        await trace(event.reason, accountId, revocation.value.count);
        return ok('applied');
      }
      case 'remove_user': {
        const removal = await deps.removals.removeUser(stream.clientKey, accountId, eventAt, cause);
        if (!removal.ok) return removal;
        // A removal already standing from this very event (a retry after a failure) is revoked again: applied.
        const applied = removal.value.applied || removal.value.confirmation !== null;
        await trace(applied ? event.reason : `${event.reason}:stale`, accountId, applied ? removal.value.revoked : null);
        return ok(applied ? 'applied' : 'stale');
      }
      case 'restore_user': {
        const restored = await deps.removals.restoreUser(stream.clientKey, accountId, eventAt);
        if (!restored.ok) return restored;
        await trace(restored.value.applied ? event.reason : `${event.reason}:stale`, accountId, null);
        return ok(restored.value.applied ? 'applied' : 'stale');
      }
    }
  }

  /** The site's user the subject names, by the stream's mapping; null when it names none. Rejects when the host cannot be asked. */
  async function accountOf(subject: Subject, context: EventContext): Promise<string | null> {
    const key = userKeyOf(subject, context.stream.subjects);
    if (key === null) return null;
    if (context.stream.subjects === 'account_id') return isAccountId(key) ? key : null;
    const email = key.toLowerCase();
    if (!context.emails.has(email)) context.emails.set(email, await deps.users.accountIdByEmail(context.stream.clientKey, email));
    return context.emails.get(email) ?? null;
  }

  return { receive };
}

type EventPayload = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is EventPayload {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `events` claim's entries, each an object; null when it is not such a claim. */
function eventsOf(claim: unknown): [string, EventPayload][] | null {
  if (!isObject(claim)) return null;
  const entries = Object.entries(claim);
  if (entries.length === 0 || entries.length > MAX_EVENTS) return null;
  const events: [string, EventPayload][] = [];
  for (const [type, payload] of entries) {
    if (!isObject(payload)) return null;
    events.push([type, payload]);
  }
  return events;
}

/**
 * Each known event's subject: the top-level `sub_id` (SSF 1.0 3.1), or the event's own `subject` member as CAEP
 * and RISC events may still carry it. A subject that is there but malformed, or an event to act on with none,
 * makes the SET invalid; a well-formed subject in a format PanelGuard does not map is fine (it names nobody).
 */
function subjectsOf(payload: JWTPayload, events: [string, EventPayload][]): { ok: true; value: Map<string, Subject> } | { ok: false; description: string } {
  const top = payload.sub_id === undefined ? null : parseSubject(payload.sub_id);
  if (payload.sub_id !== undefined && top === null) return { ok: false, description: 'The SET\'s sub_id is not a subject identifier (RFC 9493, SSF 1.0 3).' };
  const subjects = new Map<string, Subject>();
  for (const [type, event] of events) {
    const known = knownEvent(type);
    if (known === null || known.effect === 'verify_stream') continue;
    const own = event.subject === undefined ? null : parseSubject(event.subject);
    if (event.subject !== undefined && own === null) return { ok: false, description: 'An event\'s subject is not a subject identifier (RFC 9493).' };
    const subject = top ?? own;
    if (subject === null) return { ok: false, description: 'The SET names no subject: send sub_id.' };
    subjects.set(type, subject);
  }
  return { ok: true, value: subjects };
}
