import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { BARE_CALL, type Allowlist, type MintedToken } from '../../src/allowlist/allowlist';
import { storeAuditLog, type AuditLog } from '../../src/allowlist/audit';
import { ManualClock } from '../../src/base/clock';
import { createCore } from '../../src/allowlist/assemble';
import type { Removals } from '../../src/allowlist/removals';
import { issueResource, projectResource, type ResourceRef } from '../../src/allowlist/resource';
import { tenantIn, type TenantLifecycle } from '../../src/allowlist/tenants';
import type { AllowlistEntry, RemovalWritten, RevocationNotice, RevokeScope, Tombstone } from '../../src/allowlist/types';
import { MemoryBus } from '../../src/bus/memory-bus';
import { NodeEntryCache } from '../../src/cache/entry-cache';
import { MemoryStore } from '../../src/store/memory-store';
import { hashTokenId } from '../../src/tokens/hash';
import { createPageTokenCodec } from '../../src/tokens/page-token';
import { valueOf } from '../support/results';

const SITE = 'site-a';
const OTHER_SITE = 'site-b';
const ALICE = 'alice-account';
const BOB = 'bob-account';
const ISSUE = issueResource('10001', '10000');
const OTHER_ISSUE = issueResource('10002', '10000');
const SECRET = 'x'.repeat(40);

interface World {
  clock: ManualClock;
  store: MemoryStore;
  allowlist: Allowlist;
  removals: Removals;
  tenants: TenantLifecycle;
  audit: AuditLog;
  cache: NodeEntryCache;
  mint(accountId?: string, target?: ResourceRef, clientKey?: string): Promise<MintedToken>;
}

async function world(store: MemoryStore = new MemoryStore(), options: { idleTimeoutSeconds?: number } = {}): Promise<World> {
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 12));
  const bus = new MemoryBus();
  const cache = new NodeEntryCache({ ttlSeconds: 60, maxEntries: 1000 });
  const audit = storeAuditLog(store, { onError: () => undefined, denialWindowMs: 5_000 });
  const tokens = createPageTokenCodec({ secret: SECRET, appKey: 'panelguard', clock, isTenant: tenantIn(store) });
  const { allowlist, removals, tenants } = createCore({ store, ledger: store, cache, bus, clock, tokens, audit, ttlSeconds: 600, idleTimeoutSeconds: options.idleTimeoutSeconds });
  await tenants.installed(SITE, 'https://a.example.net', { sharedSecretChanged: false });
  await tenants.installed(OTHER_SITE, 'https://b.example.net', { sharedSecretChanged: false });
  return {
    clock,
    store,
    allowlist,
    tenants,
    audit,
    cache,
    removals,
    async mint(accountId = ALICE, target = ISSUE, clientKey = SITE) {
      const minted = await allowlist.mint({
        clientKey,
        accountId,
        target,
        connectIssuedAt: clock.now(),
        ip: '127.0.0.1',
        userAgent: 'test',
      });
      if (!minted.ok) throw new Error(`mint failed: ${minted.code}`);
      clock.advance(1);
      return minted.value;
    },
  };
}

async function codeOf(w: World, token: string | null, resource: string = ISSUE.resource): Promise<string> {
  const result = await w.allowlist.check(token, resource);
  return result.ok ? 'ok' : result.code;
}

function payloadOf(token: string): Record<string, unknown> {
  return jwt.decode(token, { json: true }) as Record<string, unknown>;
}

/** A memory store whose writes can be held back, to replay an interleaving of two nodes' requests. */
class GatedStore extends MemoryStore {
  private readonly gates = new Map<string, Promise<void>>();
  private readonly arrivals = new Map<string, () => void>();
  private readonly arrived = new Map<string, Promise<void>>();

  /** Holds the next calls of `method` until the returned function is called. */
  hold(method: 'putTombstoneAndRevoke' | 'insertEntry'): () => void {
    let release!: () => void;
    this.gates.set(method, new Promise<void>((resolve) => (release = resolve)));
    this.arrived.set(method, new Promise<void>((resolve) => this.arrivals.set(method, resolve)));
    return () => {
      this.gates.delete(method);
      release();
    };
  }

  /** Resolves once a call of `method` is being held. */
  reached(method: string): Promise<void> {
    return this.arrived.get(method) ?? Promise.resolve();
  }

  override async putTombstoneAndRevoke(tombstone: Tombstone, scope: RevokeScope, reason: string, notice?: RevocationNotice): Promise<RemovalWritten> {
    await this.gate('putTombstoneAndRevoke');
    return super.putTombstoneAndRevoke(tombstone, scope, reason, notice);
  }

  override async insertEntry(entry: AllowlistEntry): Promise<void> {
    await this.gate('insertEntry');
    return super.insertEntry(entry);
  }

  private async gate(method: string): Promise<void> {
    this.arrivals.get(method)?.();
    await this.gates.get(method);
  }
}

describe('allowlist', () => {
  describe('mint', () => {
    it('records the entry under the hash of the token id, never the id itself', async () => {
      const w = await world();
      const { token, entry } = await w.mint();
      const jti = payloadOf(token).jti as string;
      expect(entry.idHash).to.equal(hashTokenId(jti));
      expect(JSON.stringify(await w.store.loadEntryState(entry.idHash))).not.to.include(jti);
    });

    it('binds the token to one tenant, user and resource with a 128-bit id', async () => {
      const w = await world();
      const { token } = await w.mint();
      const claims = payloadOf(token);
      expect(claims).to.include({ iss: 'panelguard', aud: SITE, sub: ALICE, res: ISSUE.resource });
      expect(Buffer.from(claims.jti as string, 'base64url')).to.have.length(16);
      expect((claims.exp as number) - (claims.iat as number)).to.equal(600);
    });

    it('signs each tenant with its own key', async () => {
      const w = await world();
      const a = await w.mint(ALICE, ISSUE, SITE);
      const claims = payloadOf(a.token);
      const forged = jwt.sign({ ...claims, aud: OTHER_SITE }, SECRET, { algorithm: 'HS256' });
      expect(await codeOf(w, forged)).to.equal('token_invalid');
    });

    it('refuses an unknown tenant and a disabled one', async () => {
      const w = await world();
      const unknown = await w.allowlist.mint({ clientKey: 'nobody', accountId: ALICE, target: ISSUE, connectIssuedAt: w.clock.now(), ip: null, userAgent: null });
      expect(unknown).to.deep.equal({ ok: false, code: 'tenant_unknown' });
      await w.tenants.disabled(SITE, 'https://a.example.net');
      const disabled = await w.allowlist.mint({ clientKey: SITE, accountId: ALICE, target: ISSUE, connectIssuedAt: w.clock.now(), ip: null, userAgent: null });
      expect(disabled).to.deep.equal({ ok: false, code: 'tenant_inactive' });
    });
  });

  describe('check', () => {
    it('serves a fresh token for its own resource', async () => {
      const w = await world();
      const { token } = await w.mint();
      const result = await w.allowlist.check(token, ISSUE.resource);
      expect(result.ok).to.equal(true);
    });

    it('refuses a token for another resource', async () => {
      const w = await world();
      const { token } = await w.mint();
      expect(await codeOf(w, token, OTHER_ISSUE.resource)).to.equal('resource_mismatch');
    });

    it('names a missing and a malformed token', async () => {
      const w = await world();
      expect(await codeOf(w, null)).to.equal('token_missing');
      expect(await codeOf(w, 'not-a-jwt')).to.equal('token_malformed');
    });

    it('refuses a tampered payload, a re-signed token, alg none and a wrong issuer', async () => {
      const w = await world();
      const { token } = await w.mint();
      const [header, , signature] = token.split('.');
      const claims = payloadOf(token);
      const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: BOB })).toString('base64url')}.${signature}`;
      const resigned = jwt.sign(claims, 'another-secret-that-is-long-enough!!', { algorithm: 'HS256' });
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${token.split('.')[1]}.`;
      expect(await codeOf(w, tampered)).to.equal('token_invalid');
      expect(await codeOf(w, resigned)).to.equal('token_invalid');
      expect(await codeOf(w, none)).to.equal('token_invalid');
    });

    it('refuses a token once it expires', async () => {
      const w = await world();
      const { token } = await w.mint();
      w.clock.advance(600_000);
      expect(await codeOf(w, token)).to.equal('token_expired');
    });

    it('counts a use, so that a page in use does not go idle', async () => {
      const w = await world(undefined, { idleTimeoutSeconds: 60 });
      const { token } = await w.mint();
      w.clock.advance(50_000);
      expect(await codeOf(w, token)).to.equal('ok');
      w.clock.advance(20_000);
      expect(await codeOf(w, token)).to.equal('ok');
    });

    it('counts no use for a watching check (a long poll): the session still goes idle, and the check then says so', async () => {
      const w = await world(undefined, { idleTimeoutSeconds: 60 });
      const { token } = await w.mint();
      const watching = { ...BARE_CALL, watching: true };
      w.clock.advance(50_000);
      expect((await w.allowlist.check(token, ISSUE.resource, watching)).ok).to.equal(true);
      w.clock.advance(20_000);
      const late = await w.allowlist.check(token, ISSUE.resource, watching);
      expect(late.ok ? 'ok' : late.code).to.equal('token_idle');
    });

    it('refuses a validly signed token that has no allowlist entry', async () => {
      const w = await world();
      const { token, entry } = await w.mint();
      await w.store.revokeEntries({ kind: 'token', idHash: entry.idHash }, w.clock.now(), 'test');
      w.cache.clear();
      expect(await codeOf(w, token)).to.equal('token_revoked');
    });

    it('answers a cache hit without reading the store', async () => {
      const w = await world();
      const { token } = await w.mint();
      expect(await codeOf(w, token)).to.equal('ok');
      await w.store.close();
      expect(await codeOf(w, token)).to.equal('ok');
    });

    it('fails closed with store_unavailable when the store cannot be read', async () => {
      const w = await world();
      const { token } = await w.mint();
      await w.store.close();
      expect(await codeOf(w, token)).to.equal('store_unavailable');
    });

    it('records every denial with its reason in the audit log', async () => {
      const w = await world();
      const { token } = await w.mint();
      await codeOf(w, token, OTHER_ISSUE.resource);
      await w.audit.drain();
      const [latest] = (await w.store.listAudit({ clientKey: SITE, limit: 10 })).records;
      expect(latest).to.include({ kind: 'deny', reason: 'resource_mismatch', accountId: ALICE, resource: OTHER_ISSUE.resource });
    });
    it('writes no audit row for a token that does not verify, so garbage cannot flood the log', async () => {
      const w = await world();
      await codeOf(w, null);
      await codeOf(w, 'not-a-jwt');
      await codeOf(w, jwt.sign({ aud: SITE, sub: ALICE }, 'some-other-secret-some-other-secret', { algorithm: 'HS256' }));
      await w.audit.drain();
      expect(((await w.store.listAudit({ clientKey: SITE, limit: 10 })).records).filter((r) => r.kind === 'deny')).to.deep.equal([]);
    });
  });

  describe('revocation', () => {
    it('refuses a removed user on the very next call, even from a warm cache, while others keep access', async () => {
      const w = await world();
      const alice = await w.mint(ALICE);
      const bob = await w.mint(BOB);
      expect(await codeOf(w, alice.token)).to.equal('ok');
      const outcome = await w.removals.removeUser(SITE, ALICE, w.clock.now(), { actor: 'test', reason: 'user_removed' });
      expect(valueOf(outcome)).to.deep.equal({ applied: true, revoked: 1, confirmation: { confirmed: 1, expected: 1 } });
      expect(await codeOf(w, alice.token)).to.equal('token_revoked');
      expect(await codeOf(w, bob.token)).to.equal('ok');
    });

    it('mints nothing for a removed user', async () => {
      const w = await world();
      await w.removals.removeUser(SITE, ALICE, w.clock.now(), { actor: 'test', reason: 'user_removed' });
      const result = await w.allowlist.mint({ clientKey: SITE, accountId: ALICE, target: ISSUE, connectIssuedAt: w.clock.now() + 1000, ip: null, userAgent: null });
      expect(result).to.deep.equal({ ok: false, code: 'forbidden' });
    });

    it('lets a reactivated user mint again while old tokens and old Connect JWTs stay dead', async () => {
      const w = await world();
      const old = await w.mint(ALICE);
      const pageRenderedAt = w.clock.now();
      w.clock.advance(1000);
      await w.removals.removeUser(SITE, ALICE, w.clock.now(), { actor: 'test', reason: 'user_removed' });
      w.clock.advance(1000);
      expect(valueOf(await w.removals.restoreUser(SITE, ALICE, w.clock.now()))).to.deep.equal({ applied: true, revoked: 0, confirmation: null });
      const stale = await w.allowlist.mint({ clientKey: SITE, accountId: ALICE, target: ISSUE, connectIssuedAt: pageRenderedAt, ip: null, userAgent: null });
      expect(stale).to.deep.equal({ ok: false, code: 'forbidden' });
      const fresh = await w.mint(ALICE);
      expect(await codeOf(w, fresh.token)).to.equal('ok');
      expect(await codeOf(w, old.token)).to.equal('token_revoked');
    });

    it('ignores a late reactivation older than the removal', async () => {
      const w = await world();
      const removedAt = w.clock.now();
      await w.removals.removeUser(SITE, ALICE, removedAt, { actor: 'test', reason: 'user_removed' });
      expect(valueOf(await w.removals.restoreUser(SITE, ALICE, removedAt - 5000))).to.deep.equal({ applied: false, revoked: 0, confirmation: null });
      const result = await w.allowlist.mint({ clientKey: SITE, accountId: ALICE, target: ISSUE, connectIssuedAt: w.clock.now() + 10_000, ip: null, userAgent: null });
      expect(result.ok).to.equal(false);
    });

    it('ignores a late removal older than the reactivation, and a repeated one', async () => {
      const w = await world();
      const t0 = w.clock.now();
      await w.removals.removeUser(SITE, ALICE, t0, { actor: 'test', reason: 'user_removed' });
      await w.removals.restoreUser(SITE, ALICE, t0 + 2000);
      w.clock.advance(5000);
      const fresh = await w.mint(ALICE);
      expect(valueOf(await w.removals.removeUser(SITE, ALICE, t0 + 1000, { actor: 'test', reason: 'user_removed' }))).to.deep.equal({ applied: false, revoked: 0, confirmation: null });
      expect(valueOf(await w.removals.removeUser(SITE, ALICE, t0, { actor: 'test', reason: 'user_removed' }))).to.deep.equal({ applied: false, revoked: 0, confirmation: null });
      expect(await codeOf(w, fresh.token)).to.equal('ok');
    });

    it('finishes a removal cut short when the host retries the same event: revokes and announces again', async () => {
      const w = await world();
      const { token } = await w.mint(ALICE);
      expect(await codeOf(w, token)).to.equal('ok');
      // A node stopped right after writing the tombstone: nothing was revoked or announced.
      const eventAt = w.clock.now();
      await w.store.putTombstone({ clientKey: SITE, kind: 'user', subject: ALICE, removedAt: eventAt, removedEventAt: eventAt, liftedAt: null, lastEventAt: eventAt });
      const retried = await w.removals.removeUser(SITE, ALICE, eventAt, { actor: 'test', reason: 'user_removed' });
      expect(valueOf(retried)).to.deep.equal({ applied: false, revoked: 1, confirmation: { confirmed: 1, expected: 1 } });
      expect(await codeOf(w, token)).to.equal('token_revoked');
    });

    it('kills an entry minted concurrently with a removal even if it escaped the revoking update', async () => {
      const w = await world();
      const { token, entry } = await w.mint(ALICE);
      // The removal is recorded after the entry's mint began but its UPDATE did not see the row.
      await w.store.putTombstone({ clientKey: SITE, kind: 'user', subject: ALICE, removedAt: entry.createdAt, removedEventAt: w.clock.now(), liftedAt: null, lastEventAt: w.clock.now() });
      w.cache.clear();
      expect(await codeOf(w, token)).to.equal('token_revoked');
    });

    it('hands out no token from a page whose mint raced a removal that revoked before the entry was written', async () => {
      // The removal takes its time first, then its tombstone lands after the mint read none, and its
      // revoking UPDATE runs before the mint's entry is written: neither the UPDATE nor the removal time catch it.
      const store = new GatedStore();
      const w = await world(store);
      const tombstoneWritten = store.hold('putTombstoneAndRevoke');
      const removal = w.removals.removeUser(SITE, ALICE, w.clock.now(), { actor: 'test', reason: 'user_removed' });
      w.clock.advance(5);
      const entryWritten = store.hold('insertEntry');
      const minting = w.allowlist.mint({ clientKey: SITE, accountId: ALICE, target: ISSUE, connectIssuedAt: w.clock.now(), ip: null, userAgent: null });
      await store.reached('insertEntry');
      tombstoneWritten();
      expect(valueOf(await removal).applied).to.equal(true);
      entryWritten();
      const minted = await minting;
      expect(minted).to.deep.equal({ ok: false, code: 'forbidden' });
      const live = await w.store.listEntries({ clientKey: SITE, accountId: ALICE, now: w.clock.now(), limit: 10 });
      expect(live.entries).to.have.length(0);
    });

    it('revokes the tokens of a deleted issue only', async () => {
      const w = await world();
      const onIssue = await w.mint(ALICE, ISSUE);
      const onOther = await w.mint(ALICE, OTHER_ISSUE);
      await w.removals.removeResource(SITE, ISSUE.resource, w.clock.now(), { actor: 'test', reason: 'issue_deleted' });
      expect(await codeOf(w, onIssue.token)).to.equal('token_revoked');
      expect(await codeOf(w, onOther.token, OTHER_ISSUE.resource)).to.equal('ok');
      const again = await w.allowlist.mint({ clientKey: SITE, accountId: ALICE, target: ISSUE, connectIssuedAt: w.clock.now(), ip: null, userAgent: null });
      expect(again).to.deep.equal({ ok: false, code: 'forbidden' });
    });

    it('revokes every issue token of a deleted project', async () => {
      const w = await world();
      const a = await w.mint(ALICE, ISSUE);
      const b = await w.mint(BOB, OTHER_ISSUE);
      const elsewhere = await w.mint(BOB, issueResource('20001', '20000'));
      const outcome = await w.removals.removeResource(SITE, projectResource('10000').resource, w.clock.now(), { actor: 'test', reason: 'project_deleted' });
      expect(valueOf(outcome)).to.deep.equal({ applied: true, revoked: 2, confirmation: { confirmed: 1, expected: 1 } });
      expect(await codeOf(w, a.token)).to.equal('token_revoked');
      expect(await codeOf(w, b.token, OTHER_ISSUE.resource)).to.equal('token_revoked');
      expect(await codeOf(w, elsewhere.token, 'jira:issue:20001')).to.equal('ok');
    });

    it('ends every token of an uninstalled tenant and no other tenant', async () => {
      const w = await world();
      const mine = await w.mint(ALICE, ISSUE, SITE);
      const theirs = await w.mint(ALICE, ISSUE, OTHER_SITE);
      expect(valueOf(await w.tenants.uninstalled(SITE, 'https://a.example.net')).count).to.equal(1);
      expect(await codeOf(w, mine.token)).to.equal('token_revoked');
      expect(await codeOf(w, theirs.token)).to.equal('ok');
    });

    it('keeps old tokens dead when the tenant is enabled again', async () => {
      const w = await world();
      const { token } = await w.mint();
      await w.tenants.disabled(SITE, 'https://a.example.net');
      await w.tenants.enabled(SITE, 'https://a.example.net');
      expect(await codeOf(w, token)).to.equal('token_revoked');
      const fresh = await w.mint();
      expect(await codeOf(w, fresh.token)).to.equal('ok');
    });

    it('records each tenant lifecycle change in the audit log, under the event that made it', async () => {
      const w = await world();
      await w.tenants.disabled(SITE, 'https://a.example.net');
      await w.tenants.enabled(SITE, 'https://a.example.net');
      await w.audit.drain();
      const lifecycle = ((await w.store.listAudit({ clientKey: SITE, limit: 10 })).records).filter((r) => r.kind === 'lifecycle');
      expect(lifecycle.map((r) => [r.actor, r.reason])).to.deep.equal([
        ['lifecycle:enabled', 'enabled'],
        ['lifecycle:disabled', 'disabled'],
        ['lifecycle:installed', 'installed'],
      ]);
    });

    it('keeps checking correctly when the cache is full, reading the store instead', async () => {
      const w = await world();
      const { allowlist: tiny } = createCore({
        store: w.store,
        ledger: w.store,
        cache: new NodeEntryCache({ ttlSeconds: 60, maxEntries: 1 }),
        bus: new MemoryBus(),
        clock: w.clock,
        tokens: createPageTokenCodec({ secret: SECRET, appKey: 'panelguard', clock: w.clock, isTenant: tenantIn(w.store) }),
        audit: w.audit,
        ttlSeconds: 600,
      });
      const first = await w.mint(ALICE);
      const second = await w.mint(BOB);
      expect((await tiny.check(first.token, ISSUE.resource)).ok).to.equal(true);
      expect((await tiny.check(second.token, ISSUE.resource)).ok).to.equal(true);
      await tiny.revoke({ kind: 'user', clientKey: SITE, accountId: BOB }, { actor: 'test', reason: 'user_removed' });
      expect(await tiny.check(second.token, ISSUE.resource)).to.deep.equal({ ok: false, code: 'token_revoked' });
    });

    it('records who revoked, why and how many', async () => {
      const w = await world();
      await w.mint(ALICE);
      await w.mint(ALICE, OTHER_ISSUE);
      await w.removals.removeUser(SITE, ALICE, w.clock.now(), { actor: 'webhook:user_deleted', reason: 'user_removed' });
      await w.audit.drain();
      const records = (await w.store.listAudit({ clientKey: SITE, limit: 10 })).records;
      const revoke = records.find((r) => r.kind === 'revoke');
      expect(revoke).to.include({ actor: 'webhook:user_deleted', reason: 'user_removed', accountId: ALICE, count: 2 });
      expect(revoke?.confirmation).to.deep.equal({ confirmed: 1, expected: 1 });
    });
  });
});

