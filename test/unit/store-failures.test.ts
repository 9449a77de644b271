/**
 * One failure style: every verb the core hands its callers resolves, and a store that rejects is answered as
 * `store_unavailable`, reported once with the verb's name, and never thrown at the caller.
 */
import { expect } from 'chai';
import type { Grant } from '../../src/allowlist/allowlist';
import { storeAuditLog } from '../../src/allowlist/audit';
import { ManualClock } from '../../src/base/clock';
import { createCore, type Core } from '../../src/allowlist/assemble';
import { issueResource, SELF_RESOURCE } from '../../src/allowlist/resource';
import { tenantIn } from '../../src/allowlist/tenants';
import type { Policy } from '../../src/allowlist/types';
import { MemoryBus } from '../../src/bus/memory-bus';
import { NodeEntryCache } from '../../src/cache/entry-cache';
import { MemoryStore } from '../../src/store/memory-store';
import { createPageTokenCodec } from '../../src/tokens/page-token';
import { readReportItem } from '../../src/signals/leak-reports';
import { startLeakRun } from '../../src/signals/leaks';
import { createReconciler, type HostDirectory } from '../../src/signals/reconcile';
import { createPersonalDataReporter } from '../../src/signals/personal-data';
import { sha256Hex } from '../../src/tokens/hash';
import { createStreamAdmin } from '../../src/signals/ssf-receiver/streams';
import { createReceiverAdmin } from '../../src/signals/ssf-transmitter/receivers';

const SITE = 'site-a';
const ALICE = 'alice-account';
const ISSUE = issueResource('10001', '10000');
const POLICY: Policy = { idleTimeoutSeconds: 300, absoluteLifetimeSeconds: 600, theftResponse: 'revoke', agentChangeResponse: 'report', keyBinding: false };

/** Every store method a core verb, or a signal over it, may call. */
const FAILABLE = [
  'listEntries',
  'countLiveEntries',
  'isKnownUser',
  'revokeEntries',
  'listAudit',
  'getPolicy',
  'putPolicy',
  'getTenant',
  'putTenant',
  'putTombstone',
  'putTombstoneAndRevoke',
  'getTombstone',
  'claimOnce',
  'isClaimed',
  'advanceMark',
  'findByTokenHashes',
  'listTenants',
  'listLiveUsers',
  'listStreams',
  'listReceivers',
  'putReceiver',
  'deleteReceiver',
  'countSets',
  'touchEntries',
] as const;
type Failable = (typeof FAILABLE)[number];

/** A MemoryStore whose chosen methods reject, as a store whose database went away does. */
class FailingStore extends MemoryStore {
  failing = new Set<Failable>();

  constructor() {
    super();
    const store: MemoryStore = this;
    for (const method of FAILABLE) {
      const real = (store[method] as (...args: unknown[]) => Promise<unknown>).bind(store);
      Object.defineProperty(store, method, {
        value: (...args: unknown[]) => (this.failing.has(method) ? Promise.reject(new Error(`store down (${method})`)) : real(...args)),
      });
    }
  }
}

interface World {
  store: FailingStore;
  core: Core;
  /** Each store failure a verb reported: the verb's name. */
  reported: string[];
  /** A live grant of Alice's own page, for the verbs a user calls on their own sessions. */
  grant: Grant;
  /** Alice's issue page token, live: what a leak report names. */
  issueToken: string;
  clock: ManualClock;
  /** What the signals logged as a warning. */
  warned: string[];
}

async function world(): Promise<World> {
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 12));
  const store = new FailingStore();
  const reported: string[] = [];
  const core = createCore({
    store,
    ledger: store,
    cache: new NodeEntryCache({ ttlSeconds: 60, maxEntries: 1000 }),
    bus: new MemoryBus(),
    clock,
    tokens: createPageTokenCodec({ secret: 'x'.repeat(40), appKey: 'panelguard', clock, isTenant: tenantIn(store) }),
    audit: storeAuditLog(store, { onError: () => undefined, denialWindowMs: 5_000 }),
    ttlSeconds: 600,
    onStoreFailure: (verb) => reported.push(verb),
  });
  await core.tenants.installed(SITE, 'https://a.example.net', { sharedSecretChanged: false });
  const issue = await core.allowlist.mint({ clientKey: SITE, accountId: ALICE, target: ISSUE, connectIssuedAt: clock.now(), ip: null, userAgent: null });
  if (!issue.ok) throw new Error(issue.code);
  const own = await core.allowlist.mint({ clientKey: SITE, accountId: ALICE, target: SELF_RESOURCE, connectIssuedAt: clock.now(), ip: null, userAgent: null });
  if (!own.ok) throw new Error(own.code);
  const checked = await core.allowlist.check(own.value.token, SELF_RESOURCE.resource);
  if (!checked.ok) throw new Error(checked.code);
  return { store, core, reported, grant: checked.value, issueToken: issue.value.token, clock, warned: [] };
}

const CAUSE = { actor: 'webhook:user_deleted', reason: 'user_removed' };
const LIFECYCLE_CALL = { clientKey: SITE, tokenHash: sha256Hex('lifecycle-jwt'), issuedAt: 1, expiresAt: 2 };
/** A host that says Alice is gone. */
const ALICE_GONE: HostDirectory = {
  usersActive: async (_clientKey, accountIds) => ({ ok: true, value: { statuses: new Map(accountIds.map((id) => [id, 'gone' as const])), answeredAt: null } }),
};
const signalLog = (w: World) => ({ info() {}, warn: (_detail: object, message: string) => w.warned.push(message) });

/** The Shared Signals admin verbs over the same store and report, as the app builds them. */
const streamAdmin = (w: World) =>
  createStreamAdmin({
    store: w.store,
    clock: w.clock,
    baseUrl: 'https://panelguard.example.net',
    allowHttp: false,
    // A transmitter whose configuration agrees, so that adding a stream meets only the store.
    transmitters: { describe: async (issuer) => ({ ok: true, value: { issuer, jwksUri: `${issuer}/jwks`, criticalMembers: [] } }) },
    audit: storeAuditLog(w.store, { onError: () => undefined, denialWindowMs: 5_000 }),
    onStoreFailure: w.core.onStoreFailure,
  });
const receiverAdmin = (w: World) =>
  createReceiverAdmin({ store: w.store, clock: w.clock, audit: storeAuditLog(w.store, { onError: () => undefined, denialWindowMs: 5_000 }), onStoreFailure: w.core.onStoreFailure });
const RECEIVER = { endpointUrl: 'https://receiver.example.net/ssf', audience: 'https://receiver.example.net', authorization: null };

/** A leak run over the core, as the admin API and the CLI start one. */
const leakRun = (w: World) => startLeakRun({ lookup: w.store, allowlist: w.core.allowlist, clock: w.clock, onStoreFailure: w.core.onStoreFailure }, { source: 'breach-feed', site: null });

/**
 * Each verb, the store method whose failure it must answer, and its name in the report: the verb's own, or
 * (`reports`) that of the verb under it that met the failure, the revocation's under its reason.
 */
const VERBS: { verb: string; fails: Failable; reports?: string; call: (w: World) => Promise<{ ok: boolean; code?: string }> }[] = [
  { verb: 'list sessions', fails: 'listEntries', call: (w) => w.core.sessions.list(SITE, { limit: 10 }) },
  { verb: 'count live sessions', fails: 'countLiveEntries', call: (w) => w.core.sessions.countLive(SITE) },
  { verb: 'list own sessions', fails: 'listEntries', call: (w) => w.core.sessions.listOwn(w.grant) },
  { verb: 'end own session', fails: 'revokeEntries', reports: 'revoke: user_ended_session', call: (w) => w.core.sessions.endOwn(w.grant, w.grant.entry.idHash) },
  { verb: 'end other own sessions', fails: 'revokeEntries', reports: 'revoke: user_ended_other_sessions', call: (w) => w.core.sessions.endOwnOthers(w.grant) },
  { verb: 'list own signals', fails: 'listAudit', call: (w) => w.core.sessions.listOwnSignals(w.grant) },
  { verb: 'look up user', fails: 'isKnownUser', call: (w) => w.core.sessions.knowsUser(SITE, ALICE) },
  { verb: 'revoke user', fails: 'isKnownUser', call: (w) => w.core.sessions.revokeUser(SITE, ALICE, 'admin:ada') },
  { verb: 'revoke user', fails: 'revokeEntries', reports: 'revoke: admin_revoked_user', call: (w) => w.core.sessions.revokeUser(SITE, ALICE, 'admin:ada') },
  { verb: 'reset site', fails: 'revokeEntries', reports: 'revoke: admin_reset_site', call: (w) => w.core.sessions.resetTenant(SITE, 'admin:ada') },
  { verb: 'read policy', fails: 'getPolicy', call: (w) => w.core.policies.get(SITE) },
  { verb: 'change policy', fails: 'putPolicy', call: (w) => w.core.policies.set(SITE, POLICY, 'admin:ada') },
  { verb: 'read audit', fails: 'listAudit', call: (w) => w.core.auditTrail.list(SITE, { limit: 10 }) },
  { verb: 'look up site', fails: 'getTenant', call: (w) => w.core.tenantKnown(SITE) },
  { verb: 'revoke', fails: 'revokeEntries', reports: 'revoke: user_removed', call: (w) => w.core.allowlist.revoke({ kind: 'user', clientKey: SITE, accountId: ALICE }, CAUSE) },
  { verb: 'remove user', fails: 'putTombstoneAndRevoke', call: (w) => w.core.removals.removeUser(SITE, ALICE, w.clock.now(), CAUSE) },
  { verb: 'remove resource', fails: 'putTombstoneAndRevoke', call: (w) => w.core.removals.removeResource(SITE, ISSUE.resource, w.clock.now(), { actor: 'webhook:jira:issue_deleted', reason: 'issue_deleted' }) },
  { verb: 'restore user', fails: 'getTombstone', call: (w) => w.core.removals.restoreUser(SITE, ALICE, w.clock.now()) },
  { verb: 'restore user', fails: 'putTombstone', call: (w) => w.core.removals.restoreUser(SITE, ALICE, w.clock.now()) },
  { verb: 'install site', fails: 'getTenant', call: (w) => w.core.tenants.installed(SITE, 'https://a.example.net', { sharedSecretChanged: false }) },
  { verb: 'enable site', fails: 'putTenant', call: (w) => w.core.tenants.enabled(SITE, 'https://a.example.net') },
  { verb: 'enable site', fails: 'revokeEntries', reports: 'revoke: tenant_base_url_changed', call: (w) => w.core.tenants.enabled(SITE, 'https://moved.example.net') },
  { verb: 'disable site', fails: 'putTenant', call: (w) => w.core.tenants.disabled(SITE, null) },
  { verb: 'disable site', fails: 'revokeEntries', reports: 'revoke: tenant_disabled', call: (w) => w.core.tenants.disabled(SITE, null) },
  { verb: 'uninstall site', fails: 'getTenant', call: (w) => w.core.tenants.uninstalled(SITE, null) },
  { verb: 'look up delivery', fails: 'isClaimed', call: (w) => w.core.replays.wasApplied(SITE, 'delivery-1') },
  { verb: 'record delivery', fails: 'claimOnce', call: (w) => w.core.replays.applied(SITE, 'delivery-1') },
  { verb: 'accept lifecycle call', fails: 'claimOnce', call: (w) => w.core.replays.acceptLifecycle(LIFECYCLE_CALL, () => w.core.tenants.disabled(SITE, null)) },
  { verb: 'accept lifecycle call', fails: 'advanceMark', call: (w) => w.core.replays.acceptLifecycle(LIFECYCLE_CALL, () => w.core.tenants.disabled(SITE, null)) },
  { verb: 'accept lifecycle call', fails: 'putTenant', reports: 'disable site', call: (w) => w.core.replays.acceptLifecycle(LIFECYCLE_CALL, () => w.core.tenants.disabled(SITE, null)) },
  { verb: 'match leak reports', fails: 'findByTokenHashes', call: (w) => leakRun(w).apply([readReportItem(w.issueToken)]) },
  { verb: 'match leak reports', fails: 'revokeEntries', reports: 'revoke: credential_compromised', call: (w) => leakRun(w).apply([readReportItem(w.issueToken)]) },
  { verb: 'list streams', fails: 'listStreams', call: (w) => streamAdmin(w).list(SITE) },
  { verb: 'add stream', fails: 'listStreams', call: (w) => streamAdmin(w).create(SITE, { issuer: 'https://idp.example.com', subjects: 'account_id' }, 'admin:ada') },
  { verb: 'delete stream', fails: 'listStreams', call: (w) => streamAdmin(w).remove(SITE, 'stream-1', 'admin:ada') },
  { verb: 'list receivers', fails: 'listReceivers', call: (w) => receiverAdmin(w).list(SITE) },
  { verb: 'put receiver', fails: 'putReceiver', call: (w) => receiverAdmin(w).put(SITE, RECEIVER, 'admin:ada') },
  { verb: 'remove receiver', fails: 'deleteReceiver', call: (w) => receiverAdmin(w).remove(SITE, 'receiver-1', 'admin:ada') },
  { verb: 'read outbox', fails: 'countSets', call: (w) => receiverAdmin(w).outbox(SITE, { limit: 10 }) },
  // The world's own check noted a use, so the flush has something to write.
  { verb: 'flush last seen', fails: 'touchEntries', call: (w) => w.core.flushLastSeen() },
];

/** What a verb must answer on a failing store: `store_unavailable` as a value, reported once under `reports`. */
async function expectStoreUnavailable(w: World, call: (w: World) => Promise<{ ok: boolean; code?: string }>, reports: string): Promise<void> {
  expect(await call(w)).to.deep.equal({ ok: false, code: 'store_unavailable' });
  expect(w.reported).to.deep.equal([reports]);
}

describe('one failure style: the store failing under a core verb', () => {
  for (const { verb, fails, reports, call } of VERBS) {
    it(`answers ${verb} with store_unavailable when ${fails} fails, and reports it once`, async () => {
      const w = await world();
      w.store.failing.add(fails);
      await expectStoreUnavailable(w, call, reports ?? verb);
    });
  }

  it('fails that test for a verb that rethrows the store failure instead of answering it', async () => {
    const w = await world();
    w.store.failing.add('revokeEntries');
    const rethrowing = async (world: World) => {
      const revoked = await world.core.allowlist.revoke({ kind: 'user', clientKey: SITE, accountId: ALICE }, CAUSE);
      if (!revoked.ok) throw new Error('store down (revokeEntries)');
      return revoked;
    };
    const failure = await expectStoreUnavailable(w, rethrowing, 'revoke: user_removed').then(() => null, (error: unknown) => error);
    expect(failure).to.be.instanceOf(Error);
  });

  for (const { verb, call } of VERBS.filter((v, i) => VERBS.findIndex((w) => w.verb === v.verb) === i)) {
    it(`answers ${verb} with its value while the store answers, and reports nothing`, async () => {
      const w = await world();
      expect((await call(w)).ok).to.equal(true);
      expect(w.reported).to.deep.equal([]);
    });
  }

  it('keeps the uses a failed last-seen flush could not write, and writes them with the next one', async () => {
    const w = await world();
    w.store.failing.add('touchEntries');
    expect(await w.core.flushLastSeen()).to.deep.equal({ ok: false, code: 'store_unavailable' });
    w.store.failing.delete('touchEntries');
    expect(await w.core.flushLastSeen()).to.deep.equal({ ok: true, value: 1 });
    expect(await w.core.flushLastSeen()).to.deep.equal({ ok: true, value: 0 });
  });

  it('refuses a policy out of bounds as bad_request without asking the store', async () => {
    const w = await world();
    w.store.failing.add('putPolicy');
    const changed = await w.core.policies.set(SITE, { ...POLICY, idleTimeoutSeconds: 0 }, 'admin:ada');
    expect(changed.ok === false && changed.code).to.equal('bad_request');
    expect(w.reported).to.deep.equal([]);
  });

  it('releases a lifecycle JWT whose work failed at the store, so that the host\'s retry is taken', async () => {
    const w = await world();
    w.store.failing.add('putTenant');
    const failed = await w.core.replays.acceptLifecycle(LIFECYCLE_CALL, () => w.core.tenants.disabled(SITE, null));
    expect(failed).to.deep.equal({ ok: false, code: 'store_unavailable' });
    w.store.failing.clear();
    const retried = await w.core.replays.acceptLifecycle(LIFECYCLE_CALL, () => w.core.tenants.disabled(SITE, null));
    expect(retried.ok).to.equal(true);
  });

  it('does not enable a site whose revocation failed: the retry finds it still inactive and revokes', async () => {
    const w = await world();
    await w.core.tenants.disabled(SITE, null);
    w.store.failing.add('revokeEntries');
    expect(await w.core.tenants.enabled(SITE, null)).to.deep.equal({ ok: false, code: 'store_unavailable' });
    expect((await w.store.getTenant(SITE))?.status).to.equal('disabled');
  });

  it('does not count a leak batch whose revocation failed', async () => {
    const w = await world();
    const run = leakRun(w);
    w.store.failing.add('revokeEntries');
    await run.apply([readReportItem(w.issueToken)]);
    expect(run.counts().reports).to.equal(0);
  });

  it('logs a reconcile run the store failed, resolving its tick: the next cycle retries', async () => {
    const w = await world();
    const reconciler = createReconciler({ store: w.store, leases: w.store, directory: ALICE_GONE, removals: w.core.removals, clock: w.clock, intervalMs: 60_000, log: signalLog(w), onStoreFailure: w.core.onStoreFailure });
    w.store.failing.add('putTombstoneAndRevoke');
    await reconciler.tick();
    expect(w.reported).to.deep.equal(['remove user']);
    expect(w.warned).to.deep.equal(['reconcile: run failed; the next cycle retries']);
  });

  it('logs a reconcile tick whose sites could not be listed, resolving it', async () => {
    const w = await world();
    const reconciler = createReconciler({ store: w.store, leases: w.store, directory: ALICE_GONE, removals: w.core.removals, clock: w.clock, intervalMs: 60_000, log: signalLog(w), onStoreFailure: w.core.onStoreFailure });
    w.store.failing.add('listTenants');
    await reconciler.tick();
    expect(w.reported).to.deep.equal(['list sites to reconcile']);
    expect(w.warned).to.deep.equal(['reconcile: the sites could not be listed; the next tick retries']);
  });

  it('logs a personal data tick whose sites could not be listed, resolving it', async () => {
    const w = await world();
    const reports = { report: () => Promise.reject(new Error('never asked')) };
    const reporter = createPersonalDataReporter({ store: w.store, leases: w.store, reports, removals: w.core.removals, clock: w.clock, intervalMs: 60_000, log: signalLog(w), onStoreFailure: w.core.onStoreFailure });
    w.store.failing.add('listTenants');
    await reporter.tick();
    expect(w.reported).to.deep.equal(['list sites to report']);
    expect(w.warned).to.deep.equal(['personal data report: the sites could not be listed; the next tick retries']);
  });

  it('leaves every session live when ending a user failed at the store', async () => {
    const w = await world();
    w.store.failing.add('revokeEntries');
    await w.core.sessions.revokeUser(SITE, ALICE, 'admin:ada');
    w.store.failing.clear();
    const listed = await w.core.sessions.list(SITE, { accountId: ALICE, limit: 10 });
    expect(listed.ok && listed.value.entries.length).to.equal(2);
  });
});
