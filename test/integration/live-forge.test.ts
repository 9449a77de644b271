/**
 * The live channel of a Forge page, over real HTTP through the simulated Forge: invokeRemote cannot stream, so the
 * page long-polls `GET /api/live/poll`, which answers the refusal a call would get once the session ends, or
 * "still standing" when its hold lapses; a poll is judged as a call is, but is not a use. On one node, and on three
 * behind a balancer, the removal applied by another node than the one holding the poll.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { ManualClock } from '../../src/base/clock';
import type { NodeProcess } from '../../src/cluster/node-process';
import type { ForgeSimulator } from '../../src/host-simulator/forge';
import { servicesOrSkip } from '../support/services';
import { metric, startCluster, type ClusterStack } from './cluster-harness';
import { ALICE, BOB, ISSUE, startForgeStack, type ForgeStack } from './harness';

const PANEL = 'panelguard-issue-panel';
const POLL = `/api/live/poll?resource=${encodeURIComponent(`jira:issue:${ISSUE.issueId}`)}`;
/** IDLE_TIMEOUT_SECONDS for these tests: the shortest the configuration takes. */
const IDLE_SECONDS = 60;

interface Answer {
  status: number;
  body?: unknown;
  /** performance.now() when the answer came back. */
  at: number;
}

describe('live channel of a Forge page: the long poll through invokeRemote', function () {
  this.timeout(30_000);
  let stack: ForgeStack;
  let forge: ForgeSimulator;
  let clock: ManualClock;

  async function start(env: Record<string, string>): Promise<void> {
    clock = new ManualClock(Date.now());
    // The simulated Forge signs FITs on the app's clock, so that moving it on leaves them fresh.
    stack = await startForgeStack({
      clock,
      simNow: () => clock.now(),
      env: { IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS), ...env },
      forge: { eventPolicy: { retryDelayMs: 0 } },
    });
    forge = stack.forge;
    expect((await forge.install(stack.app.baseUrl))?.status).to.equal(204);
  }

  afterEach(async () => {
    await stack?.stop();
  });

  const panel = (accountId: string) => ({ accountId, moduleKey: PANEL, issue: ISSUE });

  async function session(accountId: string): Promise<string> {
    const answer = await forge.invokeRemote(panel(accountId), { path: '/forge/sessions', method: 'POST' });
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    return (answer.body as { pageToken: string }).pageToken;
  }

  /** One poll as the page sends it; resolves when the app answers it. */
  async function poll(accountId: string, pageToken: string, path = POLL): Promise<Answer> {
    const answer = await forge.invokeRemote(panel(accountId), { path, method: 'GET', headers: { 'X-Page-Token': pageToken } });
    return { status: answer.status, body: answer.body, at: performance.now() };
  }

  async function liveChannels(): Promise<number> {
    const text = await (await fetch(`${stack.app.baseUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('panelguard_live_channels '));
    return line === undefined ? 0 : Number(line.split(' ')[1]);
  }

  async function held(count: number): Promise<void> {
    for (let i = 0; i < 200 && (await liveChannels()) < count; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await liveChannels(), 'polls held').to.equal(count);
  }

  describe('held for as long as the page may wait', () => {
    beforeEach(() => start({}));

    it("answers a held poll with the removal's refusal, as a 403 the page can read, within a second of the removal answering", async () => {
      const pageToken = await session(ALICE);
      const polled = poll(ALICE, pageToken);
      await held(1);

      const removed = await forge.removeUser(ALICE);
      const answered = performance.now();
      expect(removed?.status).to.equal(200);
      const answer = await polled;

      expect(answer.status).to.equal(403);
      expect(answer.body).to.deep.include({ error: { code: 'token_revoked', message: 'Access to this page has been revoked.' } });
      expect(answer.at - answered).to.be.below(1_000);
    });

    it('answers a held poll "still standing" when its node stops, so that the page asks again, elsewhere', async () => {
      const polled = poll(ALICE, await session(ALICE));
      await held(1);
      const stopping = performance.now();
      await stack.restartApp();

      const answer = await polled;
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.equal({ ended: false });
      expect(answer.at - stopping, 'answered as the node stopped, not when the hold lapsed').to.be.below(10_000);
    });

    it("keeps another user's poll held after the first user is removed", async () => {
      const alices = poll(ALICE, await session(ALICE));
      const bobs = poll(BOB, await session(BOB));
      await held(2);

      await forge.removeUser(ALICE);
      expect((await alices).status).to.equal(403);
      await held(1);
    });

    it('refuses a poll as it would refuse a call: for another issue, for no resource, with a token from the other door', async () => {
      const pageToken = await session(ALICE);
      const otherIssue = await poll(ALICE, pageToken, `/api/live/poll?resource=${encodeURIComponent('jira:issue:99999')}`);
      const noResource = await poll(ALICE, pageToken, '/api/live/poll?resource=not-a-resource');
      const { token: connectToken } = await stack.loadPanel(ALICE, ISSUE);
      const otherDoor = await poll(ALICE, connectToken as string);

      expect([otherIssue, noResource, otherDoor].map((answer) => answer.status)).to.deep.equal([403, 400, 403]);
      const codes = [otherIssue, noResource, otherDoor].map((answer) => (answer.body as { error: { code: string } }).error.code);
      expect(codes).to.deep.equal(['resource_mismatch', 'bad_request', 'token_invalid']);
      expect(await liveChannels()).to.equal(0);
    });
  });

  describe('when the hold lapses', () => {
    beforeEach(() => start({ LIVE_POLL_SECONDS: '0.2', ROTATE_AFTER_SECONDS: '1' }));

    it('answers "still standing" and lets the watcher go', async () => {
      const answer = await poll(ALICE, await session(ALICE));
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.equal({ ended: false });
      expect(await liveChannels()).to.equal(0);
    });

    it('is not a use: a page that only polls goes idle, and its next poll says so', async () => {
      const pageToken = await session(ALICE);
      clock.advance((IDLE_SECONDS - 10) * 1_000);
      expect((await poll(ALICE, pageToken)).status, 'a poll before the idle deadline').to.equal(200);

      // Twenty seconds after that poll: had it been a use, the session would have ten seconds to go.
      clock.advance(20_000);
      const idle = await poll(ALICE, pageToken);
      expect(idle.status).to.equal(403);
      expect((idle.body as { error: { code: string } }).error.code).to.equal('token_idle');
    });

    it('offers no successor where a call would be offered one, so polls never rotate a session', async () => {
      const pageToken = await session(ALICE);
      clock.advance(2_000);
      const polled = await forge.invokeRemote(panel(ALICE), { path: POLL, method: 'GET', headers: { 'X-Page-Token': pageToken } });
      const called = await forge.invokeRemote(panel(ALICE), { path: `/api/issues/${ISSUE.issueId}/notes`, method: 'GET', headers: { 'X-Page-Token': pageToken } });

      expect([polled.status, called.status]).to.deep.equal([200, 200]);
      expect(polled.headers['page-token-next']).to.equal(undefined);
      expect(called.headers['page-token-next'], 'the call after it').to.be.a('string');
    });
  });

  describe('bounds', () => {
    beforeEach(() => start({ LIVE_CHANNELS_MAX: '1' }));

    it('answers 503 channels_full past LIVE_CHANNELS_MAX, which the page takes for "no channel here"', async () => {
      const first = poll(ALICE, await session(ALICE));
      await held(1);
      const refused = await poll(BOB, await session(BOB));
      expect(refused.status).to.equal(503);
      expect((refused.body as { error: { code: string } }).error.code).to.equal('channels_full');
      await forge.removeUser(ALICE);
      expect((await first).status).to.equal(403);
    });
  });
});

describe('live channel of a Forge page on three nodes over the redis bus', function () {
  this.timeout(240_000);
  let cluster: ClusterStack | undefined;
  let forge: ForgeSimulator | undefined;
  let nodeA: NodeProcess;
  let nodeB: NodeProcess;

  before(async function () {
    await servicesOrSkip(this, 'postgres', 'redis');
    // Nodes compile the app as they start, which a busy machine can stretch past the harness's own bound.
    cluster = await startCluster({ bus: 'redis', startTimeoutMs: 120_000, forge: { eventPolicy: { retryDelayMs: 0 } } });
    [nodeA, nodeB] = cluster.nodes as [NodeProcess, NodeProcess];
    forge = cluster.forge!;
    expect((await forge.install(cluster.balancer.url))?.status).to.equal(204);
  });
  after(async () => {
    await cluster?.close();
  });

  const panel = (accountId: string) => ({ accountId, moduleKey: PANEL, issue: ISSUE });
  const metricOf = (node: NodeProcess) => metric(node, 'panelguard_live_channels');

  it('answers the poll node A holds within a second of node B answering the removal', async () => {
    const alice = cluster!.sim.directory.add({ accountId: '557058:forge-cluster-alice', displayName: 'Alice' }).accountId;
    // Everything goes to node A until the removal, which node B applies.
    cluster!.via(nodeA);
    const minted = await forge!.invokeRemote(panel(alice), { path: '/forge/sessions', method: 'POST' });
    expect(minted.status).to.equal(200);
    const pageToken = (minted.body as { pageToken: string }).pageToken;
    const before = await metricOf(nodeA);
    const polled = forge!.invokeRemote(panel(alice), { path: POLL, method: 'GET', headers: { 'X-Page-Token': pageToken } }).then((answer) => ({ ...answer, at: performance.now() }));
    for (let i = 0; i < 200 && (await metricOf(nodeA)) <= before; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await metricOf(nodeA), 'the poll held on node A').to.be.above(before);

    cluster!.via(nodeB);
    const removed = await forge!.removeUser(alice);
    const answered = performance.now();
    expect(removed?.status).to.equal(200);
    const answer = await polled;

    expect(answer.status).to.equal(403);
    expect((answer.body as { error: { code: string } }).error.code).to.equal('token_revoked');
    expect(answer.at - answered).to.be.below(1_000);
  });
});
