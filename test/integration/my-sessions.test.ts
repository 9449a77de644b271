/** "My sessions" over real HTTP: a user sees and ends their own sessions, and reads what theft detection noticed about them; nobody else's. */
import { expect } from 'chai';
import { ManualClock } from '../../src/base/clock';
import { ALICE, BOB, ISSUE, OTHER_ISSUE, pageTokenOf, startStack, type Stack } from './harness';

interface Session {
  id: string;
  resource: string;
  current: boolean;
  device: string | null;
}

describe('my sessions API', function () {
  this.timeout(30_000);
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack();
  });
  afterEach(async () => {
    await stack?.stop();
  });

  async function myPage(accountId: string): Promise<string> {
    const response = await fetch(stack.sim.pageUrl('my-sessions', accountId), { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36' } });
    const token = pageTokenOf(await response.text());
    if (response.status !== 200 || token === null) throw new Error(`no my-sessions token: ${response.status}`);
    return token;
  }

  async function panel(accountId: string, ctx = ISSUE): Promise<string> {
    const loaded = await stack.loadPanel(accountId, ctx);
    if (loaded.token === null) throw new Error(`no panel token: ${loaded.status}`);
    return loaded.token;
  }

  async function call(method: string, path: string, token: string): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
    const response = await fetch(`${stack.app.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  }

  async function mySessions(token: string): Promise<Session[]> {
    return (await call('GET', '/api/me/sessions', token)).body.sessions as Session[];
  }

  it('lists only the caller\'s live sessions, marks the one in hand, and names the device', async () => {
    await panel(ALICE);
    await panel(ALICE, OTHER_ISSUE);
    await panel(BOB);
    const mine = await myPage(ALICE);
    const sessions = await mySessions(mine);
    expect(sessions.map((s) => s.resource).sort()).to.deep.equal(['app:self', `jira:issue:${ISSUE.issueId}`, `jira:issue:${OTHER_ISSUE.issueId}`]);
    expect(sessions.filter((s) => s.current).map((s) => s.resource)).to.deep.equal(['app:self']);
    expect(sessions.find((s) => s.current)?.device).to.equal('Chrome 120 on Linux');
    expect(sessions[0]).to.not.have.property('accountId');
  });

  it('ends one of the caller\'s sessions: it is refused on its next call, the others are not', async () => {
    const issueTab = await panel(ALICE);
    const otherTab = await panel(ALICE, OTHER_ISSUE);
    const mine = await myPage(ALICE);
    const target = (await mySessions(mine)).find((s) => s.resource === `jira:issue:${ISSUE.issueId}`)!;
    const ended = await call('DELETE', `/api/me/sessions/${target.id}`, mine);
    expect(ended.status).to.equal(204);
    expect(ended.headers.get('revocation-confirmed')).to.equal('1/1');
    expect((await stack.api(issueTab, 'GET', ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
    expect((await stack.api(otherTab, 'GET', OTHER_ISSUE.issueId)).status).to.equal(200);
  });

  it('cannot see or end another user\'s session: 404, and that session keeps working', async () => {
    const bobs = await panel(BOB);
    const bobsId = (await mySessions(await myPage(BOB))).find((s) => !s.current)!.id;
    const alice = await myPage(ALICE);
    expect((await mySessions(alice)).map((s) => s.id)).to.not.include(bobsId);
    const refused = await call('DELETE', `/api/me/sessions/${bobsId}`, alice);
    expect(refused.status).to.equal(404);
    expect((refused.body.error as { code: string }).code).to.equal('not_found');
    expect((await stack.api(bobs, 'GET', ISSUE.issueId)).status).to.equal(200);
  });

  it('ends every other session of the caller and keeps the one in hand', async () => {
    const issueTab = await panel(ALICE);
    const bobs = await panel(BOB);
    const mine = await myPage(ALICE);
    const answer = await call('DELETE', '/api/me/sessions', mine);
    expect(answer.status).to.equal(200);
    expect(answer.body).to.deep.equal({ revoked: 1, confirmation: { confirmed: 1, expected: 1 } });
    expect((await stack.api(issueTab, 'GET', ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
    expect((await mySessions(mine)).map((s) => s.resource)).to.deep.equal(['app:self']);
    expect((await stack.api(bobs, 'GET', ISSUE.issueId)).status).to.equal(200);
  });

  it('records the client address from X-Forwarded-For only when TRUST_PROXY names the proxy', async () => {
    const forwarded = { 'x-forwarded-for': '203.0.113.9' };
    await fetch(stack.sim.panelUrl('issue-notes', ISSUE, ALICE), { headers: forwarded });
    const untrusted = (await mySessions(await myPage(ALICE))).find((s) => !s.current) as Session & { ip: string };
    expect(untrusted.ip).to.not.equal('203.0.113.9');
    await stack.stop();
    stack = await startStack({ env: { TRUST_PROXY: 'loopback' } });
    await fetch(stack.sim.panelUrl('issue-notes', ISSUE, ALICE), { headers: forwarded });
    const trusted = (await mySessions(await myPage(ALICE))).find((s) => !s.current) as Session & { ip: string };
    expect(trusted.ip).to.equal('203.0.113.9');
  });

  it('answers 403 to an issue panel\'s token and 400 to an id that cannot be one', async () => {
    const issueTab = await panel(ALICE);
    expect((await call('GET', '/api/me/sessions', issueTab)).status).to.equal(403);
    expect((await call('DELETE', '/api/me/sessions/not-an-id', await myPage(ALICE))).status).to.equal(400);
    expect((await fetch(`${stack.app.baseUrl}/api/me/sessions`)).status).to.equal(401);
  });

  describe('signals', () => {
    interface Sighting {
      network: string | null;
      agent: string | null;
      at: number;
    }
    interface Signal {
      at: number;
      kind: string;
      action: string;
      resource: string | null;
      issueKey: string | null;
      projectKey: string | null;
      presented: Sighting;
      holder: Sighting;
    }

    /** Rotates `user`'s panel session once, then uses its first token again after the grace: a fork, which ends it. */
    async function fork(clock: ManualClock, user: string): Promise<void> {
      const first = await panel(user);
      clock.advance(61_000);
      const offered = (await stack.api(first, 'GET', ISSUE.issueId)).headers.get('page-token-next');
      if (offered === null) throw new Error('no successor offered');
      expect((await stack.api(offered, 'GET', ISSUE.issueId)).status).to.equal(200);
      clock.advance(11_000);
      expect((await stack.api(first, 'GET', ISSUE.issueId)).body.error?.code).to.equal('token_forked');
      await stack.app.audit.drain();
    }

    async function signals(token: string): Promise<Signal[]> {
      return (await call('GET', '/api/me/signals', token)).body.signals as Signal[];
    }

    it("lists a fork of the caller's session with both sides by network and browser, its issue by key, and no address", async () => {
      const clock = new ManualClock(Date.now());
      await stack.stop();
      stack = await startStack({ clock, env: { ROTATE_AFTER_SECONDS: '60', ROTATION_GRACE_SECONDS: '10' } });
      stack.sim.issues.put(ISSUE);
      await fork(clock, ALICE);
      const [signal, ...rest] = await signals(await myPage(ALICE));
      expect(rest).to.deep.equal([]);
      expect(signal).to.deep.include({ kind: 'fork', action: 'revoked', resource: `jira:issue:${ISSUE.issueId}`, issueKey: ISSUE.issueKey, projectKey: null, at: clock.now() });
      expect(signal.presented).to.have.all.keys('network', 'agent', 'at');
      expect(signal.holder).to.have.all.keys('network', 'agent', 'at');
      expect(signal.presented.network).to.match(/\/\d+$/);
      expect(JSON.stringify(signal)).to.not.match(/127\.0\.0\.1|::1\b/);
    });

    it("shows nobody another user's signals", async () => {
      const clock = new ManualClock(Date.now());
      await stack.stop();
      stack = await startStack({ clock, env: { ROTATE_AFTER_SECONDS: '60', ROTATION_GRACE_SECONDS: '10' } });
      await fork(clock, ALICE);
      expect(await signals(await myPage(BOB))).to.deep.equal([]);
      expect(await signals(await myPage(ALICE))).to.have.length(1);
    });

    it('answers 401 without a page token and 403 to an issue panel\'s', async () => {
      expect((await fetch(`${stack.app.baseUrl}/api/me/signals`)).status).to.equal(401);
      expect((await call('GET', '/api/me/signals', await panel(ALICE))).status).to.equal(403);
    });
  });
});
