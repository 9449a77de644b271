/**
 * PanelGuard as an SSF transmitter over real HTTP: its metadata and keys, the admin API for receivers, and a
 * revocation reaching a receiver as a SET that verifies against the published JWKS, exactly once, through a
 * receiver outage and a restart, never again after the receiver refused it, and once from two nodes on one
 * PostgreSQL database.
 */
import { expect } from 'chai';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { startApp, type RunningApp } from '../../src/app/app';
import { loadConfig } from '../../src/app/config';
import { startHostSimulator, type HostSimulator } from '../../src/host-simulator';
import { createLogger } from '../../src/observability/logger';
import { SESSION_REVOKED } from '../../src/signals/ssf-transmitter/set';
import { freePort } from '../support/ports';
import { createTestDatabase, servicesOrSkip, type TestDatabase } from '../support/services';
import { startTestReceiver, type TestReceiver } from '../support/ssf-receiver';
import { ALICE, BOB, ISSUE, LogCapture, startStack, type Stack } from './harness';

const OPERATOR_SECRET = randomBytes(24).toString('base64url');
const RECEIVER_SECRET = `Bearer ${randomBytes(24).toString('base64url')}`;
const AUDIENCE = 'https://receiver.example.com/panelguard';
/** Quick retries: a receiver that comes back is tried again within a fifth of a second. */
const FAST_PUSHES = { SSF_POLL_SECONDS: '0.05', SSF_RETRY_BASE_SECONDS: '0.05', SSF_RETRY_MAX_SECONDS: '0.2' };

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
  text: string;
}

async function call(baseUrl: string, method: string, path: string, bearer: string | null, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Answer['body']), text };
}

describe('SSF transmitter', function () {
  this.timeout(30_000);
  let stack: Stack;
  let receiver: TestReceiver;
  let clientKey: string;
  const admin = (method: string, path: string, body?: unknown) => call(stack.app.baseUrl, method, path, OPERATOR_SECRET, body);

  beforeEach(async () => {
    clientKey = `site-${randomBytes(6).toString('hex')}`;
    stack = await startStack({ clientKey, env: { OPERATOR_TOKEN: `${clientKey}:${OPERATOR_SECRET}`, ...FAST_PUSHES } });
    receiver = await startTestReceiver({
      jwksUrl: () => `${stack.app.baseUrl}/.well-known/jwks.json`,
      issuer: () => stack.app.baseUrl,
      audience: AUDIENCE,
      authorization: RECEIVER_SECRET,
    });
  });
  afterEach(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  async function addReceiver(): Promise<string> {
    const added = await admin('POST', '/api/admin/ssf/receivers', { endpointUrl: receiver.url, audience: AUDIENCE, authorization: RECEIVER_SECRET });
    expect(added.status, added.text).to.equal(201);
    return (added.body.receiver as { id: string }).id;
  }

  /** Opens a panel for the user, then has the operator end every session of theirs. */
  async function revokeUser(accountId: string): Promise<void> {
    const panel = await stack.loadPanel(accountId);
    expect(panel.token, `no panel for ${accountId}`).not.to.equal(null);
    const revoked = await admin('DELETE', `/api/admin/users/${encodeURIComponent(accountId)}/sessions`);
    expect(revoked.status, revoked.text).to.equal(204);
  }

  const acceptedFor = (accountId: string) => receiver.accepted.filter((set) => (set.payload.sub_id as { user?: { sub?: string } }).user?.sub === accountId);

  async function outbox(query = ''): Promise<{ counts: { pending: number; failed: number }; sets: Array<Record<string, unknown>> }> {
    const answer = await admin('GET', `/api/admin/ssf/outbox${query}`);
    expect(answer.status, answer.text).to.equal(200);
    return answer.body as never;
  }

  /** Resolves once nothing is pending: the receiver answers before the app records the delivery. */
  async function untilNothingPending(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while ((await outbox()).counts.pending > 0) {
      if (Date.now() > deadline) throw new Error('SETs still pending after 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  describe('what it publishes', () => {
    it('describes itself at /.well-known/ssf-configuration as SSF 1.0 asks', async () => {
      const answer = await call(stack.app.baseUrl, 'GET', '/.well-known/ssf-configuration', null);
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.equal({
        spec_version: '1_0',
        issuer: stack.app.baseUrl,
        jwks_uri: `${stack.app.baseUrl}/.well-known/jwks.json`,
        delivery_methods_supported: ['urn:ietf:rfc:8935'],
        events_supported: [SESSION_REVOKED],
        critical_subject_members: ['tenant'],
      });
    });

    it('publishes one RSA public key, nothing private, under its RFC 7638 thumbprint, the same after a restart', async () => {
      const { keys } = (await call(stack.app.baseUrl, 'GET', '/.well-known/jwks.json', null)).body as { keys: JWK[] };
      expect(keys).to.have.length(1);
      const [key] = keys as [JWK];
      expect(Object.keys(key).sort()).to.deep.equal(['alg', 'e', 'kid', 'kty', 'n', 'use']);
      expect(key.kid).to.equal(await calculateJwkThumbprint({ kty: key.kty, n: key.n, e: key.e }));
      await stack.restartApp();
      expect(((await call(stack.app.baseUrl, 'GET', '/.well-known/jwks.json', null)).body as { keys: JWK[] }).keys).to.deep.equal(keys);
    });
  });

  describe('receivers in the admin API', () => {
    it('adds one, lists it with its authorization reduced to the scheme, and never writes the secret to the log', async () => {
      const id = await addReceiver();
      const listed = await admin('GET', '/api/admin/ssf/receivers');
      expect(listed.body.receivers).to.deep.equal([
        {
          id,
          endpointUrl: receiver.url,
          audience: AUDIENCE,
          authorization: 'Bearer …',
          createdAt: (listed.body.receivers as Array<{ createdAt: number }>)[0]?.createdAt,
          updatedAt: (listed.body.receivers as Array<{ updatedAt: number }>)[0]?.updatedAt,
        },
      ]);
      expect(listed.text).not.to.contain(RECEIVER_SECRET.slice('Bearer '.length));
      expect(stack.logs.text()).not.to.contain(RECEIVER_SECRET.slice('Bearer '.length));
    });

    it('changes the receiver added again at the same endpoint (200), and removes it (204, then 404)', async () => {
      const id = await addReceiver();
      const again = await admin('POST', '/api/admin/ssf/receivers', { endpointUrl: receiver.url, audience: 'another-audience' });
      expect(again.status).to.equal(200);
      expect(again.body.receiver).to.include({ id, audience: 'another-audience', authorization: null });
      expect((await admin('DELETE', `/api/admin/ssf/receivers/${id}`)).status).to.equal(204);
      expect((await admin('DELETE', `/api/admin/ssf/receivers/${id}`)).body.error?.code).to.equal('not_found');
      expect((await admin('GET', '/api/admin/ssf/receivers')).body.receivers).to.deep.equal([]);
    });

    it('records each change in the audit', async () => {
      const id = await addReceiver();
      await admin('POST', '/api/admin/ssf/receivers', { endpointUrl: receiver.url, audience: 'changed' });
      await admin('DELETE', `/api/admin/ssf/receivers/${id}`);
      const audit = await admin('GET', '/api/admin/audit?kind=policy');
      const records = audit.body.records as Array<{ reason: string; resource: string; actor: string }>;
      expect(records.map((record) => [record.reason, record.resource, record.actor])).to.deep.equal([
        ['ssf_receiver_removed', `ssf:receiver:${id}`, 'operator'],
        ['ssf_receiver_changed', `ssf:receiver:${id}`, 'operator'],
        ['ssf_receiver_added', `ssf:receiver:${id}`, 'operator'],
      ]);
    });

    it('refuses a malformed receiver with 400, naming the field', async () => {
      const refusals: Array<[unknown, string]> = [
        [{ endpointUrl: 'not a url', audience: AUDIENCE }, 'endpointUrl'],
        [{ endpointUrl: 'ftp://receiver.example.com/events', audience: AUDIENCE }, 'endpointUrl: must be an http or https URL'],
        [{ endpointUrl: 'https://user:pw@receiver.example.com/events', audience: AUDIENCE }, 'endpointUrl: must not carry credentials'],
        [{ endpointUrl: receiver.url, audience: '' }, 'audience'],
        [{ endpointUrl: receiver.url, audience: AUDIENCE, authorization: 'Bearer x\r\nX-Injected: 1' }, 'authorization'],
        [{ endpointUrl: receiver.url, audience: AUDIENCE, extra: true }, 'body'],
        [{ audience: AUDIENCE }, 'endpointUrl'],
      ];
      for (const [body, field] of refusals) {
        const answer = await admin('POST', '/api/admin/ssf/receivers', body);
        expect(answer.status, JSON.stringify(body)).to.equal(400);
        expect(answer.body.error?.message, JSON.stringify(body)).to.contain(field);
      }
      expect((await admin('GET', '/api/admin/ssf/receivers')).body.receivers).to.deep.equal([]);
    });

    it('answers 401 without credentials and 403 to a signed-in user who is not an admin', async () => {
      for (const [method, path] of [['GET', '/api/admin/ssf/receivers'], ['POST', '/api/admin/ssf/receivers'], ['DELETE', '/api/admin/ssf/receivers/x'], ['GET', '/api/admin/ssf/outbox']]) {
        expect((await call(stack.app.baseUrl, method as string, path as string, null)).status, `${method} ${path}`).to.equal(401);
      }
      const panel = await stack.loadPanel(BOB);
      const answer = await call(stack.app.baseUrl, 'GET', '/api/admin/ssf/receivers', panel.token);
      expect([answer.status, answer.body.error?.code]).to.deep.equal([403, 'forbidden']);
    });
  });

  describe('delivery', () => {
    it('tells the receiver of a user removed in Jira with a CAEP session-revoked SET that verifies against our JWKS', async () => {
      const receiverId = await addReceiver();
      await stack.loadPanel(ALICE);
      const removed = await stack.sim.removeUser(ALICE);
      expect(removed?.status).to.equal(200);
      await receiver.waitFor(() => receiver.accepted.length === 1, 'the SET');
      const [set] = receiver.accepted;
      const { kid } = ((await call(stack.app.baseUrl, 'GET', '/.well-known/jwks.json', null)).body as { keys: JWK[] }).keys[0] as JWK;
      expect(set?.header).to.deep.equal({ alg: 'RS256', typ: 'secevent+jwt', kid });
      const payload = set?.payload ?? {};
      expect(payload).to.include({ iss: stack.app.baseUrl, aud: AUDIENCE });
      expect(payload).not.to.have.any.keys('sub', 'exp');
      expect(payload.txn).to.be.a('string');
      expect(payload.jti).to.equal(`${payload.txn}.${receiverId}`);
      expect(payload.sub_id).to.deep.equal({
        format: 'complex',
        user: { format: 'iss_sub', iss: stack.sim.baseUrl, sub: ALICE },
        tenant: { format: 'opaque', id: clientKey },
      });
      const event = (payload.events as Record<string, { event_timestamp: number; initiating_entity: string; reason_admin: { en: string } }>)[SESSION_REVOKED];
      expect(event).to.include({ initiating_entity: 'system' });
      expect(event?.reason_admin).to.deep.equal({ en: 'user_removed' });
      expect(event?.event_timestamp).to.be.within(Math.floor(Date.now() / 1000) - 30, Math.floor(Date.now() / 1000));
      await untilNothingPending();
      expect(await outbox()).to.deep.equal({ counts: { pending: 0, failed: 0 }, sets: [] });
    });

    it('sends nothing for a revocation that ended nothing', async () => {
      await addReceiver();
      await revokeUser(ALICE);
      // Ending her sessions again ends none: 204 (the site knows her), and nothing to tell.
      expect((await admin('DELETE', `/api/admin/users/${ALICE}/sessions`)).status).to.equal(204);
      await revokeUser(BOB);
      await receiver.waitFor(() => acceptedFor(BOB).length === 1, "Bob's SET");
      expect(acceptedFor(ALICE)).to.have.length(1);
      expect(receiver.pushes).to.have.length(2);
    });

    it('delivers exactly once though the receiver was down and the app restarted meanwhile', async () => {
      await addReceiver();
      receiver.mode = 'down';
      await revokeUser(ALICE);
      await receiver.waitFor(() => receiver.pushes.length >= 2, 'two pushes while down');
      const [{ jti } = { jti: null }] = receiver.pushes;
      await stack.restartApp();
      const pending = await outbox();
      expect(pending.counts).to.deep.equal({ pending: 1, failed: 0 });
      expect(pending.sets[0]).to.include({ jti, state: 'pending', lastError: '503' });
      receiver.mode = 'up';
      await receiver.waitFor(() => receiver.accepted.length === 1, 'the SET once the receiver is back');
      // A later revocation's SET arriving proves the worker has been round again since, and sent nothing more.
      await revokeUser(BOB);
      await receiver.waitFor(() => acceptedFor(BOB).length === 1, "Bob's SET");
      expect(receiver.acceptedCount(jti ?? '')).to.equal(1);
      expect(receiver.pushes.filter((push) => push.jti === jti && push.status === 202)).to.have.length(1);
      expect(receiver.pushes.filter((push) => push.jti === jti).every((push, i, all) => push.status === (i === all.length - 1 ? 202 : 503))).to.equal(true);
      await untilNothingPending();
      expect((await outbox()).counts).to.deep.equal({ pending: 0, failed: 0 });
    });

    it('never sends a SET again once the receiver refused it with 400, and shows it failed', async () => {
      await addReceiver();
      receiver.mode = 'refuse';
      await revokeUser(ALICE);
      await receiver.waitFor(() => receiver.pushes.length === 1, 'the refused push');
      const refusedJti = receiver.pushes[0]?.jti;
      receiver.mode = 'up';
      await revokeUser(BOB);
      await receiver.waitFor(() => acceptedFor(BOB).length === 1, "Bob's SET");
      expect(receiver.pushes.filter((push) => push.jti === refusedJti)).to.deep.equal([{ jti: refusedJti, status: 400 }]);
      await untilNothingPending();
      const failed = await outbox('?state=failed');
      expect(failed.counts).to.deep.equal({ pending: 0, failed: 1 });
      expect(failed.sets[0]).to.include({
        jti: refusedJti,
        accountId: ALICE,
        state: 'failed',
        attempts: 1,
        nextAttemptAt: null,
        lastError: '400 invalid_request: this receiver was told to refuse',
      });
    });

    it('counts what it queued, delivered, retried and gave up on in /metrics', async () => {
      await addReceiver();
      receiver.mode = 'down';
      await revokeUser(ALICE);
      await receiver.waitFor(() => receiver.pushes.length >= 1, 'a push while down');
      receiver.mode = 'refuse';
      await receiver.waitFor(() => receiver.pushes.some((push) => push.status === 400), 'the refusal');
      receiver.mode = 'up';
      await revokeUser(BOB);
      await receiver.waitFor(() => acceptedFor(BOB).length === 1, "Bob's SET");
      await untilNothingPending();
      const text = await (await fetch(`${stack.app.baseUrl}/metrics`)).text();
      const sample = (name: string) => Number(text.split('\n').find((line) => line.startsWith(`${name} `))?.split(' ')[1] ?? Number.NaN);
      expect(sample('panelguard_ssf_sets_delivered_total')).to.equal(1);
      expect(sample('panelguard_ssf_sets_failed_total')).to.equal(1);
      expect(sample('panelguard_ssf_sets_retried_total')).to.be.at.least(1);
      expect(sample('panelguard_ssf_sets_queued{state="failed"}')).to.equal(1);
      expect(sample('panelguard_ssf_sets_queued{state="pending"}')).to.equal(0);
    });
  });
});

describe('SSF transmitter on two nodes sharing one PostgreSQL database', function () {
  this.timeout(60_000);
  let database: TestDatabase | undefined;
  let sim: HostSimulator | undefined;
  let receiver: TestReceiver | undefined;
  const nodes: RunningApp[] = [];
  const dirs: string[] = [];
  const clientKey = `site-${randomBytes(6).toString('hex')}`;
  const users = Array.from({ length: 24 }, (_, i) => `557058:user-${i}`);

  before(async function () {
    await servicesOrSkip(this, 'postgres');
    database = await createTestDatabase();
    sim = await startHostSimulator({ clientKey, users: users.map((accountId) => ({ accountId, displayName: accountId, active: true, siteAdmin: false })) });
    const ports = [await freePort(), await freePort()];
    // One address for both, as behind a load balancer: the issuer of every SET, whichever node sends it.
    const baseUrl = `http://127.0.0.1:${ports[0]}`;
    const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const port of ports) {
      const dir = mkdtempSync(path.join(tmpdir(), 'panelguard-ssf-node-'));
      dirs.push(dir);
      const config = loadConfig({
        NODE_ENV: 'test',
        PORT: String(port),
        APP_BASE_URL: baseUrl,
        DATA_DIR: dir,
        DATABASE_URL: database.url,
        PAGE_TOKEN_SECRET: 'p'.repeat(40),
        SSF_SIGNING_KEY: signingKey,
        OPERATOR_TOKEN: `${clientKey}:${OPERATOR_SECRET}`,
        CONNECT_KEYS_CDN_URL: sim.keysUrl,
        SWEEP_INTERVAL_SECONDS: '0',
        ...FAST_PUSHES,
      });
      nodes.push(await startApp(config, { logger: createLogger('warn', new LogCapture()) }));
    }
    const installed = await sim.install(baseUrl);
    expect(installed.status).to.equal(204);
    receiver = await startTestReceiver({ jwksUrl: () => `${baseUrl}/.well-known/jwks.json`, issuer: () => baseUrl, audience: AUDIENCE });
  });
  after(async () => {
    for (const node of nodes) await node.close();
    await receiver?.close();
    await sim?.close();
    await database?.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const nodeUrl = (node: RunningApp) => `http://127.0.0.1:${node.port}`;

  it('delivers each SET once, whichever node revoked and whichever pushed', async () => {
    const [first, second] = nodes as [RunningApp, RunningApp];
    const added = await call(nodeUrl(first), 'POST', '/api/admin/ssf/receivers', OPERATOR_SECRET, { endpointUrl: receiver!.url, audience: AUDIENCE });
    expect(added.status, added.text).to.equal(201);
    for (const user of users) {
      const panel = await fetch(sim!.panelUrl('issue-notes', ISSUE, user));
      expect(panel.status).to.equal(200);
    }
    // Half the revocations on each node, all at once: each node is woken by its own and polls for the other's.
    const revoked = await Promise.all(
      users.map((user, i) => call(nodeUrl(i % 2 === 0 ? first : second), 'DELETE', `/api/admin/users/${encodeURIComponent(user)}/sessions`, OPERATOR_SECRET)),
    );
    expect(revoked.map((answer) => answer.status)).to.deep.equal(users.map(() => 204));
    await receiver!.waitFor(() => receiver!.accepted.length >= users.length, `${users.length} SETs`);
    // One more round on each node: anything still held or due would be sent now.
    await Promise.all(nodes.map((node) => node.transmitter.runOnce()));
    const jtis = receiver!.accepted.map((set) => set.payload.jti);
    expect(new Set(jtis).size).to.equal(users.length);
    expect(receiver!.pushes).to.have.length(users.length);
    const named = receiver!.accepted.map((set) => (set.payload.sub_id as { user: { sub: string } }).user.sub).sort();
    expect(named).to.deep.equal([...users].sort());
  });
});
