import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { storeAuditLog } from '../../src/allowlist/audit';
import { ManualClock } from '../../src/base/clock';
import { createCore } from '../../src/allowlist/assemble';
import { MemoryBus } from '../../src/bus/memory-bus';
import { NodeEntryCache } from '../../src/cache/entry-cache';
import { createLogger } from '../../src/observability/logger';
import { retryAfter, retryDelay } from '../../src/signals/ssf-transmitter/backoff';
import { jwks, transmitterMetadata } from '../../src/signals/ssf-transmitter/metadata';
import type { ClaimedSet, QueuedSet, Receiver } from '../../src/signals/ssf-transmitter/outbox';
import { pushSet } from '../../src/signals/ssf-transmitter/push';
import { endpointProblem, maskAuthorization } from '../../src/signals/ssf-transmitter/receivers';
import { initiatingEntityOf, SESSION_REVOKED, sessionRevoked, setSigner, signSet, subjectOf } from '../../src/signals/ssf-transmitter/set';
import { describeSigningKey, developmentKeyFile, signingKeySource, type SigningKey } from '../../src/signals/ssf-transmitter/signing-key';
import { createPushWorker, type TransmitterObserver } from '../../src/signals/ssf-transmitter/worker';
import { MemoryStore } from '../../src/store/memory-store';
import { createPageTokenCodec } from '../../src/tokens/page-token';
import { tenantIn } from '../../src/allowlist/tenants';
import { issueResource } from '../../src/allowlist/resource';
import { valueOf } from '../support/results';

const T0 = Date.UTC(2026, 10, 23, 12);
const SITE = 'site-a';
const BASE_URL = 'https://acme.atlassian.net';
const ISSUER = 'https://panelguard.example.com';
const ALICE = '557058:alice';

function aReceiver(fields: Partial<Receiver> = {}): Receiver {
  return {
    id: 'r1',
    clientKey: SITE,
    endpointUrl: 'https://receiver.example.com/events',
    audience: 'https://receiver.example.com',
    authorization: 'Bearer receiver-secret',
    createdAt: T0,
    updatedAt: T0,
    ...fields,
  };
}

function aQueuedSet(fields: Partial<QueuedSet> = {}): QueuedSet {
  return {
    noticeId: 'n1',
    receiverId: 'r1',
    clientKey: SITE,
    baseUrl: BASE_URL,
    accountId: ALICE,
    session: null,
    actor: 'webhook:user_deleted',
    reason: 'user_removed',
    eventAt: T0 + 1500,
    state: 'pending',
    attempts: 0,
    nextAttemptAt: T0,
    lastAttemptAt: null,
    lastError: null,
    ...fields,
  };
}

const claimedOf = (set: Partial<QueuedSet> = {}, receiver: Partial<Receiver> = {}): ClaimedSet => ({ set: aQueuedSet(set), receiver: aReceiver(receiver) });

let signingKey: SigningKey;

before(async () => {
  signingKey = await describeSigningKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
});

describe('SETs PanelGuard sends', () => {
  it('tell a user removed from a site as a CAEP session-revoked event, with every claim RFC 8417 and SSF ask for', () => {
    const claims = sessionRevoked(claimedOf(), ISSUER, T0 + 60_000);
    expect(claims).to.deep.equal({
      iss: ISSUER,
      jti: 'n1.r1',
      iat: (T0 + 60_000) / 1000,
      aud: 'https://receiver.example.com',
      txn: 'n1',
      sub_id: {
        format: 'complex',
        user: { format: 'iss_sub', iss: BASE_URL, sub: ALICE },
        tenant: { format: 'opaque', id: SITE },
      },
      events: {
        [SESSION_REVOKED]: { event_timestamp: Math.floor((T0 + 1500) / 1000), initiating_entity: 'system', reason_admin: { en: 'user_removed' } },
      },
    });
    expect(claims).not.to.have.any.keys('sub', 'exp');
  });

  it('name the one session that ended beside its user, and only the site when every session of it ended', () => {
    expect(subjectOf(aQueuedSet({ session: 'a'.repeat(64) }))).to.deep.equal({
      format: 'complex',
      user: { format: 'iss_sub', iss: BASE_URL, sub: ALICE },
      session: { format: 'opaque', id: 'a'.repeat(64) },
      tenant: { format: 'opaque', id: SITE },
    });
    expect(subjectOf(aQueuedSet({ accountId: null }))).to.deep.equal({ format: 'complex', tenant: { format: 'opaque', id: SITE } });
  });

  it('name the user by account id alone when the site had no address on record', () => {
    expect(subjectOf(aQueuedSet({ baseUrl: null })).user).to.deep.equal({ format: 'opaque', id: ALICE });
  });

  it('say who set the revocation off', () => {
    expect(['admin:557058:root', 'operator', 'operator:cli', 'user:557058:alice', 'theft-detection', 'webhook:user_deleted', 'lifecycle:uninstalled'].map(initiatingEntityOf)).to.deep.equal([
      'admin',
      'admin',
      'admin',
      'user',
      'policy',
      'system',
      'system',
    ]);
  });

  it('are signed RS256, typed secevent+jwt, and verify against our JWKS by the thumbprint kid', async () => {
    const token = await signSet(sessionRevoked(claimedOf(), ISSUER, T0), signingKey);
    const header = decodeProtectedHeader(token);
    expect(header).to.deep.equal({ alg: 'RS256', typ: 'secevent+jwt', kid: signingKey.kid });
    const { n, e, kty } = signingKey.publicJwk;
    expect(signingKey.kid).to.equal(await calculateJwkThumbprint({ kty, n, e }));
    const verified = await jwtVerify(token, createLocalJWKSet(jwks(signingKey)), {
      issuer: ISSUER,
      audience: 'https://receiver.example.com',
      typ: 'secevent+jwt',
      algorithms: ['RS256'],
      currentDate: new Date(T0),
    });
    expect(verified.payload.jti).to.equal('n1.r1');
  });

  it('publish the public key only', () => {
    const [key, ...others] = jwks(signingKey).keys;
    expect(others).to.deep.equal([]);
    expect(Object.keys(key ?? {}).sort()).to.deep.equal(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(key).to.include({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: signingKey.kid });
  });
});

describe('transmitter metadata', () => {
  it('names the issuer, the JWKS, push delivery, CAEP session-revoked and SSF 1.0', () => {
    expect(transmitterMetadata(ISSUER)).to.deep.equal({
      spec_version: '1_0',
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      delivery_methods_supported: ['urn:ietf:rfc:8935'],
      events_supported: [SESSION_REVOKED],
      critical_subject_members: ['tenant'],
    });
  });
});

describe('receiver endpoints', () => {
  const problem = (url: string, production: boolean) => endpointProblem(new URL(url), production);

  it('takes any http(s) URL in development, the host simulator\'s and localhost included', () => {
    expect(problem('http://127.0.0.1:3100/events', false)).to.equal(null);
    expect(problem('https://receiver.example.com/ssf/events?stream=1', false)).to.equal(null);
  });

  it('takes only https in production, and never an address of the host\'s own networks', () => {
    expect(problem('https://receiver.example.com/events', true)).to.equal(null);
    expect(problem('https://93.184.215.14/events', true)).to.equal(null);
    expect(problem('http://receiver.example.com/events', true)).to.equal('must be an https URL');
    for (const internal of ['https://localhost/e', 'https://a.localhost/e', 'https://127.0.0.1/e', 'https://0x7f.1/e', 'https://10.1.2.3/e', 'https://192.168.0.10/e', 'https://169.254.169.254/latest', 'https://[::1]/e', 'https://[fd00::1]/e', 'https://[::ffff:10.0.0.1]/e', 'https://0.0.0.0/e']) {
      expect(problem(internal, true), internal).to.equal('must not be a local or private address');
    }
  });

  it('refuses other schemes, credentials in the URL and a fragment anywhere', () => {
    expect(problem('ftp://receiver.example.com/e', false)).to.equal('must be an http or https URL');
    expect(problem('https://user:pw@receiver.example.com/e', false)).to.equal('must not carry credentials; give them as authorization');
    expect(problem('https://receiver.example.com/e#part', false)).to.equal('must not have a fragment');
  });

  it('shows an authorization back as its scheme at most', () => {
    expect(maskAuthorization('Bearer abc.def')).to.equal('Bearer …');
    expect(maskAuthorization('Basic dXNlcjpwYXNz')).to.equal('Basic …');
    expect(maskAuthorization('opaque-secret-without-scheme')).to.equal('…');
    expect(maskAuthorization(null)).to.equal(null);
  });
});

describe('the signing key in development', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'panelguard-ssf-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is made once on first use, kept under the data directory, and found again by the next process', async () => {
    const first = await signingKeySource(null, dir)();
    expect(readFileSync(developmentKeyFile(dir), 'utf8')).to.contain('BEGIN PRIVATE KEY');
    const again = await signingKeySource(null, dir)();
    expect(again.kid).to.equal(first.kid);
  });

  it('is one key when two processes on the same directory make it at once', async () => {
    const [a, b] = await Promise.all([signingKeySource(null, dir)(), signingKeySource(null, dir)()]);
    expect(a.kid).to.equal(b.kid);
  });

  it('is never made when the environment names one', async () => {
    const key = await signingKeySource(signingKey.privateKey, dir)();
    expect(key.kid).to.equal(signingKey.kid);
    expect(() => readFileSync(developmentKeyFile(dir))).to.throw();
  });
});

describe('the retry schedule', () => {
  const policy = { baseMs: 2_000, maxMs: 60_000 };

  it('doubles from the base with each failure, up to the cap', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 50, 2000].map((failures) => retryDelay(failures, policy, () => 0.999_999_9));
    expect(ceilings).to.deep.equal([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
  });

  it('draws each delay between half and all of its ceiling', () => {
    expect(retryDelay(3, policy, () => 0)).to.equal(4_000);
    expect(retryDelay(3, policy, () => 0.5)).to.equal(6_000);
    expect(retryDelay(10, policy, () => 0)).to.equal(30_000);
  });

  it('follows Retry-After in seconds or as a date, no earlier than now and no later than a day', () => {
    expect(retryAfter('120', T0)).to.equal(T0 + 120_000);
    expect(retryAfter(new Date(T0 + 30_000).toUTCString(), T0)).to.equal(T0 + 30_000);
    expect(retryAfter(new Date(T0 - 30_000).toUTCString(), T0)).to.equal(T0);
    expect(retryAfter('999999999', T0)).to.equal(T0 + 24 * 60 * 60 * 1000);
    expect(retryAfter('soon', T0)).to.equal(null);
    expect(retryAfter(null, T0)).to.equal(null);
  });
});

/** A receiver at the process boundary: answers each push with the next response given (the last one again and again), and records what it was sent. */
function fakeReceiver(...answers: Array<Response | Error>) {
  const requests: Array<{ url: string; headers: Headers; body: string }> = [];
  const fetcher = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    requests.push({ url: String(url), headers: new Headers(init?.headers), body: String(init?.body) });
    const answer = answers.length > 1 ? answers.shift() : answers[0];
    if (answer === undefined) throw new Error('no answer given');
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { fetch: fetcher as typeof fetch, requests };
}

const refused = (err: string, description: string) =>
  new Response(JSON.stringify({ err, description }), { status: 400, headers: { 'content-type': 'application/json' } });

describe('one push', () => {
  const push = (answer: Response | Error) => pushSet('the.set.token', aReceiver(), { timeoutMs: 1000, now: () => T0, fetch: fakeReceiver(answer).fetch });

  it('posts the SET as application/secevent+jwt with the receiver\'s authorization', async () => {
    const receiver = fakeReceiver(new Response(null, { status: 202 }));
    await pushSet('the.set.token', aReceiver(), { timeoutMs: 1000, now: () => T0, fetch: receiver.fetch });
    const [request] = receiver.requests;
    expect(request?.url).to.equal('https://receiver.example.com/events');
    expect(request?.body).to.equal('the.set.token');
    expect(request?.headers.get('content-type')).to.equal('application/secevent+jwt');
    expect(request?.headers.get('accept')).to.equal('application/json');
    expect(request?.headers.get('authorization')).to.equal('Bearer receiver-secret');
  });

  it('is delivered on 202, or any 2xx', async () => {
    expect(await push(new Response(null, { status: 202 }))).to.deep.equal({ kind: 'delivered' });
    expect(await push(new Response('ok', { status: 200 }))).to.deep.equal({ kind: 'delivered' });
  });

  it('fails for good on 400, keeping the RFC 8935 error and its description', async () => {
    expect(await push(refused('invalid_key', 'Key ID unknown'))).to.deep.equal({ kind: 'failed', error: '400 invalid_key: Key ID unknown' });
    expect(await push(new Response('<html>bad</html>', { status: 400 }))).to.deep.equal({ kind: 'failed', error: '400' });
  });

  it('fails for good on a redirect or any other 4xx that will not change', async () => {
    expect(await push(new Response(null, { status: 302, headers: { location: 'https://elsewhere.example.com/' } }))).to.deep.equal({ kind: 'failed', error: '302' });
    expect(await push(new Response(null, { status: 404 }))).to.deep.equal({ kind: 'failed', error: '404' });
    expect(await push(new Response(null, { status: 413 }))).to.deep.equal({ kind: 'failed', error: '413' });
  });

  it('is tried again on 5xx, 429, 401 and 403, at the time Retry-After names when it does', async () => {
    expect(await push(new Response(null, { status: 503, headers: { 'retry-after': '30' } }))).to.deep.equal({ kind: 'retry', error: '503', retryAt: T0 + 30_000 });
    expect(await push(new Response(null, { status: 429, headers: { 'retry-after': '5' } }))).to.deep.equal({ kind: 'retry', error: '429', retryAt: T0 + 5_000 });
    expect(await push(new Response(null, { status: 500 }))).to.deep.equal({ kind: 'retry', error: '500', retryAt: null });
    expect(await push(new Response(null, { status: 401 }))).to.deep.equal({ kind: 'retry', error: '401', retryAt: null });
    expect(await push(new Response(null, { status: 403 }))).to.deep.equal({ kind: 'retry', error: '403', retryAt: null });
  });

  it('is tried again when the connection fails, naming the code and nothing of the URL', async () => {
    const refusedConnection = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }) });
    expect(await push(refusedConnection)).to.deep.equal({ kind: 'retry', error: 'network: ECONNREFUSED', retryAt: null });
  });

  it('is tried again when the receiver takes longer than the timeout', async () => {
    const hanging = (async (_url: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)))) as typeof fetch;
    expect(await pushSet('t', aReceiver(), { timeoutMs: 20, now: () => T0, fetch: hanging })).to.deep.equal({ kind: 'retry', error: 'timeout', retryAt: null });
  });
});

describe('the push worker', () => {
  const RETRY = { baseMs: 1_000, maxMs: 8_000 };
  let clock: ManualClock;
  let store: MemoryStore;
  let counted: Record<keyof TransmitterObserver, number>;
  const observer: TransmitterObserver = {
    delivered: () => (counted.delivered += 1),
    retried: () => (counted.retried += 1),
    failed: () => (counted.failed += 1),
  };

  beforeEach(async () => {
    clock = new ManualClock(T0);
    store = new MemoryStore();
    counted = { delivered: 0, retried: 0, failed: 0 };
    await store.putTenant({ clientKey: SITE, baseUrl: BASE_URL, status: 'enabled', updatedAt: T0 });
    await store.putReceiver(aReceiver());
  });

  /** Revokes `accountId`'s one entry with a notice: one SET for the receiver, due now. */
  async function queue(noticeId: string, accountId = ALICE): Promise<void> {
    await store.insertEntry({
      idHash: `${noticeId}`.padEnd(64, '0'),
      clientKey: SITE,
      accountId,
      resource: 'app:self',
      parent: null,
      createdAt: T0,
      expiresAt: T0 + 600_000,
      lastSeenAt: T0,
      ip: null,
      userAgent: null,
      revokedAt: null,
      revokeReason: null,
      chain: null,
      boundKey: null,
    });
    await store.revokeEntries({ kind: 'user', clientKey: SITE, accountId }, clock.now(), 'user_removed', { id: noticeId, accountId, session: null, actor: 'webhook:user_deleted' });
  }

  function worker(receiver: ReturnType<typeof fakeReceiver>, random = () => 0) {
    return createPushWorker({
      outbox: store,
      sign: setSigner(ISSUER, async () => signingKey),
      clock,
      random,
      retry: RETRY,
      pollMs: 60_000,
      log: createLogger('silent'),
      observer,
      fetch: receiver.fetch,
    });
  }

  it('pushes a queued SET that verifies against our key, and never sends it again once delivered', async () => {
    await queue('n1');
    const receiver = fakeReceiver(new Response(null, { status: 202 }));
    const w = worker(receiver);
    expect(await w.runOnce()).to.equal(1);
    const verified = await jwtVerify(receiver.requests[0]?.body ?? '', createLocalJWKSet(jwks(signingKey)), { issuer: ISSUER, typ: 'secevent+jwt' });
    expect(verified.payload.txn).to.equal('n1');
    clock.advance(3_600_000);
    expect(await w.runOnce()).to.equal(0);
    expect(receiver.requests).to.have.length(1);
    expect(counted).to.deep.equal({ delivered: 1, retried: 0, failed: 0 });
  });

  it('tries a SET again on the backoff schedule while the receiver is down, then delivers it once', async () => {
    await queue('n1');
    const receiver = fakeReceiver(new Response(null, { status: 503 }), new Response(null, { status: 503 }), new Response(null, { status: 503 }), new Response(null, { status: 202 }));
    const w = worker(receiver, () => 0.999_999);
    const due: number[] = [];
    for (let round = 0; round < 3; round += 1) {
      expect(await w.runOnce()).to.equal(1);
      const [set] = await store.listSets({ clientKey: SITE, limit: 1 });
      due.push((set?.nextAttemptAt ?? 0) - clock.now());
      // Not a millisecond early.
      clock.advance((set?.nextAttemptAt ?? 0) - clock.now() - 1);
      expect(await w.runOnce()).to.equal(0);
      clock.advance(1);
    }
    expect(due).to.deep.equal([1_000, 2_000, 4_000]);
    expect(await w.runOnce()).to.equal(1);
    expect(await store.countSets()).to.deep.equal({ pending: 0, failed: 0 });
    expect(receiver.requests.map((request) => JSON.parse(Buffer.from(request.body.split('.')[1] ?? '', 'base64url').toString()).jti)).to.deep.equal(['n1.r1', 'n1.r1', 'n1.r1', 'n1.r1']);
    expect(counted).to.deep.equal({ delivered: 1, retried: 3, failed: 0 });
  });

  it('waits as long as a throttling receiver asks', async () => {
    await queue('n1');
    const w = worker(fakeReceiver(new Response(null, { status: 429, headers: { 'retry-after': '90' } })));
    await w.runOnce();
    const [set] = await store.listSets({ clientKey: SITE, limit: 1 });
    expect(set).to.include({ nextAttemptAt: T0 + 90_000, attempts: 1, lastError: '429' });
  });

  it('holds back the rest of a failing receiver\'s SETs with the one that failed, untried', async () => {
    await queue('n1', ALICE);
    await queue('n2', 'bob');
    const receiver = fakeReceiver(new Response(null, { status: 503 }));
    await worker(receiver).runOnce();
    expect(receiver.requests).to.have.length(1);
    const sets = await store.listSets({ clientKey: SITE, limit: 10 });
    expect(sets.map((set) => [set.attempts, set.nextAttemptAt])).to.have.deep.members([
      [1, T0 + 500],
      [0, T0 + 500],
    ]);
  });

  it('gives up on a SET the receiver refuses, keeps it for admins, and never sends it again', async () => {
    await queue('n1');
    const receiver = fakeReceiver(refused('invalid_audience', 'not us'));
    const w = worker(receiver);
    await w.runOnce();
    clock.advance(24 * 3_600_000);
    expect(await w.runOnce()).to.equal(0);
    expect(receiver.requests).to.have.length(1);
    const [set] = await store.listSets({ clientKey: SITE, state: 'failed', limit: 1 });
    expect(set).to.include({ state: 'failed', attempts: 1, lastError: '400 invalid_audience: not us' });
    expect(counted).to.deep.equal({ delivered: 0, retried: 0, failed: 1 });
  });

  it('releases what it holds when stopped mid-push, to be sent again at once', async () => {
    await queue('n1');
    let pushed!: () => void;
    const started = new Promise<void>((resolve) => (pushed = resolve));
    const hanging = (async (_url: string | URL | Request, init?: RequestInit) => {
      pushed();
      return new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    }) as typeof fetch;
    const w = createPushWorker({
      outbox: store,
      sign: setSigner(ISSUER, async () => signingKey),
      clock,
      random: () => 0,
      retry: RETRY,
      pollMs: 60_000,
      log: createLogger('silent'),
      fetch: hanging,
    });
    w.start();
    await started;
    await w.stop();
    const [set] = await store.listSets({ clientKey: SITE, limit: 1 });
    expect(set).to.include({ attempts: 0, nextAttemptAt: T0 });
    expect(await store.claimSets('next-node', T0, T0 + 60_000, 10)).to.have.length(1);
  });
});

describe('revocations told to receivers', () => {
  async function world() {
    const clock = new ManualClock(T0);
    const store = new MemoryStore();
    const audit = storeAuditLog(store, { onError: () => undefined, denialWindowMs: 5_000 });
    const tokens = createPageTokenCodec({ secret: 'x'.repeat(40), appKey: 'panelguard', clock, isTenant: tenantIn(store) });
    const cache = new NodeEntryCache({ ttlSeconds: 60, maxEntries: 1000 });
    const core = createCore({ store, ledger: store, cache, bus: new MemoryBus(), clock, tokens, audit, ttlSeconds: 600 });
    await core.tenants.installed(SITE, BASE_URL, { sharedSecretChanged: false });
    await store.putReceiver(aReceiver());
    const mint = async (accountId: string) => {
      const minted = await core.allowlist.mint({ clientKey: SITE, accountId, target: issueResource('10001', '10000'), connectIssuedAt: clock.now(), ip: null, userAgent: null });
      if (!minted.ok) throw new Error(minted.code);
      return minted.value;
    };
    return { store, core, mint, close: () => cache.close() };
  }

  it("queue one SET naming the user when a user's sessions end, none when it ended nothing", async () => {
    const w = await world();
    await w.mint(ALICE);
    await w.mint(ALICE);
    await w.core.removals.removeUser(SITE, ALICE, T0, { actor: 'webhook:user_deleted', reason: 'user_removed' });
    await w.core.sessions.revokeUser(SITE, ALICE, 'admin:root');
    const sets = await w.store.listSets({ clientKey: SITE, limit: 10 });
    expect(sets.map(({ accountId, session, actor, reason, baseUrl }) => ({ accountId, session, actor, reason, baseUrl }))).to.deep.equal([
      { accountId: ALICE, session: null, actor: 'webhook:user_deleted', reason: 'user_removed', baseUrl: BASE_URL },
    ]);
    w.close();
  });

  it('queue the one session a user ended, and the whole site when it was reset', async () => {
    const w = await world();
    const { entry } = await w.mint(ALICE);
    await w.mint('bob');
    await w.core.allowlist.revoke({ kind: 'session', clientKey: SITE, accountId: ALICE, idHash: entry.idHash }, { actor: `user:${ALICE}`, reason: 'user_ended_session' });
    await w.core.sessions.resetTenant(SITE, 'operator');
    const sets = await w.store.listSets({ clientKey: SITE, limit: 10 });
    expect(sets.map(({ accountId, session, reason }) => ({ accountId, session, reason }))).to.have.deep.members([
      { accountId: ALICE, session: entry.idHash, reason: 'user_ended_session' },
      { accountId: null, session: null, reason: 'admin_reset_site' },
    ]);
    w.close();
  });

  it('queue nothing for a deleted issue: its users stay signed in everywhere else', async () => {
    const w = await world();
    await w.mint(ALICE);
    const removed = await w.core.removals.removeResource(SITE, 'jira:issue:10001', T0, { actor: 'webhook:issue_deleted', reason: 'issue_deleted' });
    expect(valueOf(removed).revoked).to.equal(1);
    expect(await w.store.countSets()).to.deep.equal({ pending: 0, failed: 0 });
    w.close();
  });
});
