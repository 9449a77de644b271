/**
 * One failure style: every verb the core hands its callers resolves, and a store that rejects is answered as
 * `store_unavailable`, reported once with the verb's name, and never thrown at the caller.
 */
import { expect } from 'chai';
import type { Grant } from '../../src/allowlist/allowlist';
import { storeAuditLog } from '../../src/allowlist/audit';
import { ManualClock } from '../../src/shared/clock';
import { createCore, type Core } from '../../src/allowlist/assemble';
import { issueResource, SELF_RESOURCE } from '../../src/allowlist/resource';
import { tenantIn } from '../../src/allowlist/tenants';
import type { Policy } from '../../src/allowlist/types';
import { MemoryBus } from '../../src/bus/memory-bus';
import { NodeEntryCache } from '../../src/cache/entry-cache';
import { MemoryStore } from '../../src/store/memory-store';
import { createPageTokenCodec } from '../../src/tokens/page-token';

const SITE = 'site-a';
const ALICE = 'alice-account';
const ISSUE = issueResource('10001', '10000');
const POLICY: Policy = { idleTimeoutSeconds: 300, absoluteLifetimeSeconds: 600, theftResponse: 'revoke', agentChangeResponse: 'report', keyBinding: false };

/** Every store method a session, policy, audit or site verb may call. */
const FAILABLE = ['listEntries', 'countLiveEntries', 'isKnownUser', 'revokeEntries', 'listAudit', 'getPolicy', 'putPolicy', 'getTenant'] as const;
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
  await core.allowlist.mint({ clientKey: SITE, accountId: ALICE, target: ISSUE, connectIssuedAt: clock.now(), ip: null, userAgent: null });
  const own = await core.allowlist.mint({ clientKey: SITE, accountId: ALICE, target: SELF_RESOURCE, connectIssuedAt: clock.now(), ip: null, userAgent: null });
  if (!own.ok) throw new Error(own.code);
  const checked = await core.allowlist.check(own.value.token, SELF_RESOURCE.resource);
  if (!checked.ok) throw new Error(checked.code);
  return { store, core, reported, grant: checked.value };
}

/** Each verb, the store method whose failure it must answer, and its name in the report. */
const VERBS: { verb: string; fails: Failable; call: (w: World) => Promise<{ ok: boolean; code?: string }> }[] = [
  { verb: 'list sessions', fails: 'listEntries', call: (w) => w.core.sessions.list(SITE, { limit: 10 }) },
  { verb: 'count live sessions', fails: 'countLiveEntries', call: (w) => w.core.sessions.countLive(SITE) },
  { verb: 'list own sessions', fails: 'listEntries', call: (w) => w.core.sessions.listOwn(w.grant) },
  { verb: 'end own session', fails: 'revokeEntries', call: (w) => w.core.sessions.endOwn(w.grant, w.grant.entry.idHash) },
  { verb: 'end other own sessions', fails: 'revokeEntries', call: (w) => w.core.sessions.endOwnOthers(w.grant) },
  { verb: 'list own signals', fails: 'listAudit', call: (w) => w.core.sessions.listOwnSignals(w.grant) },
  { verb: 'look up user', fails: 'isKnownUser', call: (w) => w.core.sessions.knowsUser(SITE, ALICE) },
  { verb: 'revoke user', fails: 'isKnownUser', call: (w) => w.core.sessions.revokeUser(SITE, ALICE, 'admin:ada') },
  { verb: 'revoke user', fails: 'revokeEntries', call: (w) => w.core.sessions.revokeUser(SITE, ALICE, 'admin:ada') },
  { verb: 'reset site', fails: 'revokeEntries', call: (w) => w.core.sessions.resetTenant(SITE, 'admin:ada') },
  { verb: 'read policy', fails: 'getPolicy', call: (w) => w.core.policies.get(SITE) },
  { verb: 'change policy', fails: 'putPolicy', call: (w) => w.core.policies.set(SITE, POLICY, 'admin:ada') },
  { verb: 'read audit', fails: 'listAudit', call: (w) => w.core.auditTrail.list(SITE, { limit: 10 }) },
  { verb: 'look up site', fails: 'getTenant', call: (w) => w.core.tenantKnown(SITE) },
];

describe('one failure style: the store failing under a core verb', () => {
  for (const { verb, fails, call } of VERBS) {
    it(`answers ${verb} with store_unavailable when ${fails} fails, and reports it once`, async () => {
      const w = await world();
      w.store.failing.add(fails);
      expect(await call(w)).to.deep.equal({ ok: false, code: 'store_unavailable' });
      expect(w.reported).to.deep.equal([verb]);
    });
  }

  for (const { verb, call } of VERBS.filter((v, i) => VERBS.findIndex((w) => w.verb === v.verb) === i)) {
    it(`answers ${verb} with its value while the store answers, and reports nothing`, async () => {
      const w = await world();
      expect((await call(w)).ok).to.equal(true);
      expect(w.reported).to.deep.equal([]);
    });
  }

  it('refuses a policy out of bounds as bad_request without asking the store', async () => {
    const w = await world();
    w.store.failing.add('putPolicy');
    const changed = await w.core.policies.set(SITE, { ...POLICY, idleTimeoutSeconds: 0 }, 'admin:ada');
    expect(changed.ok === false && changed.code).to.equal('bad_request');
    expect(w.reported).to.deep.equal([]);
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
