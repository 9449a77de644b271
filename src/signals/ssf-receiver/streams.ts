/**
 * Streams: which transmitters a site takes Security Event Tokens from. Each names the transmitter's issuer, the
 * audience its SETs carry for this site, and how their subjects name the site's users; the store keeps them.
 */
import type { AuditLog } from '../../allowlist/audit';
import type { Clock, EpochMs } from '../../allowlist/types';
import { settle, settleResult, type Settled, type StoreFailureReport } from '../../base/result';
import { randomId } from '../../tokens/random';
import type { TransmitterKeys } from './transmitters';
import type { SubjectMapping } from './subjects';

export interface SsfStream {
  id: string;
  /** The site whose users the stream's events are about. */
  clientKey: string;
  /** The transmitter's Issuer Identifier: a SET's `iss` must equal it exactly. */
  issuer: string;
  /** What the transmitter puts in `aud` for this site; unique with the issuer, so that a SET names one stream. */
  audience: string;
  subjects: SubjectMapping;
  createdAt: EpochMs;
  /** When the transmitter's last verification event arrived; null before the first. */
  verifiedAt: EpochMs | null;
}

/** The streams as the store keeps them. */
export interface SsfStreamStore {
  /** Adds a stream; resolves false, adding nothing, when one with the same issuer and audience exists (on any site). */
  insertStream(stream: SsfStream): Promise<boolean>;
  /** The site's streams, oldest first. */
  listStreams(clientKey: string): Promise<SsfStream[]>;
  /** Every stream whose issuer is exactly `issuer`, over all sites: where a SET from it may be going. */
  streamsOfIssuer(issuer: string): Promise<SsfStream[]>;
  /** Deletes the site's stream; resolves false when the site has no stream with that id. */
  deleteStream(clientKey: string, id: string): Promise<boolean>;
  /** Records that a verification event arrived on the stream. */
  markStreamVerified(id: string, at: EpochMs): Promise<void>;
}

/** What an admin asks for; the audience defaults to one PanelGuard makes up for the stream. */
export interface StreamRequest {
  issuer: string;
  audience?: string;
  subjects: SubjectMapping;
}

/** Issuers and audiences fit the audit's actor column (`ssf:<issuer>`) and the stream table. */
export const MAX_ISSUER_LENGTH = 200;
export const MAX_AUDIENCE_LENGTH = 255;
/** Streams one site may hold: a handful of identity providers, not a list to grow without bound. */
export const MAX_STREAMS_PER_SITE = 20;

/**
 * Why an issuer URL is refused, or null when it is a fine one: absolute http(s), no query, fragment or
 * credentials (SSF 1.0 7.1), and https unless `allowHttp` (development and tests).
 */
export function issuerProblem(issuer: string, allowHttp: boolean): string | null {
  if (issuer.length > MAX_ISSUER_LENGTH) return `must be at most ${MAX_ISSUER_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return 'must be a URL such as https://idp.example.com';
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) return allowHttp ? 'must be an http or https URL' : 'must be an https URL';
  if (url.search !== '' || url.hash !== '' || issuer.includes('?') || issuer.includes('#')) return 'must have no query or fragment';
  if (url.username !== '' || url.password !== '') return 'must carry no credentials';
  return null;
}

/**
 * Where a transmitter publishes its configuration: `/.well-known/<name>` inserted between the issuer's host and
 * its path, any terminating `/` removed first (SSF 1.0 7.2).
 */
export function configurationUrl(issuer: string, name = 'ssf-configuration'): string {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}/.well-known/${name}${path}`;
}

/** The audience PanelGuard makes up for a stream: its own base URL and the stream's id, so a SET names one site. */
export function defaultAudience(baseUrl: string, streamId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/ssf/receiver/streams/${streamId}`;
}

/** Why a stream was not added: the request, the transmitter's configuration, issuer and audience taken, or the site's limit. */
export type StreamProblem = 'invalid' | 'transmitter' | 'exists' | 'too_many';

export type StreamCreation = { ok: true; value: SsfStream } | { ok: false; code: StreamProblem; problem: string };

/** Each verb answers `store_unavailable` when the store fails, reported once through `onStoreFailure`. */
export interface StreamAdmin {
  list(clientKey: string): Promise<Settled<SsfStream[]>>;
  /**
   * Adds a stream for the site, once the transmitter's configuration has been read and agrees with the issuer;
   * audited with `actor` (`admin:<accountId>`, `operator`) as who trusted the transmitter.
   */
  create(clientKey: string, request: StreamRequest, actor: string): Promise<StreamCreation | { ok: false; code: 'store_unavailable' }>;
  /** Deletes the site's stream, audited; false when the site has none with that id. */
  remove(clientKey: string, id: string, actor: string): Promise<Settled<boolean>>;
}

export interface StreamAdminDeps {
  store: SsfStreamStore;
  clock: Clock;
  /** The app's public base URL, for default audiences. */
  baseUrl: string;
  allowHttp: boolean;
  transmitters: Pick<TransmitterKeys, 'describe'>;
  audit: AuditLog;
  onStoreFailure: StoreFailureReport;
}

export function createStreamAdmin(deps: StreamAdminDeps): StreamAdmin {
  const refuse = (code: StreamProblem, problem: string): StreamCreation => ({ ok: false, code, problem });
  // A stream decides whose word can end sessions and remove users on the site: who added or removed one is kept.
  const trace = (clientKey: string, actor: string, reason: string, issuer: string) =>
    deps.audit.record({ at: deps.clock.now(), kind: 'ssf', clientKey, accountId: null, actor, reason, resource: `ssf:${issuer}`, count: null, confirmation: null });
  return {
    list: (clientKey) => settle(deps.onStoreFailure, 'list streams', () => deps.store.listStreams(clientKey)),

    create: (clientKey, request, actor) => settleResult(deps.onStoreFailure, 'add stream', async () => {
      const issuer = issuerProblem(request.issuer, deps.allowHttp);
      if (issuer !== null) return refuse('invalid', `issuer: ${issuer}`);
      if ((await deps.store.listStreams(clientKey)).length >= MAX_STREAMS_PER_SITE) return refuse('too_many', `A site holds at most ${MAX_STREAMS_PER_SITE} streams; delete one first.`);
      // Read before anything is kept: a typo in the issuer, or a transmitter that cannot be verified, fails here
      // in the admin's hands rather than later as refused SETs.
      const described = await deps.transmitters.describe(request.issuer);
      if (!described.ok) return refuse('transmitter', described.problem);
      const id = randomId();
      const stream: SsfStream = {
        id,
        clientKey,
        issuer: request.issuer,
        audience: request.audience ?? defaultAudience(deps.baseUrl, id),
        subjects: request.subjects,
        createdAt: deps.clock.now(),
        verifiedAt: null,
      };
      if (!(await deps.store.insertStream(stream))) return refuse('exists', 'A stream with this issuer and audience exists already; choose another audience.');
      await trace(clientKey, actor, 'ssf_stream_added', stream.issuer);
      return { ok: true, value: stream };
    }),

    remove: (clientKey, id, actor) => settle(deps.onStoreFailure, 'delete stream', async () => {
      const stream = (await deps.store.listStreams(clientKey)).find((known) => known.id === id);
      if (stream === undefined || !(await deps.store.deleteStream(clientKey, id))) return false;
      await trace(clientKey, actor, 'ssf_stream_deleted', stream.issuer);
      return true;
    }),
  };
}
