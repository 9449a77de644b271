/**
 * Idle timeout and absolute lifetime, on an injected clock: a busy token does not idle out
 * while a quiet one does, policies apply at once, and last-seen is written behind at most
 * once per token per flush.
 */
import { expect } from 'chai';
import type { Allowlist } from '../../src/allowlist/allowlist';
import { storeAuditLog } from '../../src/allowlist/audit';
import { ManualClock } from '../../src/base/clock';
import { createCore, type Core } from '../../src/allowlist/assemble';
import { issueResource } from '../../src/allowlist/resource';
import type { LastSeen, Policy } from '../../src/allowlist/types';
import { MemoryBus } from '../../src/bus/memory-bus';
import { NodeEntryCache } from '../../src/cache/entry-cache';
import { MemoryStore } from '../../src/store/memory-store';
import { createPageTokenCodec } from '../../src/tokens/page-token';
import { tenantIn } from '../../src/allowlist/tenants';
import { valueOf } from '../support/results';

const SITE = 'site-a';
const ISSUE = issueResource('10001', '10000');
const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** A policy with these timeouts, and theft detection as it is by default. */
function timeouts(idleTimeoutSeconds: number, absoluteLifetimeSeconds: number): Policy {
  return { idleTimeoutSeconds, absoluteLifetimeSeconds, theftResponse: 'revoke', agentChangeResponse: 'report', keyBinding: false };
}

/** A MemoryStore that counts what is written behind. */
class CountingStore extends MemoryStore {
  readonly touches: LastSeen[][] = [];
  override async touchEntries(seen: LastSeen[]): Promise<void> {
    this.touches.push(seen.map((s) => ({ ...s })));
    await super.touchEntries(seen);
  }
}

interface Node {
  core: Core;
  allowlist: Allowlist;
}

describe('idle timeout and absolute lifetime', () => {
  let clock: ManualClock;
  let store: CountingStore;

  function node(): Node {
    const core = createCore({
      store,
      ledger: store,
      cache: new NodeEntryCache({ ttlSeconds: 300, maxEntries: 1000 }),
      bus: new MemoryBus(),
      clock,
      tokens: createPageTokenCodec({ secret: 'x'.repeat(40), appKey: 'panelguard', clock, isTenant: tenantIn(store) }),
      audit: storeAuditLog(store, { onError: () => undefined, denialWindowMs: 5_000 }),
      ttlSeconds: 3600,
      idleTimeoutSeconds: 300,
    });
    return { core, allowlist: core.allowlist };
  }

  async function mint(on: Node, accountId = 'alice'): Promise<string> {
    const minted = await on.allowlist.mint({ clientKey: SITE, accountId, target: ISSUE, connectIssuedAt: clock.now(), ip: null, userAgent: null });
    if (!minted.ok) throw new Error(minted.code);
    return minted.value.token;
  }

  async function codeOf(on: Node, token: string): Promise<string> {
    const result = await on.allowlist.check(token, ISSUE.resource);
    return result.ok ? 'ok' : result.code;
  }

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 10, 23, 9));
    store = new CountingStore();
    await store.putTenant({ clientKey: SITE, baseUrl: 'https://a.example.net', status: 'enabled', updatedAt: clock.now() });
  });

  it('lets a busy token live on while a quiet one minted with it idles out', async () => {
    const one = node();
    const busy = await mint(one, 'alice');
    const quiet = await mint(one, 'bob');
    for (let elapsed = 0; elapsed < 20 * MINUTE; elapsed += 2 * MINUTE) {
      clock.advance(2 * MINUTE);
      expect(await codeOf(one, busy), `after ${elapsed / MINUTE + 2} min`).to.equal('ok');
    }
    expect(await codeOf(one, quiet)).to.equal('token_idle');
  });

  it('refuses a token unused for the idle timeout, and not a moment before', async () => {
    const one = node();
    const token = await mint(one);
    clock.advance(5 * MINUTE - 1);
    expect(await codeOf(one, token)).to.equal('ok');
    clock.advance(5 * MINUTE);
    expect(await codeOf(one, token)).to.equal('token_idle');
  });

  it('refuses even a busy token once its absolute lifetime has passed', async () => {
    const one = node();
    const token = await mint(one);
    for (let minutes = 4; minutes < 60; minutes += 4) {
      clock.advance(4 * MINUTE);
      expect(await codeOf(one, token), `after ${minutes} min`).to.equal('ok');
    }
    clock.advance(4 * MINUTE);
    expect(await codeOf(one, token)).to.equal('token_expired');
  });

  it('applies a changed policy to tokens already minted, on the next check', async () => {
    const one = node();
    const token = await mint(one);
    clock.advance(3 * MINUTE);
    expect(await codeOf(one, token)).to.equal('ok');
    const changed = await one.core.policies.set(SITE, timeouts(60, 3600), 'admin:ada');
    expect(changed.ok).to.equal(true);
    clock.advance(61 * SECOND);
    expect(await codeOf(one, token)).to.equal('token_idle');
    const shorter = await one.core.policies.set(SITE, timeouts(120, 240), 'admin:ada');
    expect(shorter.ok).to.equal(true);
    expect(await codeOf(one, token)).to.equal('token_expired');
  });

  it('mints tokens that expire with the tenant\'s absolute lifetime', async () => {
    const one = node();
    await one.core.policies.set(SITE, timeouts(120, 600), 'admin:ada');
    const minted = await one.allowlist.mint({ clientKey: SITE, accountId: 'alice', target: ISSUE, connectIssuedAt: clock.now(), ip: null, userAgent: null });
    if (!minted.ok) throw new Error(minted.code);
    expect(minted.value.entry.expiresAt - minted.value.entry.createdAt).to.equal(600 * SECOND);
  });

  it('writes a busy token\'s last use once per flush, and nothing for tokens not used since', async () => {
    const one = node();
    const busy = await mint(one, 'alice');
    await mint(one, 'bob');
    for (let i = 0; i < 50; i += 1) {
      clock.advance(100);
      expect(await codeOf(one, busy)).to.equal('ok');
    }
    expect(store.touches).to.deep.equal([]);
    expect(valueOf(await one.core.flushLastSeen())).to.equal(1);
    expect(store.touches).to.have.length(1);
    expect(store.touches[0]).to.have.length(1);
    expect(store.touches[0]![0]!.lastSeenAt).to.equal(clock.now());
    expect(valueOf(await one.core.flushLastSeen())).to.equal(0);
    expect(store.touches).to.have.length(1);
  });

  it('answers a revocation and a policy change only once their audit records are written', async () => {
    const one = node();
    await mint(one);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const append = store.appendAudit.bind(store);
    store.appendAudit = async (records) => {
      await gate;
      await append(records);
    };
    const revoking = one.allowlist.revoke({ kind: 'user', clientKey: SITE, accountId: 'alice' }, { actor: 'test', reason: 'user_removed' });
    const changing = one.core.policies.set(SITE, timeouts(120, 600), 'admin:ada');
    const settled = async <T>(promise: Promise<T>) => Promise.race([promise.then(() => 'done'), new Promise((resolve) => setImmediate(() => resolve('pending')))]);
    expect(await settled(revoking)).to.equal('pending');
    expect(await settled(changing)).to.equal('pending');
    release();
    expect(valueOf(await revoking).count).to.equal(1);
    expect((await changing).ok).to.equal(true);
    const kinds = (await store.listAudit({ clientKey: SITE, limit: 10 })).records.map((r) => r.kind);
    expect(kinds).to.include.members(['revoke', 'policy']);
  });

  it('honours a use another node wrote over its own older cached copy, rather than refusing', async () => {
    const first = node();
    const second = node();
    const token = await mint(first);
    expect(await codeOf(first, token)).to.equal('ok');
    // The token moves to the second node and is used there for a while; the first node's cached copy ages.
    for (let i = 0; i < 4; i += 1) {
      clock.advance(2 * MINUTE);
      expect(await codeOf(second, token)).to.equal('ok');
    }
    await second.core.flushLastSeen();
    clock.advance(MINUTE);
    expect(await codeOf(first, token)).to.equal('ok');
  });
});
