/**
 * The admin API over real HTTP: every route's success and each of its 401, 403, 404 and 400
 * answers, both ways in (operator token, admin page token), and tenant isolation.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ALICE, BOB, ISSUE, pageTokenOf, startStack, type Stack } from './harness';

const ADMIN = '557058:site-admin';
const OPERATOR_SECRET = randomBytes(24).toString('base64url');
const OTHER_TENANT_SECRET = randomBytes(24).toString('base64url');

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

describe('admin API', function () {
  this.timeout(30_000);
  let stack: Stack;

  beforeEach(async () => {
    // The operator token names its tenant; the simulator's clientKey is only known once it runs, so it is set per stack.
    const clientKey = `site-${randomBytes(6).toString('hex')}`;
    stack = await startStack({
      env: { OPERATOR_TOKEN: `${clientKey}:${OPERATOR_SECRET},another-site:${OTHER_TENANT_SECRET}` },
      clientKey,
    });
    stack.sim.directory.add({ accountId: ADMIN, displayName: 'Ada Admin', siteAdmin: true });
  });
  afterEach(async () => {
    await stack?.stop();
  });

  async function call(method: string, path: string, bearer: string | null, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${stack.app.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? {} : (JSON.parse(text) as Answer['body']) };
  }

  async function pageToken(moduleKey: string, accountId: string): Promise<{ status: number; token: string | null }> {
    const response = await fetch(stack.sim.pageUrl(moduleKey, accountId));
    return { status: response.status, token: pageTokenOf(await response.text()) };
  }

  async function adminToken(): Promise<string> {
    const { status, token } = await pageToken('admin', ADMIN);
    if (status !== 200 || token === null) throw new Error(`no admin page token: ${status}`);
    return token;
  }

  async function panelToken(accountId: string): Promise<string> {
    const panel = await stack.loadPanel(accountId);
    if (panel.token === null) throw new Error(`no panel token: ${panel.status}`);
    return panel.token;
  }

  describe('who may call it', () => {
    it('answers 401 token_missing without credentials, on every route', async () => {
      for (const [method, path] of [
        ['GET', '/api/admin/me'],
        ['GET', '/api/admin/sessions'],
        ['DELETE', `/api/admin/users/${BOB}/sessions`],
        ['DELETE', '/api/admin/sessions'],
        ['GET', '/api/admin/policy'],
        ['PUT', '/api/admin/policy'],
        ['GET', '/api/admin/audit'],
      ] as const) {
        const answer = await call(method, path, null);
        expect(answer.status, `${method} ${path}`).to.equal(401);
        expect(answer.body.error?.code).to.equal('token_missing');
        expect(answer.headers.get('www-authenticate')).to.match(/^Bearer realm=/);
      }
    });

    it('answers 401 for an unknown operator token, a forged page token and a revoked admin page token', async () => {
      expect((await call('GET', '/api/admin/sessions', 'x'.repeat(40))).body.error?.code).to.equal('token_invalid');
      const admin = await adminToken();
      const [head, payload] = admin.split('.');
      expect((await call('GET', '/api/admin/sessions', `${head}.${payload}.forged`)).status).to.equal(401);
      await call('DELETE', `/api/admin/users/${encodeURIComponent(ADMIN)}/sessions`, OPERATOR_SECRET);
      const revoked = await call('GET', '/api/admin/sessions', admin);
      expect(revoked.status).to.equal(401);
      expect(revoked.body.error?.code).to.equal('token_revoked');
    });

    it('answers 403 on every route to a signed-in user holding a page token for another page', async () => {
      const routes = [
        ['GET', '/api/admin/me'],
        ['GET', '/api/admin/sessions'],
        ['DELETE', `/api/admin/users/${ALICE}/sessions`],
        ['DELETE', '/api/admin/sessions'],
        ['GET', '/api/admin/policy'],
        ['PUT', '/api/admin/policy'],
        ['GET', '/api/admin/audit'],
      ] as const;
      for (const token of [await panelToken(BOB), (await pageToken('my-sessions', BOB)).token!]) {
        for (const [method, path] of routes) {
          const answer = await call(method, path, token, method === 'PUT' ? { idleTimeoutSeconds: 60, absoluteLifetimeSeconds: 60 } : undefined);
          expect(answer.status, `${method} ${path}`).to.equal(403);
          expect(answer.body.error?.code).to.equal('forbidden');
        }
      }
      expect((await call('GET', '/api/admin/policy', await adminToken())).body).to.include({ isDefault: true });
    });

    it('mints no admin page token for a user the host does not report as a site admin, even with a valid Connect JWT', async () => {
      const refused = await pageToken('admin', BOB);
      expect(refused.status).to.equal(403);
      expect(refused.token).to.equal(null);
      expect((await pageToken('admin', ADMIN)).token).to.be.a('string');
    });

    it('keeps the host\'s word on a site admin briefly, and answers 503 when the host cannot be asked and nothing is kept', async () => {
      stack.sim.directory.add({ accountId: '557058:second-admin', displayName: 'Second Admin', siteAdmin: true });
      const [first, again, other] = [stack.sim.pageUrl('admin', ADMIN), stack.sim.pageUrl('admin', ADMIN), stack.sim.pageUrl('admin', '557058:second-admin')];
      expect((await fetch(first)).status).to.equal(200);
      // The Connect JWTs stay valid without the host; only the question "is this a site admin?" needs it.
      await stack.sim.close();
      const kept = await fetch(again);
      expect(kept.status).to.equal(200);
      expect(pageTokenOf(await kept.text())).to.be.a('string');
      const unasked = await fetch(other);
      expect(unasked.status).to.equal(503);
      expect(pageTokenOf(await unasked.text())).to.equal(null);
    });

    it('lets an operator token act on its own tenant only', async () => {
      const bob = await panelToken(BOB);
      const elsewhere = await call('GET', '/api/admin/sessions', OTHER_TENANT_SECRET);
      expect(elsewhere.status).to.equal(200);
      expect(elsewhere.body.sessions).to.deep.equal([]);
      expect((await call('DELETE', `/api/admin/users/${BOB}/sessions`, OTHER_TENANT_SECRET)).status).to.equal(404);
      expect((await call('DELETE', '/api/admin/sessions', OTHER_TENANT_SECRET)).body).to.include({ revoked: 0 });
      expect((await stack.api(bob, 'GET', ISSUE.issueId)).status).to.equal(200);
      const own = await call('GET', '/api/admin/sessions', OPERATOR_SECRET);
      expect((own.body.sessions as { accountId: string }[]).map((s) => s.accountId)).to.deep.equal([BOB]);
    });
  });

  describe('GET /api/admin/sessions', () => {
    it('lists live sessions with user, resource, device, IP and times, filtered by user and resource, paged', async () => {
      await panelToken(ALICE);
      await panelToken(BOB);
      await panelToken(BOB);
      const all = await call('GET', '/api/admin/sessions', OPERATOR_SECRET);
      expect(all.status).to.equal(200);
      expect(all.headers.get('cache-control')).to.equal('no-store');
      const sessions = all.body.sessions as Record<string, unknown>[];
      expect(sessions).to.have.length(3);
      expect(sessions[0]).to.have.all.keys(
        'id', 'accountId', 'displayName', 'resource', 'issueKey', 'projectKey', 'device', 'ip', 'agent', 'network', 'startedAt', 'lastSeenAt', 'expiresAt',
      );
      expect(sessions[0]).to.include({ resource: `jira:issue:${ISSUE.issueId}` });
      const bobs = await call('GET', `/api/admin/sessions?user=${encodeURIComponent(BOB)}`, OPERATOR_SECRET);
      expect((bobs.body.sessions as unknown[]).length).to.equal(2);
      expect((await call('GET', '/api/admin/sessions?resource=jira:issue:99999', OPERATOR_SECRET)).body.sessions).to.deep.equal([]);
      const first = await call('GET', '/api/admin/sessions?limit=2', OPERATOR_SECRET);
      expect((first.body.sessions as unknown[]).length).to.equal(2);
      const rest = await call('GET', `/api/admin/sessions?limit=2&after=${encodeURIComponent(first.body.next as string)}`, OPERATOR_SECRET);
      expect((rest.body.sessions as unknown[]).length).to.equal(1);
      expect(rest.body.next).to.equal(null);
    });

    it('answers 400 to a bad limit or cursor', async () => {
      for (const query of ['limit=0', 'limit=201', 'limit=abc', 'after=not-a-cursor']) {
        const answer = await call('GET', `/api/admin/sessions?${query}`, OPERATOR_SECRET);
        expect(answer.status, query).to.equal(400);
        expect(answer.body.error?.code).to.equal('bad_request');
      }
    });

    it('answers 400 naming after to a cursor it never gave out, and the store is never asked with one', async () => {
      await panelToken(ALICE);
      await panelToken(BOB);
      const store = stack.app.store;
      const listEntries = store.listEntries.bind(store);
      const asked: (string | undefined)[] = [];
      store.listEntries = (query) => {
        asked.push(query.after);
        return listEntries(query);
      };
      const first = await call('GET', '/api/admin/sessions?limit=1', OPERATOR_SECRET);
      const given = first.body.next as string;
      const text = (cursor: string) => Buffer.from(cursor, 'utf8').toString('base64url');
      const forged = [
        'not-a-cursor',
        `${given}=`,
        text(`-1:${'a'.repeat(64)}`),
        text(`01:${'a'.repeat(64)}`),
        text(`1:${'A'.repeat(64)}`),
        text(`1:${'a'.repeat(63)}`),
        'a'.repeat(513),
      ].filter((cursor) => cursor !== given);
      for (const cursor of forged) {
        const answer = await call('GET', `/api/admin/sessions?after=${encodeURIComponent(cursor)}`, OPERATOR_SECRET);
        expect(answer.status, cursor).to.equal(400);
        expect(answer.body.error?.code, cursor).to.equal('bad_request');
        expect(answer.body.error?.message, cursor).to.match(/^after: /);
      }
      expect((await call('GET', `/api/admin/sessions?after=${encodeURIComponent(given)}`, OPERATOR_SECRET)).status).to.equal(200);
      expect(asked).to.deep.equal([undefined, given]);
    });
  });

  describe('DELETE /api/admin/users/:accountId/sessions/:id', () => {
    it("ends that one session of the user (a device row's pages are ended one by one), and no other", async () => {
      const first = await panelToken(BOB);
      const second = await panelToken(BOB);
      const listed = await call('GET', `/api/admin/sessions?user=${encodeURIComponent(BOB)}`, OPERATOR_SECRET);
      const ids = (listed.body.sessions as Array<{ id: string }>).map((session) => session.id);
      expect(ids).to.have.length(2);
      const ended = await call('DELETE', `/api/admin/users/${encodeURIComponent(BOB)}/sessions/${ids[0]}`, await adminToken());
      expect(ended.status).to.equal(204);
      expect(ended.headers.get('revocation-confirmed')).to.equal('1/1');
      const statuses = [(await stack.api(first, 'GET', ISSUE.issueId)).status, (await stack.api(second, 'GET', ISSUE.issueId)).status];
      expect(statuses.sort()).to.deep.equal([200, 401]);
    });

    it("answers 404 for a session that is not that user's or no longer live, and 400 for a malformed id", async () => {
      await panelToken(BOB);
      const listed = await call('GET', `/api/admin/sessions?user=${encodeURIComponent(BOB)}`, OPERATOR_SECRET);
      const [bobs] = (listed.body.sessions as Array<{ id: string }>).map((session) => session.id);
      const asAlice = await call('DELETE', `/api/admin/users/${encodeURIComponent(ALICE)}/sessions/${bobs}`, OPERATOR_SECRET);
      expect(asAlice.status).to.equal(404);
      expect(asAlice.body.error?.code).to.equal('not_found');
      expect((await call('DELETE', `/api/admin/users/${encodeURIComponent(BOB)}/sessions/${bobs}`, OPERATOR_SECRET)).status).to.equal(204);
      expect((await call('DELETE', `/api/admin/users/${encodeURIComponent(BOB)}/sessions/${bobs}`, OPERATOR_SECRET)).status).to.equal(404);
      const malformed = await call('DELETE', `/api/admin/users/${encodeURIComponent(BOB)}/sessions/not-an-id`, OPERATOR_SECRET);
      expect(malformed.status).to.equal(400);
      expect(malformed.body.error?.code).to.equal('bad_request');
    });
  });

  describe('DELETE /api/admin/users/:accountId/sessions', () => {
    it('answers 204 with the confirmation, and the user is refused on the next call while others are not', async () => {
      const bob = await panelToken(BOB);
      const alice = await panelToken(ALICE);
      const answer = await call('DELETE', `/api/admin/users/${encodeURIComponent(BOB)}/sessions`, await adminToken());
      expect(answer.status).to.equal(204);
      expect(answer.headers.get('revocation-confirmed')).to.equal('1/1');
      expect((await stack.api(bob, 'GET', ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
      expect((await stack.api(alice, 'GET', ISSUE.issueId)).status).to.equal(200);
    });

    it('answers 204 for a known user with nothing live, and 404 for a user the site never saw', async () => {
      await panelToken(BOB);
      await call('DELETE', `/api/admin/users/${encodeURIComponent(BOB)}/sessions`, OPERATOR_SECRET);
      expect((await call('DELETE', `/api/admin/users/${encodeURIComponent(BOB)}/sessions`, OPERATOR_SECRET)).status).to.equal(204);
      const unknown = await call('DELETE', '/api/admin/users/557058:nobody/sessions', OPERATOR_SECRET);
      expect(unknown.status).to.equal(404);
      expect(unknown.body.error?.code).to.equal('not_found');
    });

    it('answers 400 to an account id that cannot be one', async () => {
      const answer = await call('DELETE', `/api/admin/users/${'x'.repeat(200)}/sessions`, OPERATOR_SECRET);
      expect(answer.status).to.equal(400);
    });
  });

  describe('DELETE /api/admin/sessions', () => {
    it('ends every session of the site, the admin page included, and says how many', async () => {
      const bob = await panelToken(BOB);
      await panelToken(ALICE);
      const admin = await adminToken();
      const answer = await call('DELETE', '/api/admin/sessions', admin);
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.equal({ revoked: 3, confirmation: { confirmed: 1, expected: 1 } });
      expect(answer.headers.get('revocation-confirmed')).to.equal('1/1');
      expect((await stack.api(bob, 'GET', ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
      expect((await call('GET', '/api/admin/sessions', admin)).body.error?.code).to.equal('token_revoked');
    });
  });

  describe('policy', () => {
    it('starts at the configured defaults, and a change is answered, read back and audited', async () => {
      const admin = await adminToken();
      const defaults = { idleTimeoutSeconds: 300, absoluteLifetimeSeconds: 600, theftResponse: 'revoke', agentChangeResponse: 'report', keyBinding: false };
      expect((await call('GET', '/api/admin/policy', admin)).body).to.deep.equal({ policy: defaults, isDefault: true });
      const policy = { ...defaults, idleTimeoutSeconds: 900, absoluteLifetimeSeconds: 3600 };
      const changed = await call('PUT', '/api/admin/policy', admin, { idleTimeoutSeconds: 900, absoluteLifetimeSeconds: 3600 });
      expect(changed.status).to.equal(200);
      expect(changed.body).to.deep.equal({ policy });
      expect((await call('GET', '/api/admin/policy', admin)).body).to.deep.equal({ policy, isDefault: false });
      const audit = await call('GET', '/api/admin/audit?kind=policy', admin);
      expect(audit.body.records).to.have.length(1);
      expect((audit.body.records as Record<string, unknown>[])[0]).to.include({ kind: 'policy', actor: `admin:${ADMIN}` });
    });

    it('answers 400 naming the field for an out-of-range or missing value, and changes nothing', async () => {
      for (const [body, field] of [
        [{ idleTimeoutSeconds: 30, absoluteLifetimeSeconds: 600 }, 'idleTimeoutSeconds'],
        [{ idleTimeoutSeconds: 600, absoluteLifetimeSeconds: 100_000 }, 'absoluteLifetimeSeconds'],
        [{ idleTimeoutSeconds: 900, absoluteLifetimeSeconds: 600 }, 'idleTimeoutSeconds'],
        [{ idleTimeoutSeconds: 900 }, 'idleTimeoutSeconds'],
        [{ idleTimeoutSeconds: '600', absoluteLifetimeSeconds: 600 }, 'idleTimeoutSeconds'],
        [{ theftResponse: 'block' }, 'theftResponse'],
        [{ agentChangeResponse: 'REVOKE' }, 'agentChangeResponse'],
        [{ keyBinding: 'true' }, 'keyBinding'],
        [{ keyBinding: true, rotateAfter: 5 }, 'rotateAfter'],
        [{}, 'at least one setting'],
      ] as const) {
        const answer = await call('PUT', '/api/admin/policy', OPERATOR_SECRET, body);
        expect(answer.status, JSON.stringify(body)).to.equal(400);
        expect(answer.body.error?.message).to.include(field);
      }
      expect((await call('GET', '/api/admin/policy', OPERATOR_SECRET)).body).to.include({ isDefault: true });
    });

    it('lists every bad setting in error.fields, those zod refuses and those out of bounds, with the first as the message', async () => {
      const answer = await call('PUT', '/api/admin/policy', OPERATOR_SECRET, {
        idleTimeoutSeconds: 30,
        absoluteLifetimeSeconds: 100_000,
        theftResponse: 'block',
        keyBinding: 'yes',
      });
      expect(answer.status).to.equal(400);
      const fields = (answer.body.error as unknown as { fields: { field: string; message: string }[] }).fields;
      expect(fields.map((f) => f.field).sort()).to.deep.equal(['absoluteLifetimeSeconds', 'idleTimeoutSeconds', 'keyBinding', 'theftResponse']);
      expect(fields.find((f) => f.field === 'idleTimeoutSeconds')?.message).to.equal('must be a whole number of seconds from 60 to 86400');
      expect(answer.body.error?.message).to.match(/^theftResponse: /);
    });

    it('lists both bounds problems of a well-formed change, with the first as the message it always said', async () => {
      const answer = await call('PUT', '/api/admin/policy', OPERATOR_SECRET, { idleTimeoutSeconds: 30, absoluteLifetimeSeconds: 100_000 });
      expect(answer.status).to.equal(400);
      expect(answer.body.error?.message).to.equal('idleTimeoutSeconds must be a whole number of seconds from 60 to 86400');
      expect((answer.body.error as unknown as { fields: { field: string }[] }).fields.map((f) => f.field)).to.deep.equal(['idleTimeoutSeconds', 'absoluteLifetimeSeconds']);
    });

    it('changes only the settings a PUT names and keeps the rest', async () => {
      await call('PUT', '/api/admin/policy', OPERATOR_SECRET, { idleTimeoutSeconds: 120 });
      const changed = await call('PUT', '/api/admin/policy', OPERATOR_SECRET, { theftResponse: 'report', keyBinding: true });
      expect(changed.status).to.equal(200);
      expect(changed.body).to.deep.equal({
        policy: { idleTimeoutSeconds: 120, absoluteLifetimeSeconds: 600, theftResponse: 'report', agentChangeResponse: 'report', keyBinding: true },
      });
      const audit = await call('GET', '/api/admin/audit?kind=policy', OPERATOR_SECRET);
      expect((audit.body.records as { reason: string }[])[0].reason).to.equal('idle=120s absolute=600s theft=report agent-change=report key-binding=on');
    });
  });

  describe('GET /api/admin/audit', () => {
    it('pages newest first and filters by kind, user and time', async () => {
      const startedAt = Date.now();
      await panelToken(BOB);
      await panelToken(ALICE);
      await call('DELETE', `/api/admin/users/${encodeURIComponent(BOB)}/sessions`, OPERATOR_SECRET);
      await stack.app.audit.drain();
      const revokes = await call('GET', '/api/admin/audit?kind=revoke', OPERATOR_SECRET);
      expect(revokes.body.records).to.have.length(1);
      expect((revokes.body.records as Record<string, unknown>[])[0]).to.deep.include({
        kind: 'revoke',
        accountId: BOB,
        actor: 'operator',
        reason: 'admin_revoked_user',
        count: 1,
        confirmation: { confirmed: 1, expected: 1 },
      });
      const bobs = await call('GET', `/api/admin/audit?user=${encodeURIComponent(BOB)}`, OPERATOR_SECRET);
      expect((bobs.body.records as { kind: string }[]).map((r) => r.kind)).to.deep.equal(['revoke', 'mint']);
      const page = await call('GET', '/api/admin/audit?limit=1', OPERATOR_SECRET);
      expect(page.body.records).to.have.length(1);
      const next = await call('GET', `/api/admin/audit?limit=1&before=${page.body.nextBefore as number}`, OPERATOR_SECRET);
      expect((next.body.records as { id: number }[])[0]!.id).to.be.below((page.body.records as { id: number }[])[0]!.id);
      expect((await call('GET', `/api/admin/audit?until=${startedAt}&kind=mint`, OPERATOR_SECRET)).body.records).to.deep.equal([]);
      expect((await call('GET', `/api/admin/audit?since=${new Date(startedAt).toISOString()}&kind=mint`, OPERATOR_SECRET)).body.records).to.have.length(2);
    });

    it('answers 400 to an unknown kind, a bad time or a bad limit', async () => {
      for (const query of ['kind=everything', 'since=yesterday', 'limit=-1', 'before=abc']) {
        expect((await call('GET', `/api/admin/audit?${query}`, OPERATOR_SECRET)).status, query).to.equal(400);
      }
    });
  });
});
