import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { ManualClock } from '../../src/base/clock';
import { ALICE, BOB, ISSUE, OTHER_ISSUE, OTHER_PROJECT_ISSUE, startStack, type Stack } from './harness';

async function tokenFor(stack: Stack, accountId: string, ctx = ISSUE): Promise<string> {
  const panel = await stack.loadPanel(accountId, ctx);
  expect(panel.status, panel.html).to.equal(200);
  expect(panel.token).to.be.a('string');
  return panel.token as string;
}

describe('HTTP: install, panel and guard', function () {
  let stack: Stack;
  beforeEach(async () => {
    stack = await startStack();
  });
  afterEach(async () => {
    await stack.stop();
  });

  describe('install', () => {
    it('accepts the signed install and serves the descriptor with baseUrl from configuration', async () => {
      const descriptor = (await (await fetch(`${stack.app.baseUrl}/atlassian-connect.json`)).json()) as Record<string, unknown>;
      expect(descriptor.baseUrl).to.equal(stack.app.baseUrl);
      expect(descriptor.apiMigrations).to.include({ 'signed-install': true, 'context-qsh': true });
      expect(stack.sim.appState).to.equal('enabled');
    });

    it('refuses an install signed with a key the key server does not vouch for', async () => {
      for (const forgery of ['foreign-key', 'unknown-kid'] as const) {
        const response = await stack.sim.forgedInstall(stack.app.baseUrl, { forgery });
        expect(response.status, forgery).to.be.within(400, 401);
      }
    });

    it('refuses an unsigned install', async () => {
      const response = await fetch(`${stack.app.baseUrl}/installed`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'panelguard', clientKey: 'evil', sharedSecret: 'x'.repeat(40), baseUrl: 'https://evil.example.com' }),
      });
      expect(response.status).to.equal(401);
    });

    it('never writes the shared secret or a token to its logs', async () => {
      const token = await tokenFor(stack, ALICE);
      await stack.api(token, 'GET', ISSUE.issueId);
      await stack.api(`${token}x`, 'GET', ISSUE.issueId);
      const logs = stack.logs.text();
      expect(logs).to.include('tenant installed');
      expect(logs).not.to.include(token);
      expect(logs).not.to.include(token.split('.')[1]);
      expect(logs).not.to.match(/sharedSecret['"]?\s*[:=]\s*['"]?[A-Za-z0-9_-]{16,}/);
    });
  });

  describe('issue panel', () => {
    it('mints a page token bound to the tenant, the user and the issue', async () => {
      const token = await tokenFor(stack, ALICE);
      const claims = jwt.decode(token, { json: true });
      expect(claims).to.include({ aud: stack.sim.clientKey, sub: ALICE, res: 'jira:issue:10001', iss: 'panelguard' });
    });

    it('refuses a page load without a Connect JWT', async () => {
      const response = await fetch(`${stack.app.baseUrl}/panels/issue-notes?issueId=10001&issueKey=DEMO-1&projectId=10000`);
      expect(response.status).to.equal(401);
      expect(await response.text()).not.to.include('page-token');
    });

    it('refuses a page load whose Connect JWT was signed for another URL (qsh)', async () => {
      const url = new URL(stack.sim.panelUrl('issue-notes', ISSUE, ALICE));
      url.searchParams.set('issueId', '10002');
      const response = await fetch(url);
      expect(response.status).to.equal(401);
    });
  });

  describe('guard', () => {
    it('serves notes to a valid token and stores a new note', async () => {
      const token = await tokenFor(stack, ALICE);
      const added = await stack.api(token, 'POST', ISSUE.issueId, { text: 'first note' });
      expect(added.status).to.equal(201);
      const listed = await stack.api(token, 'GET', ISSUE.issueId);
      expect(listed.status).to.equal(200);
      expect(listed.body.notes?.map((n) => n.text)).to.deep.equal(['first note']);
      expect(listed.body.notes?.[0].accountId).to.equal(ALICE);
      expect(listed.headers.get('cache-control')).to.equal('no-store');
    });

    it('answers token_missing with an RFC 6750 challenge', async () => {
      const response = await stack.api(null, 'GET', ISSUE.issueId);
      expect(response.status).to.equal(401);
      expect(response.body.error?.code).to.equal('token_missing');
      expect(response.headers.get('www-authenticate')).to.match(/^Bearer /);
    });

    it('answers token_malformed for a header that is not a bearer JWT', async () => {
      for (const header of ['Basic abc', 'Bearer not-a-jwt', 'Bearer a.b']) {
        const response = await fetch(`${stack.app.baseUrl}/api/issues/10001/notes`, { headers: { authorization: header } });
        expect(response.status, header).to.equal(401);
        expect(((await response.json()) as { error: { code: string } }).error.code, header).to.equal('token_malformed');
      }
    });

    it('refuses tampered, re-signed and alg:none tokens as token_invalid', async () => {
      const token = await tokenFor(stack, ALICE);
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: BOB })).toString('base64url');
      const tampered = `${header}.${forgedPayload}.${signature}`;
      const resigned = jwt.sign(claims, 'guessed-secret-guessed-secret-guessed', { algorithm: 'HS256' });
      const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
      for (const [name, forged] of Object.entries({ tampered, resigned, none })) {
        const response = await stack.api(forged, 'GET', ISSUE.issueId);
        expect(response.status, name).to.equal(401);
        expect(response.body.error?.code, name).to.equal('token_invalid');
        expect(response.headers.get('www-authenticate'), name).to.include('error="invalid_token"');
      }
    });

    it('answers token_expired once the page token outlives its lifetime', async () => {
      const clock = new ManualClock(Date.now());
      const timed = await startStack({ clock });
      try {
        const token = await tokenFor(timed, ALICE);
        expect((await timed.api(token, 'GET', ISSUE.issueId)).status).to.equal(200);
        clock.advance(601_000);
        const response = await timed.api(token, 'GET', ISSUE.issueId);
        expect(response.status).to.equal(401);
        expect(response.body.error?.code).to.equal('token_expired');
      } finally {
        await timed.stop();
      }
    });

    it('refuses a token on another issue with resource_mismatch', async () => {
      const token = await tokenFor(stack, ALICE);
      const response = await stack.api(token, 'GET', OTHER_ISSUE.issueId);
      expect(response.status).to.equal(403);
      expect(response.body.error?.code).to.equal('resource_mismatch');
    });

    it('answers bad_request for an invalid issue id and an invalid note', async () => {
      const token = await tokenFor(stack, ALICE);
      expect((await stack.api(token, 'GET', 'DEMO-1')).body.error?.code).to.equal('bad_request');
      for (const body of [{}, { text: '' }, { text: 'x'.repeat(10_001) }, { text: 5 }, { text: 'ok', extra: 1 }]) {
        const response = await stack.api(token, 'POST', ISSUE.issueId, body);
        expect(response.status, JSON.stringify(body).slice(0, 40)).to.equal(400);
        expect(response.body.error?.code).to.equal('bad_request');
      }
      const raw = await fetch(`${stack.app.baseUrl}/api/issues/10001/notes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{not json',
      });
      expect(raw.status).to.equal(400);
    });

    it('answers 503 store_unavailable when the store cannot be read', async () => {
      const token = await tokenFor(stack, ALICE);
      const before = await fetch(`${stack.app.baseUrl}/readyz`);
      expect(before.status).to.equal(200);
      expect(await before.json()).to.include({ status: 'ready', store: 'ok', bus: 'ok', cache: 'trusted', nodes: 1 });
      await stack.app.store.close();
      const response = await stack.api(token, 'GET', ISSUE.issueId);
      expect(response.status).to.equal(503);
      expect(response.body.error?.code).to.equal('store_unavailable');
      const ready = await fetch(`${stack.app.baseUrl}/readyz`);
      expect(ready.status).to.equal(503);
      expect(await ready.json()).to.include({ store: 'unavailable' });
    });

    it('keeps tokens across a restart and keeps revoked ones revoked', async () => {
      const alice = await tokenFor(stack, ALICE);
      const bob = await tokenFor(stack, BOB);
      await stack.sim.removeUser(BOB);
      await stack.restartApp();
      expect((await stack.api(alice, 'GET', ISSUE.issueId)).status).to.equal(200);
      expect((await stack.api(bob, 'GET', ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
    });
  });

  describe('revocation by webhook', () => {
    it('refuses a removed user on the very next call, and minting again, while others keep access', async () => {
      const alice = await tokenFor(stack, ALICE);
      const bob = await tokenFor(stack, BOB);
      expect((await stack.api(alice, 'GET', ISSUE.issueId)).status).to.equal(200);
      const webhook = await stack.sim.removeUser(ALICE);
      expect(webhook?.status).to.equal(200);
      // One node: it confirms itself before answering.
      expect(webhook?.headers.get('revocation-confirmed')).to.equal('1/1');
      const refused = await stack.api(alice, 'GET', ISSUE.issueId);
      expect(refused.status).to.equal(401);
      expect(refused.body.error?.code).to.equal('token_revoked');
      expect((await stack.api(bob, 'GET', ISSUE.issueId)).status).to.equal(200);
      // The host would not sign a page for a removed user; a JWT it signed a moment ago must not mint either.
      const panel = await fetch(stack.sim.panelUrl('issue-notes', ISSUE, ALICE, { iat: Math.floor(Date.now() / 1000) - 1 }));
      expect(panel.status).to.equal(403);
      expect(await panel.text()).not.to.include('page-token');
    });

    it('answers 503 store_unavailable to a removal whose revocation could not be written, and finishes it on the host\'s retry', async () => {
      const alice = await tokenFor(stack, ALICE);
      const store = stack.app.store;
      // The tombstone and the revocation are one write: neither happened.
      const putTombstoneAndRevoke = store.putTombstoneAndRevoke.bind(store);
      store.putTombstoneAndRevoke = () => Promise.reject(new Error('store down'));
      const removedAt = Date.now();
      const failed = await stack.sim.sendWebhook('user_deleted', { timestamp: removedAt, user: { accountId: ALICE } });
      store.putTombstoneAndRevoke = putTombstoneAndRevoke;
      expect(failed.status).to.equal(503);
      expect(((await failed.json()) as { error?: { code?: string } }).error?.code).to.equal('store_unavailable');
      const retried = await stack.sim.sendWebhook('user_deleted', { timestamp: removedAt, user: { accountId: ALICE } });
      expect(retried.status).to.equal(200);
      expect(await retried.json()).to.deep.equal({ applied: true, revoked: 1, confirmation: { confirmed: 1, expected: 1 } });
      expect((await stack.api(alice, 'GET', ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
    });

    it('lets a reactivated user back in with new tokens while old ones stay dead', async () => {
      const old = await tokenFor(stack, ALICE);
      await stack.sim.deactivateUser(ALICE, { timestamp: Date.now() - 1000 });
      expect((await stack.api(old, 'GET', ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
      await stack.sim.reactivateUser(ALICE);
      const fresh = await tokenFor(stack, ALICE);
      expect((await stack.api(fresh, 'GET', ISSUE.issueId)).status).to.equal(200);
      expect((await stack.api(old, 'GET', ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
    });

    it('ignores a late webhook older than the state it would change, and lets a repeated one only announce again', async () => {
      const removedAt = Date.now();
      await stack.sim.removeUser(ALICE, { timestamp: removedAt });
      const late = await stack.sim.sendWebhook('user_updated', { timestamp: removedAt - 60_000, user: { accountId: ALICE, active: true } });
      expect(await late.json()).to.deep.equal({ applied: false, revoked: 0, confirmation: null });
      // A retry of the removal that stands changes nothing, but announces it again in case the first broadcast was cut short.
      const repeated = await stack.sim.sendWebhook('user_deleted', { timestamp: removedAt, user: { accountId: ALICE } });
      expect(repeated.headers.get('revocation-confirmed')).to.equal('1/1');
      expect(await repeated.json()).to.deep.equal({ applied: false, revoked: 0, confirmation: { confirmed: 1, expected: 1 } });
      const older = await stack.sim.sendWebhook('user_deleted', { timestamp: removedAt - 1, user: { accountId: ALICE } });
      expect(await older.json()).to.deep.equal({ applied: false, revoked: 0, confirmation: null });
      stack.sim.directory.setActive(ALICE, true);
      const panel = await stack.loadPanel(ALICE);
      expect(panel.status).to.equal(403);
    });

    it('revokes the tokens of a deleted issue and of every issue of a deleted project', async () => {
      const onIssue = await tokenFor(stack, ALICE, ISSUE);
      const onSibling = await tokenFor(stack, BOB, OTHER_ISSUE);
      const elsewhere = await tokenFor(stack, BOB, OTHER_PROJECT_ISSUE);
      await stack.sim.deleteIssue(ISSUE);
      expect((await stack.api(onIssue, 'GET', ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
      expect((await stack.api(onSibling, 'GET', OTHER_ISSUE.issueId)).status).to.equal(200);
      await stack.sim.deleteProject(ISSUE.projectId, 'DEMO');
      expect((await stack.api(onSibling, 'GET', OTHER_ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
      expect((await stack.api(elsewhere, 'GET', OTHER_PROJECT_ISSUE.issueId)).status).to.equal(200);
    });

    it('refuses a webhook without a valid Connect JWT', async () => {
      const response = await fetch(`${stack.app.baseUrl}/webhooks/user-deleted`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ timestamp: Date.now(), user: { accountId: ALICE } }),
      });
      expect(response.status).to.equal(401);
      const token = await tokenFor(stack, ALICE);
      expect((await stack.api(token, 'GET', ISSUE.issueId)).status).to.equal(200);
    });

    it('ends every token of the tenant on uninstall, and a reinstall does not bring them back', async () => {
      const alice = await tokenFor(stack, ALICE);
      const bob = await tokenFor(stack, BOB, OTHER_ISSUE);
      const response = await stack.sim.uninstall();
      expect(response?.status).to.equal(204);
      expect((await stack.api(alice, 'GET', ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
      expect((await stack.api(bob, 'GET', OTHER_ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
      expect((await stack.sim.install(stack.app.baseUrl)).status).to.equal(204);
      expect((await stack.api(alice, 'GET', ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
      expect((await stack.api(await tokenFor(stack, ALICE), 'GET', ISSUE.issueId)).status).to.equal(200);
    });

    it('refuses tokens while the app is disabled and mints again once enabled', async () => {
      const before = await tokenFor(stack, ALICE);
      expect((await stack.sim.disable())?.status).to.equal(204);
      expect((await stack.api(before, 'GET', ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
      expect((await stack.sim.enable())?.status).to.equal(204);
      expect((await stack.api(await tokenFor(stack, ALICE), 'GET', ISSUE.issueId)).status).to.equal(200);
    });
  });
});
