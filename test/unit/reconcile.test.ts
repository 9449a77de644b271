/** Reconciliation over the real core and a memory store, with a fake clock and a fake host directory at the port. */
import { expect } from 'chai';
import type { Allowlist } from '../../src/allowlist/allowlist';
import { storeAuditLog, type AuditLog } from '../../src/allowlist/audit';
import { ManualClock } from '../../src/base/clock';
import { createCore } from '../../src/allowlist/assemble';
import type { Removals } from '../../src/allowlist/removals';
import { issueResource } from '../../src/allowlist/resource';
import { tenantIn, type TenantLifecycle } from '../../src/allowlist/tenants';
import { MemoryBus } from '../../src/bus/memory-bus';
import { NodeEntryCache } from '../../src/cache/entry-cache';
import {
  ANSWER_MARGIN_MS,
  createReconciler,
  tickMs,
  type DirectoryResult,
  type HostDirectory,
  type ReconcileObserver,
  type Reconciler,
  type UserStatus,
} from '../../src/signals/reconcile';
import { MemoryStore } from '../../src/store/memory-store';
import { createPageTokenCodec } from '../../src/tokens/page-token';
import { pageSessions } from '../support/page-sessions';
import { valueOf } from '../support/results';

const SITE = 'site-a';
const OTHER_SITE = 'site-b';
const ALICE = 'alice';
const BOB = 'bob';
const CAROL = 'carol';
const ISSUE = issueResource('10001', '10000');
const HOUR = 60 * 60 * 1000;
const INTERVAL = HOUR;
/** Page tokens outlive a few cycles here, so that the same sessions are asked about again. */
const TTL_SECONDS = 4 * 60 * 60;

/** The host's user directory at the port: what it says of each account, and every question it was asked. */
class FakeDirectory implements HostDirectory {
  readonly statuses = new Map<string, UserStatus>();
  readonly questions: Array<{ clientKey: string; accountIds: string[] }> = [];
  /** Failures to answer with, one per question, before answering normally again. */
  readonly failures: DirectoryResult[] = [];
  /** The host's clock in its answers; null: it sends no Date. */
  answeredAt: (() => number) | null = null;

  async usersActive(clientKey: string, accountIds: readonly string[]): Promise<DirectoryResult> {
    this.questions.push({ clientKey, accountIds: [...accountIds] });
    const failure = this.failures.shift();
    if (failure !== undefined) return failure;
    const statuses = new Map(accountIds.map((id) => [id, this.statuses.get(id) ?? 'gone'] as const));
    return { ok: true, value: { statuses, answeredAt: this.answeredAt?.() ?? null } };
  }

  asked(): string[] {
    return this.questions.flatMap((question) => question.accountIds);
  }
}

/** Every observation, in order, as `kind:detail`. */
class Observations implements ReconcileObserver {
  readonly seen: string[] = [];
  ran(outcome: string) {
    this.seen.push(`ran:${outcome}`);
  }
  checked(count: number) {
    this.seen.push(`checked:${count}`);
  }
  ended(status: string, count: number) {
    this.seen.push(`ended:${status}:${count}`);
  }
  hostError(api: string, reason: string) {
    this.seen.push(`host_error:${api}:${reason}`);
  }
}

interface World {
  clock: ManualClock;
  store: MemoryStore;
  allowlist: Allowlist;
  removals: Removals;
  tenants: TenantLifecycle;
  audit: AuditLog;
  directory: FakeDirectory;
  observations: Observations;
  reconciler: Reconciler;
  /** Another node on the same store and host. */
  node(): Reconciler;
  mint(accountId: string, clientKey?: string): Promise<string>;
  codeOf(token: string): Promise<string>;
}

async function world(options: { batchSize?: number } = {}): Promise<World> {
  // Ten minutes into a cycle, so that a tick in the same cycle is a few minutes away.
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 12, 10));
  const store = new MemoryStore();
  const audit = storeAuditLog(store, { onError: () => undefined, denialWindowMs: 5_000 });
  const tokens = createPageTokenCodec({ secret: 'x'.repeat(40), appKey: 'panelguard', clock, isTenant: tenantIn(store) });
  const cache = new NodeEntryCache({ ttlSeconds: 60, maxEntries: 1000 });
  const { allowlist, removals, tenants, onStoreFailure } = createCore({ store, ledger: store, cache, bus: new MemoryBus(), clock, tokens, audit, ttlSeconds: TTL_SECONDS });
  await tenants.installed(SITE, 'https://a.example.net', { sharedSecretChanged: false });
  const directory = new FakeDirectory();
  const observations = new Observations();
  const node = () =>
    createReconciler({ store, leases: store, directory, removals, clock, intervalMs: INTERVAL, batchSize: options.batchSize, observer: observations, onStoreFailure });
  return {
    clock,
    store,
    allowlist,
    removals,
    tenants,
    audit,
    directory,
    observations,
    reconciler: node(),
    node,
    ...pageSessions(allowlist, clock, ISSUE, SITE),
  };
}

describe('reconciliation', () => {
  it('asks the host only about users who hold live sessions', async () => {
    const w = await world();
    w.directory.statuses.set(ALICE, 'active');
    await w.mint(ALICE);
    const bobs = await w.mint(BOB);
    await w.allowlist.revoke({ kind: 'user', clientKey: SITE, accountId: BOB }, { actor: 'operator', reason: 'operator' });
    expect(await w.codeOf(bobs)).to.equal('token_revoked');
    await w.mint(CAROL);
    w.clock.advance(TTL_SECONDS * 1000); // every token so far has expired
    await w.mint(ALICE);
    await w.reconciler.tick();
    expect(w.directory.asked()).to.deep.equal([ALICE]);
  });

  it('asks in batches of at most its batch size, each user once', async () => {
    const w = await world({ batchSize: 2 });
    for (const user of ['u1', 'u2', 'u3', 'u4', 'u5']) {
      w.directory.statuses.set(user, 'active');
      await w.mint(user);
      await w.mint(user);
    }
    await w.reconciler.tick();
    expect(w.directory.questions.map((question) => question.accountIds)).to.deep.equal([['u1', 'u2'], ['u3', 'u4'], ['u5']]);
    expect(w.observations.seen).to.deep.equal(['checked:2', 'checked:2', 'checked:1', 'ran:completed']);
  });

  it('keeps the sessions of a user the host reports active', async () => {
    const w = await world();
    w.directory.statuses.set(ALICE, 'active');
    const token = await w.mint(ALICE);
    await w.reconciler.tick();
    expect(await w.codeOf(token)).to.equal('ok');
    expect(await w.store.getTombstone(SITE, 'user', ALICE)).to.equal(null);
  });

  it("ends the sessions of a user the host reports inactive, as the lost webhook would have: tombstone, revoke, audit", async () => {
    const w = await world();
    w.directory.statuses.set(ALICE, 'inactive');
    w.directory.statuses.set(BOB, 'active');
    const alices = await w.mint(ALICE);
    const bobs = await w.mint(BOB);
    await w.reconciler.tick();
    expect(await w.codeOf(alices)).to.equal('token_revoked');
    expect(await w.codeOf(bobs)).to.equal('ok');
    expect((await w.store.getTombstone(SITE, 'user', ALICE))?.liftedAt).to.equal(null);
    const minted = await w.allowlist.mint({ clientKey: SITE, accountId: ALICE, target: ISSUE, connectIssuedAt: w.clock.now(), ip: null, userAgent: null });
    expect(minted).to.deep.equal({ ok: false, code: 'forbidden' });
    await w.audit.drain();
    const revocations = (await w.store.listAudit({ clientKey: SITE, kind: 'revoke', limit: 10 })).records;
    expect(revocations.map(({ accountId, actor, reason, count }) => ({ accountId, actor, reason, count }))).to.deep.equal([
      { accountId: ALICE, actor: 'reconcile', reason: 'reconciled', count: 1 },
    ]);
    expect(w.observations.seen).to.deep.equal(['checked:2', 'ended:inactive:1', 'ran:completed']);
  });

  it('ends the sessions of a user the host no longer knows (gone)', async () => {
    const w = await world();
    const token = await w.mint(ALICE); // not in the directory: not returned
    await w.reconciler.tick();
    expect(await w.codeOf(token)).to.equal('token_revoked');
    expect(w.observations.seen).to.include('ended:gone:1');
  });

  it('leaves alone a user the answer says nothing about', async () => {
    const w = await world();
    const token = await w.mint(ALICE);
    w.directory.usersActive = async (_clientKey, accountIds) => {
      w.directory.questions.push({ clientKey: SITE, accountIds: [...accountIds] });
      return { ok: true, value: { statuses: new Map(), answeredAt: null } };
    };
    await w.reconciler.tick();
    expect(w.directory.asked()).to.deep.equal([ALICE]);
    expect(await w.codeOf(token)).to.equal('ok');
  });

  it('ends nothing when the host cannot answer, and asks again the next cycle', async () => {
    const w = await world();
    const token = await w.mint(ALICE); // gone, once the host answers
    w.directory.failures.push({ ok: false, code: 'host_unavailable' });
    await w.reconciler.tick();
    expect(await w.codeOf(token)).to.equal('ok');
    expect(w.observations.seen).to.deep.equal(['host_error:users:unavailable', 'ran:host_error']);
    // The rest of this cycle is left alone: a failing host is not asked again every tick.
    w.clock.advance(tickMs(INTERVAL));
    await w.reconciler.tick();
    expect(w.directory.questions).to.have.length(1);
    w.clock.advance(INTERVAL);
    await w.reconciler.tick();
    expect(w.directory.questions).to.have.length(2);
    expect(await w.codeOf(token)).to.equal('token_revoked');
  });

  it('stops asking about a rate-limited tenant until its Retry-After has passed, then does the rest of the cycle', async () => {
    const w = await world({ batchSize: 1 });
    w.directory.statuses.set(ALICE, 'active');
    await w.mint(ALICE);
    const bobs = await w.mint(BOB); // gone
    w.directory.failures.push({ ok: true, value: { statuses: new Map([[ALICE, 'active']]), answeredAt: null } });
    w.directory.failures.push({ ok: false, code: 'rate_limited', retryAfterMs: 120_000 });
    await w.reconciler.tick();
    expect(w.directory.asked()).to.deep.equal([ALICE, BOB]);
    expect(await w.codeOf(bobs)).to.equal('ok');
    expect(w.observations.seen).to.include.members(['host_error:users:rate_limited', 'ran:rate_limited']);

    w.clock.advance(119_000);
    await w.reconciler.tick();
    await w.node().tick(); // the pause holds on every node
    expect(w.directory.questions).to.have.length(2);

    w.clock.advance(1_000);
    await w.node().tick();
    expect(w.directory.asked()).to.deep.equal([ALICE, BOB, ALICE, BOB]);
    expect(await w.codeOf(bobs)).to.equal('token_revoked');
  });

  it("does each tenant's work once per cycle, however many nodes tick how often", async () => {
    const w = await world();
    w.directory.statuses.set(ALICE, 'active');
    await w.mint(ALICE);
    const nodes = [w.reconciler, w.node(), w.node()];
    await Promise.all(nodes.map((node) => node.tick()));
    for (let i = 0; i < 3; i += 1) {
      w.clock.advance(tickMs(INTERVAL) / 4);
      for (const node of nodes) await node.tick();
    }
    expect(w.directory.questions).to.have.length(1);
    w.clock.advance(INTERVAL);
    await Promise.all(nodes.map((node) => node.tick()));
    expect(w.directory.questions).to.have.length(2);
    expect(w.observations.seen.filter((seen) => seen.startsWith('ran:'))).to.deep.equal(['ran:completed', 'ran:completed']);
  });

  it('visits every enabled tenant, and no disabled one', async () => {
    const w = await world();
    await w.tenants.installed(OTHER_SITE, 'https://b.example.net', { sharedSecretChanged: false });
    await w.tenants.installed('site-c', 'https://c.example.net', { sharedSecretChanged: false });
    w.directory.statuses.set(ALICE, 'active');
    await w.mint(ALICE);
    await w.mint(ALICE, OTHER_SITE);
    await w.mint(ALICE, 'site-c');
    await w.tenants.disabled('site-c', null);
    await w.reconciler.tick();
    expect(w.directory.questions.map((question) => question.clientKey)).to.deep.equal([SITE, OTHER_SITE]);
  });

  it('passes over a tenant it has no Connect credentials for, without counting a run', async () => {
    const w = await world();
    const token = await w.mint(ALICE);
    w.directory.failures.push({ ok: false, code: 'not_connect' });
    await w.reconciler.tick();
    expect(await w.codeOf(token)).to.equal('ok');
    expect(w.observations.seen).to.deep.equal([]);
  });

  describe('the removal it records', () => {
    it("is dated a second before the host's answer", async () => {
      const w = await world();
      const answeredAt = w.clock.now() + 5_000;
      w.directory.answeredAt = () => answeredAt;
      w.directory.statuses.set(ALICE, 'inactive');
      await w.mint(ALICE);
      await w.reconciler.tick();
      expect((await w.store.getTombstone(SITE, 'user', ALICE))?.lastEventAt).to.equal(answeredAt - ANSWER_MARGIN_MS);
    });

    it('is dated by its own clock, when the host says nothing of its own', async () => {
      const w = await world();
      w.directory.statuses.set(ALICE, 'inactive');
      await w.mint(ALICE);
      const asked = w.clock.now();
      await w.reconciler.tick();
      expect((await w.store.getTombstone(SITE, 'user', ALICE))?.lastEventAt).to.equal(asked - ANSWER_MARGIN_MS);
    });

    it('gives way to a reactivation that follows the answer, even within its second', async () => {
      const w = await world();
      const answeredAt = Math.floor(w.clock.now() / 1000) * 1000; // a Date header: whole seconds
      w.directory.answeredAt = () => answeredAt;
      w.directory.statuses.set(ALICE, 'inactive');
      await w.mint(ALICE);
      await w.reconciler.tick();
      const restored = await w.removals.restoreUser(SITE, ALICE, answeredAt + 1);
      expect(valueOf(restored).applied).to.equal(true);
      const minted = await w.allowlist.mint({ clientKey: SITE, accountId: ALICE, target: ISSUE, connectIssuedAt: answeredAt + 1_000, ip: null, userAgent: null });
      expect(minted.ok).to.equal(true);
    });

    it('is not undone by the lost webhook arriving late, which changes nothing', async () => {
      const w = await world();
      w.directory.answeredAt = () => w.clock.now();
      w.directory.statuses.set(ALICE, 'inactive');
      const deactivatedAt = w.clock.now() - 60_000;
      await w.mint(ALICE);
      await w.reconciler.tick();
      const late = await w.removals.removeUser(SITE, ALICE, deactivatedAt, { actor: 'webhook:user_updated', reason: 'user_deactivated' });
      expect(valueOf(late).applied).to.equal(false);
      expect((await w.store.getTombstone(SITE, 'user', ALICE))?.liftedAt).to.equal(null);
    });

    it('does not override a reactivation the host sent after it answered', async () => {
      const w = await world();
      const answeredAt = w.clock.now();
      w.directory.answeredAt = () => answeredAt;
      w.directory.statuses.set(ALICE, 'inactive');
      const token = await w.mint(ALICE);
      // The reactivation's webhook lands between the host's answer and the removal.
      const ask = w.directory.usersActive.bind(w.directory);
      w.directory.usersActive = async (clientKey, accountIds) => {
        const answer = await ask(clientKey, accountIds);
        await w.removals.restoreUser(SITE, ALICE, answeredAt + 10);
        return answer;
      };
      await w.reconciler.tick();
      expect((await w.store.getTombstone(SITE, 'user', ALICE))?.liftedAt).not.to.equal(null);
      expect(await w.codeOf(token)).to.equal('ok');
    });
  });

  it('stops between batches once stopped, and ticks no more', async () => {
    const w = await world({ batchSize: 1 });
    for (const user of ['u1', 'u2', 'u3']) {
      w.directory.statuses.set(user, 'active');
      await w.mint(user);
    }
    let stopping: Promise<void> | null = null;
    const ask = w.directory.usersActive.bind(w.directory);
    w.directory.usersActive = async (clientKey, accountIds) => {
      stopping ??= w.reconciler.stop();
      return ask(clientKey, accountIds);
    };
    await w.reconciler.tick();
    await stopping;
    expect(w.directory.questions).to.have.length(1);
    w.clock.advance(INTERVAL);
    await w.reconciler.tick();
    expect(w.directory.questions).to.have.length(1);
  });
});
