/**
 * The live channel over HTTP: an open page hears that its session ended within a second of the revoking answer,
 * hears nothing from announcements that end nothing, is refused like any guarded call, and is bounded per node.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ManualClock } from '../../src/base/clock';
import { ALICE, BOB, ISSUE, OTHER_ISSUE, startStack, type Stack } from './harness';
import { openChannel, type Channel } from './live-client';

const OPERATOR_SECRET = randomBytes(24).toString('base64url');
const issueOf = (issueId: string) => `jira:issue:${issueId}`;

describe('live channel', function () {
  this.timeout(30_000);
  let stack: Stack;
  const channels: Channel[] = [];

  async function start(env: Record<string, string> = {}): Promise<void> {
    const clientKey = `site-${randomBytes(6).toString('hex')}`;
    stack = await startStack({ clientKey, env: { OPERATOR_TOKEN: `${clientKey}:${OPERATOR_SECRET}`, ...env } });
  }

  async function channelFor(accountId: string, issue = ISSUE): Promise<{ token: string; channel: Channel }> {
    const { token } = await stack.loadPanel(accountId, issue);
    if (token === null) throw new Error('no page token');
    const channel = await openChannel(stack.app.baseUrl, token, issueOf(issue.issueId));
    channels.push(channel);
    return { token, channel };
  }

  afterEach(async () => {
    for (const channel of channels.splice(0)) channel.close();
    await stack?.stop();
  });

  describe('on one node', () => {
    beforeEach(() => start());

    it('tells an open panel its access was revoked within a second of the removal webhook answering', async () => {
      const { channel } = await channelFor(ALICE);
      expect(channel.status).to.equal(200);
      expect(await channel.next('ready', 1_000)).to.not.equal(null);

      const webhook = await stack.sim.removeUser(ALICE);
      const answered = performance.now();
      expect(webhook?.status).to.equal(200);
      const ended = await channel.next('ended', 1_000);
      expect(ended?.data).to.include({ code: 'token_revoked' });
      expect(ended!.at - answered).to.be.below(1_000);
      await channel.closed;
    });

    it('says nothing to a page whose session still stands when a policy change is announced', async () => {
      const { token, channel } = await channelFor(ALICE);
      await channel.next('ready', 1_000);
      const changed = await fetch(`${stack.app.baseUrl}/api/admin/policy`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${OPERATOR_SECRET}`, 'content-type': 'application/json' },
        body: JSON.stringify({ idleTimeoutSeconds: 900, absoluteLifetimeSeconds: 3600 }),
      });
      expect(changed.status).to.equal(200);
      // Another user's removal, in the same tenant, ends nothing of Alice's either.
      await stack.sim.removeUser(BOB);
      await waitForRechecks();
      expect(await channel.next('ended', 300)).to.equal(null);
      expect((await stack.api(token, 'GET', ISSUE.issueId)).status).to.equal(200);
    });

    it('ends the page when its site disables the app', async () => {
      const { channel } = await channelFor(ALICE);
      await channel.next('ready', 1_000);
      await stack.sim.disable();
      // Disabling revokes the site's sessions (re-enabling must not bring them back), so the page hears token_revoked.
      expect((await channel.next('ended', 1_000))?.data).to.include({ code: 'token_revoked' });
    });

    it('refuses a channel without a token, for another resource, or for a resource that is not one', async () => {
      const { token } = await stack.loadPanel(ALICE);
      const missing = await openChannel(stack.app.baseUrl, null, issueOf(ISSUE.issueId));
      expect([missing.status, missing.error?.code]).to.deep.equal([401, 'token_missing']);
      const other = await openChannel(stack.app.baseUrl, token, issueOf(OTHER_ISSUE.issueId));
      expect([other.status, other.error?.code]).to.deep.equal([403, 'resource_mismatch']);
      const self = await openChannel(stack.app.baseUrl, token, 'app:self');
      expect([self.status, self.error?.code]).to.deep.equal([403, 'resource_mismatch']);
      const nonsense = await openChannel(stack.app.baseUrl, token, 'jira:issue:DEMO-1');
      expect([nonsense.status, nonsense.error?.code]).to.deep.equal([400, 'bad_request']);
    });

    it('takes the token in the Authorization header only, never from the URL', async () => {
      const { token } = await stack.loadPanel(ALICE);
      const response = await fetch(`${stack.app.baseUrl}/api/live?resource=${issueOf(ISSUE.issueId)}&token=${token}&access_token=${token}`);
      expect(response.status).to.equal(401);
    });

    it('holds a few channels per session: a fourth closes the oldest, without an ending', async () => {
      const { token, channel } = await channelFor(ALICE);
      await channel.next('ready', 1_000);
      const more: Channel[] = [];
      for (let i = 0; i < 3; i += 1) more.push(await openChannel(stack.app.baseUrl, token, issueOf(ISSUE.issueId)));
      channels.push(...more);
      expect(more.map((c) => c.status)).to.deep.equal([200, 200, 200]);
      await channel.closed;
      expect(channel.events.map((e) => e.event)).to.deep.equal(['ready']);
      expect(await sample('panelguard_live_channels')).to.equal(3);
    });

    it('counts open channels and the endings sent', async () => {
      const { channel } = await channelFor(ALICE);
      await channel.next('ready', 1_000);
      expect(await sample('panelguard_live_channels')).to.equal(1);
      await stack.sim.removeUser(ALICE);
      await channel.closed;
      expect(await sample('panelguard_live_channels')).to.equal(0);
      expect(await sample('panelguard_live_events_total{code="token_revoked"}')).to.equal(1);
    });
  });

  describe('rotation', () => {
    it('keeps a channel opened with a token the session has since moved past, and never takes it for a fork', async () => {
      const clock = new ManualClock(Date.now());
      stack = await startStack({ clock, env: { ROTATE_AFTER_SECONDS: '60', ROTATION_GRACE_SECONDS: '10' } });
      const { token: first, channel } = await channelFor(ALICE);
      await channel.next('ready', 1_000);
      clock.advance(61_000);
      const second = (await stack.api(first, 'GET', ISSUE.issueId)).headers.get('page-token-next');
      expect(second).to.be.a('string');
      // Its first use makes it current, and the rotation is announced to every node, this one's channels included.
      expect((await stack.api(second!, 'GET', ISSUE.issueId)).status).to.equal(200);
      clock.advance(11_000);
      await waitForRechecks();
      expect(await channel.next('ended', 300)).to.equal(null);
      // A page reopens with the token it holds now; the session goes on, unforked.
      const reopened = await openChannel(stack.app.baseUrl, second!, issueOf(ISSUE.issueId));
      channels.push(reopened);
      expect(reopened.status).to.equal(200);
      expect((await stack.api(second!, 'GET', ISSUE.issueId)).status).to.equal(200);
      expect(await channel.next('ended', 100)).to.equal(null);
    });
  });

  describe('bounds', () => {
    beforeEach(() => start({ LIVE_CHANNELS_MAX: '2' }));

    it('answers 503 channels_full past LIVE_CHANNELS_MAX, and a place freed is taken again', async () => {
      const a = await channelFor(ALICE);
      await channelFor(BOB);
      const { token } = await stack.loadPanel(ALICE, OTHER_ISSUE);
      const refused = await openChannel(stack.app.baseUrl, token, issueOf(OTHER_ISSUE.issueId));
      expect([refused.status, refused.error?.code]).to.deep.equal([503, 'channels_full']);
      a.channel.close();
      await until(async () => (await sample('panelguard_live_channels')) === 1);
      expect((await openChannel(stack.app.baseUrl, token, issueOf(OTHER_ISSUE.issueId))).status).to.equal(200);
    });

  });

  async function sample(name: string): Promise<number> {
    const text = await (await fetch(`${stack.app.baseUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? 0 : Number(line.slice(name.length + 1));
  }

  async function until(condition: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 100 && !(await condition()); i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** The announcement's re-reads are done (an answer has already come back; the reads follow it). */
  function waitForRechecks(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 200));
  }
});
