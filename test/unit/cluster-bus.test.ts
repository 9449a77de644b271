/**
 * The cluster bus over an in-process hub that stands in for the network: membership by
 * heartbeat, confirmations, the confirmation bound, and what a node does when its link fails.
 * The real transports (PostgreSQL, Redis) run in test/integration/cluster.test.ts.
 */
import { expect } from 'chai';
import { ManualClock } from '../../src/base/clock';
import { createCore } from '../../src/allowlist/assemble';
import { NO_OBSERVER } from '../../src/allowlist/allowlist';
import { storeAuditLog } from '../../src/allowlist/audit';
import { issueResource } from '../../src/allowlist/resource';
import type { Confirmation } from '../../src/allowlist/types';
import { ClusterBus } from '../../src/bus/cluster-bus';
import type { Transport, TransportEvents } from '../../src/bus/transport';
import type { Invalidation } from '../../src/bus/types';
import { NodeEntryCache } from '../../src/cache/entry-cache';
import { MemoryStore } from '../../src/store/memory-store';
import { createPageTokenCodec } from '../../src/tokens/page-token';
import { tenantIn } from '../../src/allowlist/tenants';
import { valueOf } from '../support/results';

const HEARTBEAT_MS = 1000;
const CONFIRM_MS = 500;
const USER_SCOPE = { kind: 'user', clientKey: 'site-a', accountId: 'alice' } as const;

/** Delivers every message to every linked transport, sender included, a turn later, like a broker. */
class Hub {
  readonly links = new Set<HubLink>();

  async settle(): Promise<void> {
    for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

class HubLink implements Transport {
  private events: TransportEvents | null = null;
  /** Linked: messages flow. Cut: the connection is reported lost. Deaf: it stays "up" but swallows everything (half-open). */
  state: 'linked' | 'cut' | 'deaf' = 'linked';
  readonly sent: string[] = [];

  constructor(private readonly hub: Hub) {}

  start(events: TransportEvents): void {
    this.events = events;
    this.hub.links.add(this);
    queueMicrotask(() => events.connection(true));
  }

  async send(raw: string): Promise<void> {
    if (this.state === 'cut') throw new Error('connection closed');
    this.sent.push(raw);
    if (this.state === 'deaf') return;
    for (const link of this.hub.links) setImmediate(() => link.deliver(raw));
  }

  deliver(raw: string): void {
    if (this.state === 'linked') this.events?.message(raw);
  }

  cut(): void {
    this.state = 'cut';
    this.events?.connection(false);
  }

  restore(): void {
    this.state = 'linked';
    this.events?.connection(true);
  }

  async close(): Promise<void> {
    this.hub.links.delete(this);
  }
}

interface Node {
  bus: ClusterBus;
  link: HubLink;
  applied: Invalidation[];
}

/** A confirmation bound the test ends by hand, so that nothing sleeps. */
class Bound {
  private releases: (() => void)[] = [];
  readonly delay = () =>
    new Promise<void>((resolve) => {
      this.releases.push(resolve);
    });
  pass(): void {
    for (const release of this.releases.splice(0)) release();
  }
}

describe('cluster bus', () => {
  let hub: Hub;
  let clock: ManualClock;
  let bound: Bound;
  let nodes: Node[];

  function node(name: string): Node {
    const link = new HubLink(hub);
    const bus = new ClusterBus(link, { nodeId: name, clock, confirmMs: CONFIRM_MS, heartbeatMs: HEARTBEAT_MS, delay: bound.delay });
    const applied: Invalidation[] = [];
    bus.subscribe((message) => applied.push(message));
    bus.start();
    const created = { bus, link, applied };
    nodes.push(created);
    return created;
  }

  async function cluster(size: number): Promise<Node[]> {
    const created = Array.from({ length: size }, (_, i) => node(`node-${i + 1}`));
    await hub.settle();
    return created;
  }

  /** Every node heartbeats once, as its interval would. */
  async function heartbeat(): Promise<void> {
    for (const { bus } of nodes) bus.tick();
    await hub.settle();
  }

  async function settled<T>(promise: Promise<T>): Promise<T | 'pending'> {
    await hub.settle();
    return Promise.race([promise, Promise.resolve('pending' as const)]);
  }

  beforeEach(() => {
    hub = new Hub();
    clock = new ManualClock();
    bound = new Bound();
    nodes = [];
  });
  afterEach(async () => {
    for (const { bus } of nodes) await bus.close();
  });

  it('counts itself connected once its own heartbeat comes back, and every node that announced itself as live', async () => {
    const [one, two, three] = await cluster(3);
    for (const { bus } of [one!, two!, three!]) {
      expect(bus.isConnected()).to.equal(true);
      expect(bus.liveNodes()).to.equal(3);
    }
  });

  it('applies a publish on every node and answers 3/3 once both others confirmed, without waiting for the bound', async () => {
    const [one, two, three] = await cluster(3);
    const confirmation = await one!.bus.publish({ scope: USER_SCOPE });
    expect(confirmation).to.deep.equal({ confirmed: 3, expected: 3 });
    for (const { applied } of [one!, two!, three!]) expect(applied).to.deep.equal([{ scope: USER_SCOPE }]);
  });

  it('answers after the bound with the count that confirmed when a live node stays silent', async () => {
    const [one, , three] = await cluster(3);
    three!.link.state = 'deaf';
    const publishing = one!.bus.publish({ scope: USER_SCOPE });
    expect(await settled(publishing)).to.equal('pending');
    bound.pass();
    expect(await publishing).to.deep.equal({ confirmed: 2, expected: 3 });
  });

  it('stops expecting a node that missed three heartbeats', async () => {
    const [one, , three] = await cluster(3);
    three!.link.state = 'deaf';
    for (let i = 0; i < 3; i += 1) {
      clock.advance(HEARTBEAT_MS);
      await heartbeat();
    }
    expect(one!.bus.liveNodes()).to.equal(3);
    clock.advance(HEARTBEAT_MS + 1);
    await heartbeat();
    expect(one!.bus.liveNodes()).to.equal(2);
    expect(await one!.bus.publish({ scope: USER_SCOPE })).to.deep.equal({ confirmed: 2, expected: 2 });
  });

  it('does not wait for a node that left while a publish was waiting on it', async () => {
    const [one, , three] = await cluster(3);
    three!.link.state = 'deaf';
    const publishing = one!.bus.publish({ scope: USER_SCOPE });
    expect(await settled(publishing)).to.equal('pending');
    three!.link.state = 'linked';
    three!.applied.length = 0;
    await three!.bus.close();
    const confirmation: Confirmation | 'pending' = await settled(publishing);
    expect(confirmation).to.deep.equal({ confirmed: 2, expected: 3 });
  });

  it('reports the loss of its connection at once, and answers a publish made meanwhile with its own confirmation only', async () => {
    const [one] = await cluster(3);
    const changes: boolean[] = [];
    one!.bus.onConnectionChange((connected) => changes.push(connected));
    one!.link.cut();
    expect(one!.bus.isConnected()).to.equal(false);
    expect(changes).to.deep.equal([false]);
    expect(await one!.bus.publish({ scope: USER_SCOPE })).to.deep.equal({ confirmed: 1, expected: 3 });
    expect(one!.applied).to.have.length(1);
  });

  it('keeps counting the peers it knew while cut off, so that its revocations stay unconfirmed rather than 1/1', async () => {
    const [one] = await cluster(3);
    one!.link.cut();
    for (let i = 0; i < 10; i += 1) {
      clock.advance(HEARTBEAT_MS);
      one!.bus.tick();
    }
    expect(one!.bus.liveNodes()).to.equal(3);
    expect(await one!.bus.publish({ scope: USER_SCOPE })).to.deep.equal({ confirmed: 1, expected: 3 });
  });

  it('answers a publish made before it ever heard the bus as unconfirmed, never 1/1: it cannot know who else is live', async () => {
    await cluster(3);
    // A node restarted while its link is cut: it has heard no peer, and the others still cache what it revokes.
    const restarted = node('node-4');
    restarted.link.cut();
    await hub.settle();
    expect(restarted.bus.liveNodes()).to.equal(1);
    expect(await restarted.bus.publish({ scope: USER_SCOPE })).to.deep.equal({ confirmed: 1, expected: 2 });
  });

  it('gives the peers it knew three heartbeats to be heard again after it reconnects, then forgets the silent ones', async () => {
    const [one, , three] = await cluster(3);
    one!.link.cut();
    three!.link.state = 'deaf';
    clock.advance(10 * HEARTBEAT_MS);
    one!.link.restore();
    await hub.settle();
    expect(one!.bus.liveNodes()).to.equal(3);
    for (let i = 0; i < 4; i += 1) {
      clock.advance(HEARTBEAT_MS);
      await heartbeat();
    }
    expect(one!.bus.liveNodes()).to.equal(2);
  });

  it('resends what it could not send once its connection is back, and is connected again only when its heartbeat returns', async () => {
    const [one, two] = await cluster(3);
    one!.link.cut();
    await one!.bus.publish({ scope: USER_SCOPE });
    expect(two!.applied).to.deep.equal([]);
    const changes: boolean[] = [];
    one!.bus.onConnectionChange((connected) => changes.push(connected));
    one!.link.restore();
    expect(one!.bus.isConnected()).to.equal(false);
    await hub.settle();
    expect(changes).to.deep.equal([true]);
    expect(two!.applied).to.deep.equal([{ scope: USER_SCOPE }]);
  });

  it('notices a half-open connection that swallows messages within three heartbeats', async () => {
    const [one] = await cluster(2);
    one!.link.state = 'deaf';
    for (let i = 0; i < 3; i += 1) {
      clock.advance(HEARTBEAT_MS);
      await heartbeat();
      expect(one!.bus.isConnected()).to.equal(true);
    }
    clock.advance(HEARTBEAT_MS + 1);
    await heartbeat();
    expect(one!.bus.isConnected()).to.equal(false);
    one!.link.state = 'linked';
    await heartbeat();
    expect(one!.bus.isConnected()).to.equal(true);
  });

  it('ignores and reports a message it cannot read', async () => {
    const errors: string[] = [];
    const link = new HubLink(hub);
    const bus = new ClusterBus(link, {
      nodeId: 'reader',
      clock,
      confirmMs: CONFIRM_MS,
      heartbeatMs: HEARTBEAT_MS,
      delay: bound.delay,
      onError: (_error, what) => errors.push(what),
    });
    const applied: Invalidation[] = [];
    bus.subscribe((message) => applied.push(message));
    bus.start();
    nodes.push({ bus, link, applied });
    await hub.settle();
    for (const raw of ['not json', '{"type":"invalidate","node":"x","id":"1","scope":{"kind":"everything"}}']) link.deliver(raw);
    expect(applied).to.deep.equal([]);
    expect(errors).to.deep.equal(['unreadable bus message ignored', 'unreadable bus message ignored']);
  });

  describe('the core on a cluster bus', () => {
    const SITE = 'site-a';
    const ISSUE = issueResource('10001', '10000');

    async function coreOn(bus: ClusterBus, store: MemoryStore, lookups: string[]) {
      const tokens = createPageTokenCodec({ secret: 'x'.repeat(40), appKey: 'panelguard', clock, isTenant: tenantIn(store) });
      return createCore({
        store,
        ledger: store,
        cache: new NodeEntryCache({ ttlSeconds: 60, maxEntries: 1000 }),
        bus,
        clock,
        tokens,
        audit: storeAuditLog(store, { onError: () => undefined, denialWindowMs: 5_000 }),
        ttlSeconds: 600,
        observer: { ...NO_OBSERVER, cacheLookup: (outcome) => lookups.push(outcome) },
      });
    }

    it('reads the store on every check while its bus is down, and caches again after the bus is back and flushed', async () => {
      const [one, two] = await cluster(2);
      const store = new MemoryStore();
      const lookups: string[] = [];
      const first = await coreOn(one!.bus, store, lookups);
      const second = await coreOn(two!.bus, store, []);
      await first.tenants.installed(SITE, 'https://a.example.net', { sharedSecretChanged: false });
      const minted = await first.allowlist.mint({ clientKey: SITE, accountId: 'alice', target: ISSUE, connectIssuedAt: clock.now(), ip: null, userAgent: null });
      if (!minted.ok) throw new Error(minted.code);
      clock.advance(1);
      const check = async () => {
        const result = await first.allowlist.check(minted.value.token, ISSUE.resource);
        return result.ok ? 'ok' : result.code;
      };

      expect([await check(), await check()]).to.deep.equal(['ok', 'ok']);
      expect(lookups.splice(0)).to.deep.equal(['miss', 'hit']);

      one!.link.cut();
      // Revoked elsewhere while this node hears nothing: it must still refuse, from the store.
      const revoking = second.allowlist.revoke({ kind: 'user', clientKey: SITE, accountId: 'alice' }, { actor: 'test', reason: 'user_removed' });
      await hub.settle();
      bound.pass();
      expect(valueOf(await revoking).confirmation).to.deep.equal({ confirmed: 1, expected: 2 });
      expect(await check()).to.equal('token_revoked');
      expect(lookups.splice(0)).to.deep.equal(['bypass']);

      one!.link.restore();
      await hub.settle();
      expect(one!.bus.isConnected()).to.equal(true);
      expect([await check(), await check()]).to.deep.equal(['token_revoked', 'token_revoked']);
      expect(lookups).to.deep.equal(['miss', 'hit']);
      first.detach();
      second.detach();
    });
  });
});
