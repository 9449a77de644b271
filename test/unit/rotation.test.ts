import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { BARE_CALL, type Allowlist, type Call, type Grant } from '../../src/allowlist/allowlist';
import { storeAuditLog, type AuditLog } from '../../src/allowlist/audit';
import { ManualClock } from '../../src/base/clock';
import { createCore, type Core } from '../../src/allowlist/assemble';
import { issueResource } from '../../src/allowlist/resource';
import type { Result } from '../../src/base/result';
import { tenantIn } from '../../src/allowlist/tenants';
import type { Confirmation, Policy, StoredAuditRecord } from '../../src/allowlist/types';
import type { Bus, ConnectionListener, Invalidation, InvalidationHandler } from '../../src/bus/types';
import { NodeEntryCache } from '../../src/cache/entry-cache';
import { MemoryStore } from '../../src/store/memory-store';
import { createPageTokenCodec } from '../../src/tokens/page-token';

const SITE = 'site-a';
const ALICE = 'alice-account';
const ISSUE = issueResource('10001', '10000');
const SECRET = 'x'.repeat(40);
const ROTATE_AFTER = 60_000;
const GRACE = 10_000;

const CHROME_LINUX = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';

/** A call from a place: the victim's browser, or the thief's. */
function from(ip: string, userAgent: string = CHROME_LINUX): Call {
  return { ...BARE_CALL, origin: () => ({ ip, userAgent }) };
}
const VICTIM = from('203.0.113.10');
const THIEF = from('198.51.100.66');

/** An in-process bus shared by the nodes of a test, which a test can cut: while cut, nodes hear nothing and say so. */
class SwitchableBus implements Bus {
  private readonly handlers = new Set<InvalidationHandler>();
  private readonly listeners = new Set<ConnectionListener>();
  private connected = true;

  async publish(message: Invalidation): Promise<Confirmation> {
    if (this.connected) for (const handler of this.handlers) handler(message);
    return { confirmed: this.connected ? this.handlers.size : 0, expected: this.handlers.size };
  }
  subscribe(handler: InvalidationHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
  isConnected(): boolean {
    return this.connected;
  }
  onConnectionChange(listener: ConnectionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  liveNodes(): number {
    return this.handlers.size;
  }
  setConnected(connected: boolean): void {
    this.connected = connected;
    for (const listener of this.listeners) listener(connected);
  }
  async close(): Promise<void> {
    this.handlers.clear();
  }
}

interface Node {
  core: Core;
  allowlist: Allowlist;
  audit: AuditLog;
}

interface World {
  clock: ManualClock;
  store: MemoryStore;
  bus: SwitchableBus;
  nodes: Node[];
  /** Mints a page token on node 0, as a page render would. */
  mint(): Promise<string>;
  signals(): Promise<StoredAuditRecord[]>;
  setPolicy(change: Partial<Policy>): Promise<void>;
}

async function world(nodeCount = 1): Promise<World> {
  const clock = new ManualClock(Date.UTC(2026, 11, 1, 12));
  const store = new MemoryStore();
  const bus = new SwitchableBus();
  const nodes: Node[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const audit = storeAuditLog(store, { onError: () => undefined, denialWindowMs: 5_000 });
    const tokens = createPageTokenCodec({ secret: SECRET, appKey: 'panelguard', clock, isTenant: tenantIn(store) });
    const cache = new NodeEntryCache({ ttlSeconds: 600, maxEntries: 1000 });
    const core = createCore({ store, ledger: store, cache, bus, clock, tokens, audit, ttlSeconds: 3600, rotation: { afterMs: ROTATE_AFTER, graceMs: GRACE } });
    nodes.push({ core, allowlist: core.allowlist, audit });
  }
  await nodes[0].core.tenants.installed(SITE, 'https://a.example.net', { sharedSecretChanged: false });
  return {
    clock,
    store,
    bus,
    nodes,
    async mint() {
      const minted = await nodes[0].allowlist.mint({ clientKey: SITE, accountId: ALICE, target: ISSUE, connectIssuedAt: clock.now(), ip: '203.0.113.10', userAgent: CHROME_LINUX });
      if (!minted.ok) throw new Error(`mint failed: ${minted.code}`);
      return minted.value.token;
    },
    async signals() {
      await Promise.all(nodes.map((node) => node.audit.drain()));
      return (await store.listAudit({ clientKey: SITE, kind: 'signal', limit: 100 })).records;
    },
    async setPolicy(change) {
      const read = await nodes[0].core.policies.get(SITE);
      if (!read.ok) throw new Error(read.code);
      const set = await nodes[0].core.policies.set(SITE, { ...read.value.policy, ...change }, 'test');
      if (!set.ok) throw new Error(set.code === 'bad_request' ? set.problem : set.code);
    },
  };
}

function granted(result: Result<Grant>): Grant {
  if (!result.ok) throw new Error(`refused: ${result.code}`);
  return result.value;
}

function outcome(result: Result<Grant>): string {
  return result.ok ? 'ok' : result.code;
}

/** Checks `token` and returns its successor, which the token must have been offered. */
async function successorOf(allowlist: Allowlist, token: string, call: Call = VICTIM): Promise<string> {
  const grant = granted(await allowlist.check(token, ISSUE.resource, call));
  if (grant.next === null) throw new Error('no successor offered');
  return grant.next;
}

/** A session minted, due, and moved on to its successor by the victim's page: the first token is now the previous one. */
async function rotatedOnce(w: World): Promise<{ token: string; next: string }> {
  const token = await w.mint();
  w.clock.advance(ROTATE_AFTER);
  const next = await successorOf(w.nodes[0].allowlist, token);
  granted(await w.nodes[0].allowlist.check(next, ISSUE.resource, VICTIM));
  return { token, next };
}

describe('rotation with fork detection', () => {
  describe('successors', () => {
    it('offers no successor while the current token is younger than the interval', async () => {
      const w = await world();
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER - 1);
      expect(granted(await w.nodes[0].allowlist.check(token, ISSUE.resource, VICTIM)).next).to.equal(null);
    });

    it('offers a successor that continues the session and ends when it ends', async () => {
      const w = await world();
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      const next = await successorOf(w.nodes[0].allowlist, token);
      const first = jwt.decode(token, { json: true })!;
      const second = jwt.decode(next, { json: true })!;
      expect(second).to.include({ aud: first.aud, sub: first.sub, res: first.res, exp: first.exp, seq: 1 });
      expect(second.sid).to.be.a('string').with.length(64);
      expect(second.jti).to.not.equal(first.jti);
    });

    it('offers one successor between requests in flight together', async () => {
      const w = await world();
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      const answers = await Promise.all([1, 2, 3].map(() => w.nodes[0].allowlist.check(token, ISSUE.resource, VICTIM)));
      expect(answers.map((a) => granted(a).next).filter((next) => next !== null)).to.have.length(1);
    });

    it('keeps the predecessor current until the successor is used', async () => {
      const w = await world();
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      await successorOf(w.nodes[0].allowlist, token);
      w.clock.advance(GRACE * 5);
      expect(outcome(await w.nodes[0].allowlist.check(token, ISSUE.resource, VICTIM))).to.equal('ok');
      expect(await w.signals()).to.have.length(0);
    });

    it('makes the successor current on its first use, with one store write', async () => {
      const w = await world();
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      const next = await successorOf(w.nodes[0].allowlist, token);
      let writes = 0;
      const advance = w.store.advanceToken.bind(w.store);
      w.store.advanceToken = (...args) => {
        writes++;
        return advance(...args);
      };
      expect(outcome(await w.nodes[0].allowlist.check(next, ISSUE.resource, VICTIM))).to.equal('ok');
      expect(outcome(await w.nodes[0].allowlist.check(next, ISSUE.resource, VICTIM))).to.equal('ok');
      expect(writes).to.equal(1);
      const [session] = (await w.store.listEntries({ clientKey: SITE, now: w.clock.now(), limit: 10 })).entries;
      expect(session.chain).to.include({ seq: 1, ip: '203.0.113.10', rotatedAt: w.clock.now() });
    });

    it('rotates again one interval after the last rotation, not before', async () => {
      const w = await world();
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      const second = await successorOf(w.nodes[0].allowlist, token);
      granted(await w.nodes[0].allowlist.check(second, ISSUE.resource, VICTIM));
      w.clock.advance(ROTATE_AFTER - 1);
      expect(granted(await w.nodes[0].allowlist.check(second, ISSUE.resource, VICTIM)).next).to.equal(null);
      w.clock.advance(1);
      const third = await successorOf(w.nodes[0].allowlist, second);
      expect(jwt.decode(third, { json: true })).to.include({ seq: 2 });
    });

    it('never rotates when the interval is 0', async () => {
      const clock = new ManualClock();
      const store = new MemoryStore();
      const audit = storeAuditLog(store, { onError: () => undefined, denialWindowMs: 5_000 });
      const tokens = createPageTokenCodec({ secret: SECRET, appKey: 'panelguard', clock, isTenant: tenantIn(store) });
      const core = createCore({ store, ledger: store, cache: new NodeEntryCache({ ttlSeconds: 60, maxEntries: 10 }), bus: new SwitchableBus(), clock, tokens, audit, ttlSeconds: 3600, rotation: { afterMs: 0, graceMs: GRACE } });
      await core.tenants.installed(SITE, 'https://a.example.net', { sharedSecretChanged: false });
      const minted = await core.allowlist.mint({ clientKey: SITE, accountId: ALICE, target: ISSUE, connectIssuedAt: clock.now(), ip: null, userAgent: null });
      if (!minted.ok) throw new Error(minted.code);
      clock.advance(3_000_000);
      expect(granted(await core.allowlist.check(minted.value.token, ISSUE.resource)).next).to.equal(null);
    });
  });

  describe('no false alarm in normal use', () => {
    it('tabs of the same issue are sessions of their own, each rotating alone', async () => {
      const w = await world();
      const tabs = [await w.mint(), await w.mint(), await w.mint()];
      w.clock.advance(ROTATE_AFTER);
      const next = await Promise.all(tabs.map((tab) => successorOf(w.nodes[0].allowlist, tab)));
      for (const token of next) expect(outcome(await w.nodes[0].allowlist.check(token, ISSUE.resource, VICTIM))).to.equal('ok');
      w.clock.advance(GRACE);
      for (const token of next) expect(outcome(await w.nodes[0].allowlist.check(token, ISSUE.resource, VICTIM))).to.equal('ok');
      expect(await w.signals()).to.have.length(0);
    });

    it('a request already in flight with the predecessor is served within the grace', async () => {
      const w = await world();
      const { token, next } = await rotatedOnce(w);
      w.clock.advance(GRACE - 1);
      expect(outcome(await w.nodes[0].allowlist.check(token, ISSUE.resource, VICTIM))).to.equal('ok');
      expect(await w.signals()).to.have.length(0);
    });

    it('an answer carrying the successor lost: the page retries with the predecessor and gets another', async () => {
      const w = await world();
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      await successorOf(w.nodes[0].allowlist, token); // lost on its way
      w.clock.advance(1_000);
      expect(granted(await w.nodes[0].allowlist.check(token, ISSUE.resource, VICTIM)).next).to.equal(null);
      w.clock.advance(GRACE);
      const again = await successorOf(w.nodes[0].allowlist, token);
      expect(outcome(await w.nodes[0].allowlist.check(again, ISSUE.resource, VICTIM))).to.equal('ok');
      w.clock.advance(GRACE);
      expect(outcome(await w.nodes[0].allowlist.check(again, ISSUE.resource, VICTIM))).to.equal('ok');
      expect(await w.signals()).to.have.length(0);
    });

    it('a page left idle comes back with its current token', async () => {
      const w = await world();
      const token = await w.mint();
      w.clock.advance(30 * 60_000);
      const next = await successorOf(w.nodes[0].allowlist, token);
      expect(outcome(await w.nodes[0].allowlist.check(next, ISSUE.resource, VICTIM))).to.equal('ok');
      expect(await w.signals()).to.have.length(0);
    });

    it('a page reload is a new session, not a fork of the old one', async () => {
      const w = await world();
      const before = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      const rotated = await successorOf(w.nodes[0].allowlist, before);
      granted(await w.nodes[0].allowlist.check(rotated, ISSUE.resource, VICTIM));
      const reloaded = await w.mint();
      w.clock.advance(GRACE * 3);
      expect(outcome(await w.nodes[0].allowlist.check(reloaded, ISSUE.resource, VICTIM))).to.equal('ok');
      expect(outcome(await w.nodes[0].allowlist.check(rotated, ISSUE.resource, VICTIM))).to.equal('ok');
      expect(await w.signals()).to.have.length(0);
    });

    it('the successor used on two nodes at once becomes current once, without alarm', async () => {
      const w = await world(2);
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      const next = await successorOf(w.nodes[0].allowlist, token);
      const answers = await Promise.all(w.nodes.map((node) => node.allowlist.check(next, ISSUE.resource, VICTIM)));
      expect(answers.map(outcome)).to.deep.equal(['ok', 'ok']);
      w.clock.advance(GRACE);
      expect(outcome(await w.nodes[1].allowlist.check(next, ISSUE.resource, VICTIM))).to.equal('ok');
      expect(await w.signals()).to.have.length(0);
    });

    it('a node lost and the next request served by another: the chain carries on from the store', async () => {
      const w = await world(2);
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      const next = await successorOf(w.nodes[0].allowlist, token);
      w.nodes[0].core.detach(); // node 0 is gone; the page's next call lands on node 1
      expect(outcome(await w.nodes[1].allowlist.check(next, ISSUE.resource, VICTIM))).to.equal('ok');
      w.clock.advance(ROTATE_AFTER);
      const third = await successorOf(w.nodes[1].allowlist, next);
      expect(outcome(await w.nodes[1].allowlist.check(third, ISSUE.resource, VICTIM))).to.equal('ok');
      expect(await w.signals()).to.have.length(0);
    });

    it('with the bus down, rotation is decided from the store', async () => {
      const w = await world(2);
      const token = await w.mint();
      granted(await w.nodes[1].allowlist.check(token, ISSUE.resource, VICTIM)); // node 1 has it cached
      w.bus.setConnected(false);
      w.clock.advance(ROTATE_AFTER);
      const next = await successorOf(w.nodes[0].allowlist, token);
      granted(await w.nodes[0].allowlist.check(next, ISSUE.resource, VICTIM));
      w.clock.advance(GRACE - 1);
      expect(outcome(await w.nodes[1].allowlist.check(token, ISSUE.resource, VICTIM))).to.equal('ok');
      expect(outcome(await w.nodes[1].allowlist.check(next, ISSUE.resource, VICTIM))).to.equal('ok');
      expect(await w.signals()).to.have.length(0);
      // ...and a fork is still caught there, from the store.
      w.clock.advance(2);
      expect(outcome(await w.nodes[1].allowlist.check(token, ISSUE.resource, THIEF))).to.equal('token_forked');
    });
  });

  describe('a copy in two hands', () => {
    it('a predecessor used after the grace ends the session: token_forked for both hands', async () => {
      const w = await world();
      const { token, next } = await rotatedOnce(w);
      w.clock.advance(GRACE);
      expect(outcome(await w.nodes[0].allowlist.check(token, ISSUE.resource, THIEF))).to.equal('token_forked');
      expect(outcome(await w.nodes[0].allowlist.check(next, ISSUE.resource, VICTIM))).to.equal('token_forked');
      const [entry] = (await w.store.listEntries({ clientKey: SITE, now: w.clock.now(), limit: 10 })).entries;
      expect(entry).to.equal(undefined);
    });

    it('a copy replayed from elsewhere cannot use up the successors offered to the page it was copied from', async () => {
      const w = await world();
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      // The thief, calling first and never taking a successor, is offered one; the victim's page is offered its own.
      await successorOf(w.nodes[0].allowlist, token, THIEF);
      const next = await successorOf(w.nodes[0].allowlist, token, VICTIM);
      granted(await w.nodes[0].allowlist.check(next, ISSUE.resource, VICTIM));
      w.clock.advance(GRACE);
      expect(outcome(await w.nodes[0].allowlist.check(token, ISSUE.resource, THIEF))).to.equal('token_forked');
    });

    it('a thief who copied the token is caught within one interval while the victim keeps working', async () => {
      const w = await world();
      let victim = await w.mint();
      const stolen = victim;
      const started = w.clock.now();
      let thiefCode = 'ok';
      // Every 5 s each of them makes a call; the victim's page follows Page-Token-Next, the thief replays the copy.
      while (thiefCode === 'ok' && w.clock.now() - started < 3 * ROTATE_AFTER) {
        w.clock.advance(5_000);
        const mine = granted(await w.nodes[0].allowlist.check(victim, ISSUE.resource, VICTIM));
        if (mine.next !== null) victim = mine.next;
        thiefCode = outcome(await w.nodes[0].allowlist.check(stolen, ISSUE.resource, THIEF));
      }
      expect(thiefCode).to.equal('token_forked');
      expect(w.clock.now() - started).to.be.at.most(ROTATE_AFTER + GRACE + 5_000);
      expect(outcome(await w.nodes[0].allowlist.check(victim, ISSUE.resource, VICTIM))).to.equal('token_forked');
    });

    it('audits the fork as theft_suspected with both sides', async () => {
      const w = await world();
      const { token, next } = await rotatedOnce(w);
      const rotatedAt = w.clock.now();
      w.clock.advance(GRACE);
      await w.nodes[0].allowlist.check(token, ISSUE.resource, from('198.51.100.66', FIREFOX_WINDOWS));
      const [signal] = await w.signals();
      expect(signal).to.include({ reason: 'theft_suspected', accountId: ALICE, resource: ISSUE.resource });
      expect(signal.detail).to.deep.include({ kind: 'fork', action: 'revoked' });
      expect(signal.detail!.presented).to.include({ ip: '198.51.100.66', userAgent: FIREFOX_WINDOWS, network: '198.51.100.0/24', agent: 'Firefox on Windows', at: w.clock.now() });
      expect(signal.detail!.holder).to.include({ ip: '203.0.113.10', userAgent: CHROME_LINUX, network: '203.0.113.0/24', at: rotatedAt });
      const revokes = await w.store.listAudit({ clientKey: SITE, kind: 'revoke', limit: 10 });
      expect(revokes.records.map((r) => [r.reason, r.count])).to.deep.equal([['theft_suspected', 1]]);
    });

    it('a copy arriving at several nodes at once is one theft: one signal and one revocation', async () => {
      const w = await world(2);
      const { token, next } = await rotatedOnce(w);
      w.clock.advance(GRACE);
      const answers = await Promise.all([0, 1, 0, 1].map((i) => w.nodes[i].allowlist.check(token, ISSUE.resource, THIEF)));
      expect(answers.map(outcome)).to.deep.equal(['token_forked', 'token_forked', 'token_forked', 'token_forked']);
      expect((await w.signals()).map((s) => [s.reason, s.detail?.action])).to.deep.equal([['theft_suspected', 'revoked']]);
      const revokes = await w.store.listAudit({ clientKey: SITE, kind: 'revoke', limit: 10 });
      expect(revokes.records.map((r) => [r.reason, r.count])).to.deep.equal([['theft_suspected', 1]]);
    });

    it('an unused sibling successor is a fork: the same token was offered to two hands', async () => {
      const w = await world(2);
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      const victims = await successorOf(w.nodes[0].allowlist, token, VICTIM);
      const thiefs = await successorOf(w.nodes[1].allowlist, token, THIEF);
      granted(await w.nodes[0].allowlist.check(victims, ISSUE.resource, VICTIM));
      expect(outcome(await w.nodes[1].allowlist.check(thiefs, ISSUE.resource, THIEF))).to.equal('token_forked');
    });

    it('is caught across nodes: the copy used on another node than the victim', async () => {
      const w = await world(3);
      const token = await w.mint();
      for (const node of w.nodes) granted(await node.allowlist.check(token, ISSUE.resource, VICTIM)); // each node has it cached
      w.clock.advance(ROTATE_AFTER);
      const next = await successorOf(w.nodes[0].allowlist, token);
      granted(await w.nodes[0].allowlist.check(next, ISSUE.resource, VICTIM));
      w.clock.advance(GRACE);
      expect(outcome(await w.nodes[2].allowlist.check(token, ISSUE.resource, THIEF))).to.equal('token_forked');
      for (const node of w.nodes) expect(outcome(await node.allowlist.check(next, ISSUE.resource, VICTIM))).to.equal('token_forked');
    });

    it('refuses the fork with store_unavailable, never serves it, when the store cannot end the session', async () => {
      const w = await world();
      const { token, next } = await rotatedOnce(w);
      w.clock.advance(GRACE);
      w.store.revokeEntries = () => Promise.reject(new Error('the database is gone'));
      expect(outcome(await w.nodes[0].allowlist.check(token, ISSUE.resource, THIEF))).to.equal('store_unavailable');
    });

    it('under the report policy a fork is recorded once and nothing is ended', async () => {
      const w = await world();
      await w.setPolicy({ theftResponse: 'report' });
      const { token, next } = await rotatedOnce(w);
      w.clock.advance(GRACE);
      expect(outcome(await w.nodes[0].allowlist.check(token, ISSUE.resource, THIEF))).to.equal('ok');
      expect(outcome(await w.nodes[0].allowlist.check(token, ISSUE.resource, THIEF))).to.equal('ok');
      expect(outcome(await w.nodes[0].allowlist.check(next, ISSUE.resource, VICTIM))).to.equal('ok');
      const signals = await w.signals();
      expect(signals.map((s) => [s.reason, s.detail?.action])).to.deep.equal([['theft_suspected', 'reported']]);
    });

    it('a stale token never gets a successor, whatever the policy', async () => {
      const w = await world();
      await w.setPolicy({ theftResponse: 'report' });
      const { token, next } = await rotatedOnce(w);
      w.clock.advance(ROTATE_AFTER);
      expect(granted(await w.nodes[0].allowlist.check(token, ISSUE.resource, THIEF)).next).to.equal(null);
    });
  });

  describe('network signals', () => {
    it('records a new network at a rotation, and acts on nothing', async () => {
      const w = await world();
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      const next = await successorOf(w.nodes[0].allowlist, token);
      expect(outcome(await w.nodes[0].allowlist.check(next, ISSUE.resource, from('192.0.2.7')))).to.equal('ok');
      const [signal] = await w.signals();
      expect(signal).to.include({ reason: 'network_changed' });
      expect(signal.detail).to.deep.include({ kind: 'network_changed', action: 'reported' });
      expect(signal.detail!.holder.network).to.equal('203.0.113.0/24');
      expect(signal.detail!.presented.network).to.equal('192.0.2.0/24');
    });

    it('records nothing when the address moves within its network', async () => {
      const w = await world();
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      const next = await successorOf(w.nodes[0].allowlist, token);
      granted(await w.nodes[0].allowlist.check(next, ISSUE.resource, from('203.0.113.200')));
      expect(await w.signals()).to.have.length(0);
    });

    it('a browser change is reported by default', async () => {
      const w = await world();
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      const next = await successorOf(w.nodes[0].allowlist, token);
      expect(outcome(await w.nodes[0].allowlist.check(next, ISSUE.resource, from('203.0.113.10', FIREFOX_WINDOWS)))).to.equal('ok');
      expect((await w.signals()).map((s) => [s.reason, s.detail?.action])).to.deep.equal([['agent_changed', 'reported']]);
    });

    it('a browser change ends the session when the policy asks', async () => {
      const w = await world();
      await w.setPolicy({ agentChangeResponse: 'revoke' });
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      const next = await successorOf(w.nodes[0].allowlist, token);
      expect(outcome(await w.nodes[0].allowlist.check(next, ISSUE.resource, from('203.0.113.10', FIREFOX_WINDOWS)))).to.equal('token_forked');
      expect(outcome(await w.nodes[0].allowlist.check(next, ISSUE.resource, VICTIM))).to.equal('token_forked');
    });
  });

  describe('revocation', () => {
    it('a session revoked before its successor is used cannot be revived by it', async () => {
      const w = await world();
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      const next = await successorOf(w.nodes[0].allowlist, token);
      await w.nodes[0].core.sessions.revokeUser(SITE, ALICE, 'operator');
      expect(outcome(await w.nodes[0].allowlist.check(next, ISSUE.resource, VICTIM))).to.equal('token_revoked');
      expect(outcome(await w.nodes[0].allowlist.check(token, ISSUE.resource, VICTIM))).to.equal('token_revoked');
    });

    it('ending a rotated session by its id ends its current token', async () => {
      const w = await world();
      const token = await w.mint();
      w.clock.advance(ROTATE_AFTER);
      const next = await successorOf(w.nodes[0].allowlist, token);
      const grant = granted(await w.nodes[0].allowlist.check(next, ISSUE.resource, VICTIM));
      await w.nodes[0].allowlist.revoke({ kind: 'session', clientKey: SITE, accountId: ALICE, idHash: grant.entry.idHash }, { actor: 'user:alice', reason: 'user_ended_session' });
      expect(outcome(await w.nodes[0].allowlist.check(next, ISSUE.resource, VICTIM))).to.equal('token_revoked');
    });
  });
});
