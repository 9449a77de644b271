/**
 * Theft detection (issue 12) over real HTTP on one node: a page that follows Page-Token-Next as a browser's would,
 * a thief holding a copy of its token, and the everyday uses that must never look like one. The app's clock is a
 * ManualClock, so rotation intervals and graces pass without sleeping.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { generateKeyPair, generateProof } from 'dpop';
import { ManualClock } from '../../src/base/clock';
import type { Clock } from '../../src/allowlist/types';
import { ALICE, ISSUE, startStack, type Stack } from './harness';
import { alarms, metricSum, openPage, outcome, rotations, setPolicy, signals, THIEF, TRUST_LOOPBACK, VICTIM, PageClient, type Answer, type Device } from './page-client';

const ROTATE_AFTER = 60_000;
const GRACE = 10_000;
/** How often a working page calls the API. */
const STEP = 5_000;
/** Within the default idle timeout (300 s): a page coming back after this is still signed in. */
const IDLE = 240_000;
const OPERATOR_SECRET = randomBytes(24).toString('base64url');

describe('theft detection over HTTP on one node', function () {
  this.timeout(30_000);
  let stack: Stack;
  let clock: ManualClock;

  async function start(withClock?: Clock): Promise<void> {
    const clientKey = `site-${randomBytes(6).toString('hex')}`;
    stack = await startStack({
      clock: withClock,
      clientKey,
      env: { ROTATE_AFTER_SECONDS: String(ROTATE_AFTER / 1000), ROTATION_GRACE_SECONDS: String(GRACE / 1000), OPERATOR_TOKEN: `${clientKey}:${OPERATOR_SECRET}`, ...TRUST_LOOPBACK },
    });
  }
  afterEach(async () => {
    await stack?.stop();
  });

  const app = (): string => stack.app.baseUrl;
  const open = (device: Device = VICTIM): Promise<PageClient> => openPage(stack.sim.panelUrl('issue-notes', ISSUE, ALICE), device);

  /** The page's next call, which must be served. */
  async function served(page: PageClient): Promise<Answer> {
    const answer = await page.call(app());
    expect(outcome(answer)).to.equal('200');
    return answer;
  }

  /** The page at work for `ms`: a call every STEP, each served. */
  async function work(pages: PageClient[], ms: number): Promise<void> {
    for (let spent = 0; spent < ms; spent += STEP) {
      clock.advance(STEP);
      await Promise.all(pages.map(served));
    }
  }

  /** No fork, no other signal, no session ended for theft: nothing an admin would be alarmed by. */
  async function expectNoAlarm(): Promise<void> {
    expect(await signals(app(), OPERATOR_SECRET)).to.deep.equal([]);
    expect(await alarms([app()])).to.deep.equal({ signals: 0, theftRevocations: 0 });
  }

  describe('a copy in two hands', () => {
    beforeEach(async () => {
      clock = new ManualClock(Date.now());
      await start(clock);
    });

    /**
     * The victim's page works on, calling every STEP and following its successors; every STEP the thief replays
     * the token copied at the start. Resolves with the refusal the thief got, how long that took, and when the
     * victim made its successor current (the holder the audit must name).
     */
    async function replayUntilRefused(): Promise<{ victim: PageClient; refused: Answer; after: number; rotatedAt: number }> {
      const victim = await open(VICTIM);
      const stolen = victim.token;
      const thief = new PageClient(stolen, THIEF);
      const started = clock.now();
      let rotatedAt: number | null = null;
      let refused: Answer | null = null;
      while (refused === null && clock.now() - started < 3 * ROTATE_AFTER) {
        clock.advance(STEP);
        const mine = await served(victim);
        // The victim's first call with a successor made it current: the holder the audit names.
        if (rotatedAt === null && mine.sent !== stolen) rotatedAt = clock.now();
        const theirs = await thief.send(app(), stolen);
        if (theirs.status !== 200) refused = theirs;
      }
      if (refused === null || rotatedAt === null) throw new Error('the thief was never refused');
      return { victim, refused, after: clock.now() - started, rotatedAt };
    }

    it('ends the session within one rotation interval and its grace while the victim keeps working', async () => {
      const { refused, after } = await replayUntilRefused();
      expect(outcome(refused)).to.equal('401 token_forked');
      expect(after).to.be.at.most(ROTATE_AFTER + GRACE + STEP);
    });

    it("tells the victim why on its next call: token_forked", async () => {
      const { victim } = await replayUntilRefused();
      clock.advance(STEP);
      expect(outcome(await victim.call(app()))).to.equal('401 token_forked');
    });

    it("audits the fork once, naming both sides: the thief's address, browser and time, and the victim's", async () => {
      const { rotatedAt } = await replayUntilRefused();
      const refusedAt = clock.now();
      const audited = await signals(app(), OPERATOR_SECRET);
      expect(audited).to.have.length(1);
      const [signal] = audited;
      expect(signal).to.include({ accountId: ALICE, reason: 'theft_suspected' });
      expect(signal!.detail).to.include({ kind: 'fork', action: 'revoked' });
      expect(signal!.detail.presented).to.deep.equal({ ip: THIEF.ip, userAgent: THIEF.userAgent, network: '198.51.100.0/24', agent: 'Firefox on Windows', at: refusedAt });
      expect(signal!.detail.holder).to.deep.equal({ ip: VICTIM.ip, userAgent: VICTIM.userAgent, network: '203.0.113.0/24', agent: 'Chrome on Linux', at: rotatedAt });
    });

    it('counts one fork signal, one revocation for theft and the rotation in the metrics', async () => {
      await replayUntilRefused();
      expect(await metricSum([app()], 'panelguard_theft_signals_total', { kind: 'fork', action: 'revoked' })).to.equal(1);
      expect(await metricSum([app()], 'panelguard_theft_signals_total')).to.equal(1);
      expect(await metricSum([app()], 'panelguard_revocations_total', { reason: 'theft_suspected' })).to.equal(1);
      expect(await rotations([app()])).to.equal(1);
    });

    it('audits a copy used by several calls at once as one theft', async () => {
      const victim = await open(VICTIM);
      const stolen = victim.token;
      const thief = new PageClient(stolen, THIEF);
      await work([victim], ROTATE_AFTER + STEP);
      expect(victim.switches).to.equal(1);
      clock.advance(GRACE);
      const answers = await Promise.all([1, 2, 3, 4].map(() => thief.send(app(), stolen)));
      expect(answers.map(outcome)).to.deep.equal(answers.map(() => '401 token_forked'));
      expect(await signals(app(), OPERATOR_SECRET)).to.have.length(1);
      expect(await alarms([app()])).to.deep.equal({ signals: 1, theftRevocations: 1 });
    });

    it('catches a thief whose client follows Page-Token-Next too and takes the successor first', async () => {
      const victim = await open(VICTIM);
      const thief = await open(THIEF);
      thief.token = victim.token;
      const started = clock.now();
      let victims: Answer = await served(victim);
      while (victims.status === 200 && clock.now() - started < 3 * ROTATE_AFTER) {
        clock.advance(STEP);
        expect(outcome(await thief.call(app()))).to.equal('200');
        victims = await victim.call(app());
      }
      expect(outcome(victims)).to.equal('401 token_forked');
      expect(clock.now() - started).to.be.at.most(ROTATE_AFTER + GRACE + STEP);
      expect(thief.switches).to.equal(1);
      expect(outcome(await thief.call(app()))).to.equal('401 token_forked');
      // The hand that moved on first is the holder; the one left behind is the use that raised the alarm.
      const [signal] = await signals(app(), OPERATOR_SECRET);
      expect(signal!.detail.presented).to.include({ ip: VICTIM.ip, userAgent: VICTIM.userAgent });
      expect(signal!.detail.holder).to.include({ ip: THIEF.ip, userAgent: THIEF.userAgent });
    });
  });

  describe('no false alarm in normal use', () => {
    beforeEach(async () => {
      clock = new ManualClock(Date.now());
      await start(clock);
    });

    it('several tabs of the same issue are sessions of their own, each rotating alone', async () => {
      const tabs = [await open(), await open(), await open()];
      await work(tabs, 3 * ROTATE_AFTER);
      for (const tab of tabs) expect(tab.switches).to.be.at.least(2);
      expect(await rotations([app()])).to.be.at.least(6);
      await expectNoAlarm();
    });

    it('two requests in flight when a rotation happens are both served, the one that lands late within the grace', async () => {
      const page = await open();
      clock.advance(ROTATE_AFTER);
      const predecessor = page.token;
      // Two calls leave together with the due token: one answer offers the successor, and the page takes it.
      const due = await Promise.all([page.send(app()), page.send(app())]);
      expect(due.map(outcome)).to.deep.equal(['200', '200']);
      expect(due.filter((answer) => answer.next !== null)).to.have.length(1);
      due.forEach((answer) => page.receive(answer));
      expect(page.switches).to.equal(1);
      // The successor's first use by two calls at once, then a call with the predecessor that was still on its way.
      expect((await Promise.all([page.send(app()), page.send(app())])).map(outcome)).to.deep.equal(['200', '200']);
      clock.advance(GRACE - 1);
      const late = page.receive(await page.send(app(), predecessor));
      expect(outcome(late)).to.equal('200');
      expect(late.next).to.equal(null);
      await work([page], ROTATE_AFTER + GRACE);
      expect(page.switches).to.equal(2);
      expect(await rotations([app()])).to.equal(2);
      await expectNoAlarm();
    });

    it('an answer carrying the successor lost: the page retries with the predecessor within the grace, and moves on later', async () => {
      const page = await open();
      clock.advance(ROTATE_AFTER);
      const lost = await page.send(app()); // never reaches the page
      expect(lost.next).to.be.a('string');
      clock.advance(GRACE / 2);
      const retried = await served(page);
      expect(retried.sent).to.equal(lost.sent);
      await work([page], ROTATE_AFTER);
      expect(page.switches).to.be.at.least(1);
      expect(page.token).to.not.equal(lost.next);
      expect(await rotations([app()])).to.be.at.least(1);
      await expectNoAlarm();
    });

    it('a page left idle comes back with its current token and moves on', async () => {
      const page = await open();
      await work([page], ROTATE_AFTER + STEP);
      expect(page.switches).to.equal(1);
      clock.advance(IDLE);
      expect((await served(page)).next).to.be.a('string');
      await served(page);
      expect(page.switches).to.equal(2);
      expect(await rotations([app()])).to.equal(2);
      await expectNoAlarm();
    });

    it('a page reload is a new session, not a fork of the old one', async () => {
      const old = await open();
      await work([old], ROTATE_AFTER + STEP);
      // The old page was just offered a successor when the user reloads; its last request is still on its way.
      clock.advance(ROTATE_AFTER);
      const offered = await served(old);
      expect(offered.next).to.be.a('string');
      const reloaded = await open();
      expect(outcome(await old.send(app(), offered.sent))).to.equal('200');
      await work([reloaded], 2 * ROTATE_AFTER);
      expect(reloaded.switches).to.be.at.least(1);
      await expectNoAlarm();
    });
  });

  describe('site policies', () => {
    it('under theftResponse report, serves the copy and audits the fork once', async () => {
      clock = new ManualClock(Date.now());
      await start(clock);
      await setPolicy(app(), OPERATOR_SECRET, { theftResponse: 'report' });
      const victim = await open();
      const stolen = victim.token;
      const thief = new PageClient(stolen, THIEF);
      await work([victim], ROTATE_AFTER + STEP);
      expect(victim.switches).to.equal(1);
      clock.advance(GRACE);
      for (let i = 0; i < 3; i += 1) {
        expect(outcome(await thief.send(app(), stolen))).to.equal('200');
        await served(victim);
        clock.advance(STEP);
      }
      const audited = await signals(app(), OPERATOR_SECRET);
      expect(audited.map((signal) => [signal.reason, signal.detail.kind, signal.detail.action])).to.deep.equal([['theft_suspected', 'fork', 'reported']]);
      expect(audited[0]!.detail.presented).to.include({ ip: THIEF.ip, userAgent: THIEF.userAgent });
      expect(audited[0]!.detail.holder).to.include({ ip: VICTIM.ip, userAgent: VICTIM.userAgent });
      expect(await metricSum([app()], 'panelguard_theft_signals_total', { kind: 'fork', action: 'reported' })).to.equal(1);
      expect((await alarms([app()])).theftRevocations).to.equal(0);
    });

    describe('key-bound tokens', () => {
      // The system clock: a DPoP proof is dated by the real one.
      beforeEach(async () => {
        await start();
        await setPolicy(app(), OPERATOR_SECRET, { keyBinding: true });
      });

      const notesUrl = (): string => `${app()}/api/issues/${ISSUE.issueId}/notes`;
      async function callWith(token: string, proof: string | null): Promise<string> {
        const response = await fetch(notesUrl(), { headers: { authorization: `Bearer ${token}`, ...(proof === null ? {} : { dpop: proof }) } });
        const body = (await response.json()) as { error?: { code: string } };
        return body.error === undefined ? String(response.status) : `${response.status} ${body.error.code}`;
      }

      it('refuses a call without a DPoP proof: 401 token_invalid', async () => {
        const page = await open();
        expect(await callWith(page.token, null)).to.equal('401 token_invalid');
      });

      it("serves a call with a valid proof, binds the session to its key, and then refuses another key's proof", async () => {
        const { token } = await open();
        const mine = await generateKeyPair('ES256');
        const other = await generateKeyPair('ES256');
        expect(await callWith(token, await generateProof(mine, notesUrl(), 'GET', undefined, token))).to.equal('200');
        expect(await callWith(token, await generateProof(other, notesUrl(), 'GET', undefined, token))).to.equal('401 token_invalid');
        expect(await callWith(token, await generateProof(mine, notesUrl(), 'GET', undefined, token))).to.equal('200');
      });
    });
  });
});
