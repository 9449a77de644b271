/**
 * Theft detection (issue 12) across three real nodes on the postgres bus, in real time with a one-second rotation
 * interval: a copied token is caught whichever nodes the two hands reach, and a page calling node after node,
 * through rotations, requests in flight, a lost successor, idleness, a reload, a node killed and a node deaf to the
 * bus, never raises an alarm. Node 1 reaches PostgreSQL through a relay that can cut its bus (the LISTEN
 * connection) alone, while its store keeps flowing.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { NodeProcess } from '../../src/cluster/node-process';
import { postgresAdminUrl, servicesOrSkip } from '../support/services';
import { startTcpProxy, through, type TcpProxy } from '../support/tcp-proxy';
import { metric, startCluster, type ClusterStack } from './cluster-harness';
import { ISSUE } from './harness';
import { alarms, openPage, outcome, rotations, signals, THIEF, TRUST_LOOPBACK, VICTIM, PageClient, type Alarms, type Answer, type Device } from './page-client';

const ROTATE_AFTER = 1_000;
const GRACE = 500;
/** Between one round of a page's calls and the next. */
const PAUSE = 50;
/** What a loaded machine may add to an interval and its grace before a deadline says something is wrong. */
const SLACK = 1_500;
const OPERATOR_SECRET = randomBytes(24).toString('base64url');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `round` until `done` holds; fails once `ms` have passed without. */
async function until(what: string, done: () => boolean, ms: number, round: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await round();
    await sleep(PAUSE);
  }
}

describe('theft detection across three nodes on the postgres bus', function () {
  this.timeout(30_000);
  let cluster: ClusterStack;
  let node1: NodeProcess;
  /** Between node 1 and PostgreSQL: its store and its bus, which can be cut alone. */
  let link: TcpProxy;
  let turn = 0;
  /** Each test's page belongs to a user of its own, so what the audit says of that user is that test's doing. */
  let user: string;
  /** The alarms counted when the test began. */
  let calm: Alarms;

  before(async function () {
    this.timeout(60_000);
    await servicesOrSkip(this, 'postgres');
    const postgres = new URL(postgresAdminUrl);
    link = await startTcpProxy(postgres.hostname, Number(postgres.port || 5432), { markWhenClientSends: 'LISTEN ' });
    const clientKey = `site-${randomBytes(6).toString('hex')}`;
    cluster = await startCluster({
      bus: 'postgres',
      clientKey,
      nodeEnv: (index, env) => ({
        ...env,
        ROTATE_AFTER_SECONDS: String(ROTATE_AFTER / 1000),
        ROTATION_GRACE_SECONDS: String(GRACE / 1000),
        OPERATOR_TOKEN: `${clientKey}:${OPERATOR_SECRET}`,
        ...TRUST_LOOPBACK,
        ...(index === 0 ? { DATABASE_URL: through(env.DATABASE_URL!, link.port) } : {}),
      }),
    });
    node1 = cluster.nodes[0]!;
  });
  after(async () => {
    await cluster?.close();
    await link?.close();
  });
  beforeEach(async () => {
    user = `557058:${randomBytes(4).toString('hex')}`;
    calm = await alarms(urls());
  });
  afterEach(async function () {
    this.timeout(30_000);
    link?.restoreMarked();
    if (cluster === undefined) return;
    // A node a test killed comes back, and every node hears the bus again, before the next test.
    for (const node of cluster.nodes) if (!node.running()) await node.start();
    await cluster.waitForMembership(3);
  });

  const running = (): NodeProcess[] => cluster.nodes.filter((node) => node.running());
  const urls = (): string[] => running().map((node) => node.url);
  /** The node a page's next call reaches: the next running one in turn, as a round-robin balancer sends them. */
  const nextNode = (): NodeProcess => {
    const live = running();
    return live[turn++ % live.length]!;
  };
  const open = (device: Device = VICTIM): Promise<PageClient> => {
    const panel = new URL(cluster.sim.panelUrl('issue-notes', ISSUE, user));
    return openPage(`${nextNode().url}${panel.pathname}${panel.search}`, device);
  };

  /** The page's next call, to the next node, which must be served. */
  async function served(page: PageClient, node: NodeProcess = nextNode()): Promise<Answer> {
    const answer = await page.call(node.url);
    expect(outcome(answer), node.name).to.equal('200');
    return answer;
  }

  /** The pages at work, each calling node after node, until `done` holds. */
  const work = (what: string, pages: PageClient[], done: () => boolean, ms = 4 * ROTATE_AFTER + SLACK): Promise<void> =>
    until(what, done, ms, async () => {
      for (const page of pages) await served(page);
    });

  /** Nothing an admin would be alarmed by: no signal of this test's user, and no signal or theft revocation counted on `nodes`. */
  async function expectNoAlarm(nodes: string[] = urls(), since: Alarms = calm): Promise<void> {
    expect(await signals(nodes[0]!, OPERATOR_SECRET, user)).to.deep.equal([]);
    expect(await alarms(nodes)).to.deep.equal(since);
  }

  describe('a copy in two hands', () => {
    it('ends the session within one rotation interval and its grace, the copy reaching all three nodes at once; the victim then hears token_forked on every node, and the audit names both sides once', async () => {
      const victim = await open(VICTIM);
      const stolen = victim.token;
      const thief = new PageClient(stolen, THIEF);
      const started = Date.now();
      let refused: Answer[] = [];
      await until('the thief refused', () => refused.length > 0, ROTATE_AFTER + GRACE + SLACK, async () => {
        await served(victim);
        const theirs = await Promise.all(cluster.nodes.map((node) => thief.send(node.url, stolen)));
        refused = theirs.filter((answer) => answer.status !== 200);
      });
      expect([...new Set(refused.map(outcome))]).to.deep.equal(['401 token_forked']);
      for (const node of cluster.nodes) expect(outcome(await victim.send(node.url)), node.name).to.equal('401 token_forked');

      const audited = await signals(node1.url, OPERATOR_SECRET, user);
      expect(audited).to.have.length(1);
      const { detail } = audited[0]!;
      expect(detail).to.include({ kind: 'fork', action: 'revoked' });
      expect(detail.presented).to.include({ ip: THIEF.ip, userAgent: THIEF.userAgent, agent: 'Firefox on Windows' });
      expect(detail.holder).to.include({ ip: VICTIM.ip, userAgent: VICTIM.userAgent, agent: 'Chrome on Linux' });
      expect(detail.holder.at).to.be.within(started, detail.presented.at);
      expect(detail.presented.at).to.be.at.most(Date.now());

      const now = await alarms(urls());
      expect(now.signals - calm.signals).to.equal(1);
      expect(now.theftRevocations - calm.theftRevocations).to.equal(1);
    });

    it('a node deaf to the bus still catches a copy, from the store', async () => {
      link.cutMarked();
      await node1.waitFor((ready) => ready?.bus === 'down');
      const victim = await open(VICTIM);
      const stolen = victim.token;
      await served(victim, node1);
      await work('one rotation', [victim], () => victim.switches >= 1);
      await served(victim);
      await sleep(GRACE);
      expect(outcome(await new PageClient(stolen, THIEF).send(node1.url, stolen))).to.equal('401 token_forked');
    });
  });

  describe('no false alarm in normal use', () => {
    it('several tabs of the same issue, each calling node after node, rotate alone', async () => {
      const tabs = [await open(), await open(), await open()];
      await work('every tab rotated twice', tabs, () => tabs.every((tab) => tab.switches >= 2));
      await expectNoAlarm();
    });

    it('requests in flight when a rotation happens: the successor first used on two nodes at once, the predecessor landing on a third', async () => {
      const page = await open();
      const rotated = await rotations(urls());
      let previous: string | null = null;
      await until('three rotations', () => page.switches >= 3, 4 * ROTATE_AFTER + SLACK, async () => {
        const held = page.token;
        const calls = [page.send(nextNode().url), page.send(nextNode().url)];
        // A request that left with the token held before the last switch is still on its way.
        if (previous !== null) calls.push(page.send(nextNode().url, previous));
        // The page takes each answer as it arrives, as a browser does.
        const answers = await Promise.all(calls.map((call) => call.then((answer) => page.receive(answer))));
        expect(answers.map(outcome)).to.deep.equal(answers.map(() => '200'));
        previous = page.token === held ? null : held;
      });
      expect(await rotations(urls())).to.be.at.least(rotated + 2);
      await expectNoAlarm();
    });

    it('an answer carrying the successor lost: the page retries with the predecessor on another node, and moves on later', async () => {
      const page = await open();
      let lost: Answer | null = null;
      await until('a successor offered', () => lost !== null, ROTATE_AFTER + SLACK, async () => {
        const answer = await page.send(nextNode().url);
        expect(outcome(answer)).to.equal('200');
        // The first answer offering a successor never reaches the page.
        if (answer.next !== null) lost = answer;
      });
      expect((await served(page)).sent).to.equal(lost!.sent);
      await work('two rotations', [page], () => page.switches >= 2);
      expect(page.token).to.not.equal(lost!.next);
      await expectNoAlarm();
    });

    it('a page left idle for two intervals comes back on another node and moves on', async () => {
      const page = await open();
      await work('one rotation', [page], () => page.switches >= 1);
      await served(page);
      await sleep(2 * ROTATE_AFTER);
      expect((await served(page)).next).to.be.a('string');
      await served(page);
      expect(page.switches).to.equal(2);
      await expectNoAlarm();
    });

    it('a page reload is a new session, not a fork of the old one', async () => {
      const old = await open();
      await work('one rotation', [old], () => old.switches >= 1);
      const reloaded = await open();
      // The old page's last request lands after the reload.
      await served(old);
      await work('two rotations of the new page', [reloaded], () => reloaded.switches >= 2);
      await expectNoAlarm();
    });

    it('a node killed once it offered a successor: the successor is made current, and the chain carried on, by the others', async () => {
      const page = await open();
      let offeredBy: NodeProcess | null = null;
      await until('a successor offered', () => offeredBy !== null, ROTATE_AFTER + SLACK, async () => {
        const node = nextNode();
        if ((await served(page, node)).next !== null) offeredBy = node;
      });
      await offeredBy!.kill();
      const survivors = urls();
      const since = await alarms(survivors);
      const switched = page.switches;
      await work('two more rotations on the survivors', [page], () => page.switches >= switched + 2);
      await expectNoAlarm(survivors, since);
    });

    it('a node deaf to the bus decides rotations from the store', async () => {
      link.cutMarked();
      expect(await node1.waitFor((ready) => ready?.bus === 'down')).to.include({ cache: 'bypassed', store: 'ok' });
      const bypassed = await metric(node1, 'panelguard_entry_cache_lookups_total{outcome="bypass"}');
      const page = await open();
      await work('three rotations', [page], () => page.switches >= 3);
      expect(await metric(node1, 'panelguard_entry_cache_lookups_total{outcome="bypass"}')).to.be.above(bypassed);
      await expectNoAlarm();
    });
  });
});
