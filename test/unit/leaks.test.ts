/** Leak reports: how a report is read, and what a run of them ends and counts, on the core over a memory store. */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Allowlist, MintedToken } from '../../src/allowlist/allowlist';
import { storeAuditLog, type AuditLog } from '../../src/allowlist/audit';
import { ManualClock } from '../../src/base/clock';
import { createCore } from '../../src/allowlist/assemble';
import { issueResource, type ResourceRef } from '../../src/allowlist/resource';
import type { AllowlistEntry } from '../../src/allowlist/types';
import { MemoryBus } from '../../src/bus/memory-bus';
import { NodeEntryCache } from '../../src/cache/entry-cache';
import { MAX_REPORT_CHARS, readReportItem, readReportLine, type LeakReport } from '../../src/signals/leak-reports';
import { valueOf } from '../support/results';
import { LEAK_BATCH, LEAK_REASON, startLeakRun, type LeakCounts, type LeakRun } from '../../src/signals/leaks';
import { MemoryStore } from '../../src/store/memory-store';
import { hashTokenId } from '../../src/tokens/hash';
import { createPageTokenCodec } from '../../src/tokens/page-token';

const SITE = 'site-a';
const OTHER_SITE = 'site-b';
const ALICE = 'alice-account';
const BOB = 'bob-account';
const ISSUE = issueResource('10001', '10000');
const OTHER_ISSUE = issueResource('10002', '10000');
const MINUTE = 60_000;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const jtiOf = (token: string) => (jwt.decode(token, { json: true }) as { jti: string }).jti;
/** A JWT with these claims, signed with a key PanelGuard never had. */
const forged = (claims: Record<string, unknown>) => jwt.sign(claims, 'a key of the forger'.repeat(3), { algorithm: 'HS256' });

describe('leak reports', () => {
  describe('reading a line', () => {
    it('reads a raw page token as the hash of its jti', () => {
      const token = forged({ jti: 'the-token-id', sub: ALICE, aud: SITE });
      expect(readReportLine(token)).to.deep.equal({ ok: true, value: hashTokenId('the-token-id') });
    });

    it("reads only a token's jti: its sid, naming a session, changes nothing", () => {
      const token = forged({ jti: 'the-token-id', sid: sha256('someone-elses-session'), seq: 1 });
      expect(readReportLine(token)).to.deep.equal({ ok: true, value: hashTokenId('the-token-id') });
    });

    it('reads a hex SHA-256 in either case as the lowercase hash', () => {
      const hash = sha256('jti');
      expect(readReportLine(hash.toUpperCase())).to.deep.equal({ ok: true, value: hash });
    });

    it('reads JSON lines naming a token or a hash, ignoring their other members', () => {
      const token = forged({ jti: 'from-json' });
      expect(readReportLine(JSON.stringify({ token, seenAt: '2026-01-31', url: 'https://acme.atlassian.net' }))).to.deep.equal({ ok: true, value: hashTokenId('from-json') });
      expect(readReportLine(JSON.stringify({ hash: sha256('x') }))).to.deep.equal({ ok: true, value: sha256('x') });
    });

    it('ignores surrounding blanks and a carriage return', () => {
      expect(readReportLine(`  ${sha256('x')}\r`)).to.deep.equal({ ok: true, value: sha256('x') });
    });

    it('skips blank lines and # comments: they are no report', () => {
      for (const line of ['', '   ', '\r', '# leaked 2026-01-31, case 4411']) expect(readReportLine(line), JSON.stringify(line)).to.equal(null);
    });

    it('finds anything that is neither a page token nor a hash malformed', () => {
      const lines = [
        'password123',
        sha256('x').slice(1),
        `${sha256('x')}0`,
        `Bearer ${forged({ jti: 'x' })}`,
        'a.b.c',
        forged({ sub: ALICE }),
        forged({ jti: '' }),
        forged({ jti: 42 }),
        forged({ jti: 'x'.repeat(300) }),
        `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('not json').toString('base64url')}.sig`,
        '{"token": "not a jwt"}',
        '{"hash": "not a hash"}',
        JSON.stringify({ token: forged({ jti: 'a' }), hash: sha256('a') }),
        '{"neither": true}',
        '{"token": ',
        '["a", "b"]',
        `${sha256('x')} ${sha256('y')}`,
        sha256('x').padEnd(MAX_REPORT_CHARS + 1, ' '),
      ];
      for (const line of lines) expect(readReportLine(line), line.slice(0, 80)).to.deep.equal({ ok: false, code: 'malformed' });
    });
  });

  describe("reading an item of the API's reports", () => {
    it('reads a string as a line and an object as a JSON line', () => {
      const token = forged({ jti: 'item' });
      expect(readReportItem(token)).to.deep.equal({ ok: true, value: hashTokenId('item') });
      expect(readReportItem({ token })).to.deep.equal({ ok: true, value: hashTokenId('item') });
      expect(readReportItem({ hash: sha256('x').toUpperCase() })).to.deep.equal({ ok: true, value: sha256('x') });
    });

    it('finds a blank string, a comment, a number, null and an array malformed', () => {
      for (const item of ['', '# note', 42, null, [sha256('x')]]) expect(readReportItem(item), JSON.stringify(item)).to.deep.equal({ ok: false, code: 'malformed' });
    });
  });
});

interface World {
  clock: ManualClock;
  store: MemoryStore;
  allowlist: Allowlist;
  audit: AuditLog;
  mint(accountId?: string, target?: ResourceRef, clientKey?: string): Promise<MintedToken>;
  run(options?: { source?: string; site?: string | null }): LeakRun;
  /** Reports these lines in one run, in batches of `batch`, and answers its counts. */
  report(lines: string[], options?: { site?: string | null; batch?: number }): Promise<LeakCounts>;
  isLive(entry: AllowlistEntry): Promise<boolean>;
}

async function world(store: MemoryStore = new MemoryStore()): Promise<World> {
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 12));
  const cache = new NodeEntryCache({ ttlSeconds: 60, maxEntries: 1000 });
  const audit = storeAuditLog(store, { onError: () => undefined, denialWindowMs: 5_000 });
  const tokens = createPageTokenCodec({ secret: 'x'.repeat(40), appKey: 'panelguard', clock, isTenant: async (clientKey) => (await store.getTenant(clientKey)) !== null });
  const core = createCore({ store, ledger: store, cache, bus: new MemoryBus(), clock, tokens, audit, ttlSeconds: 600 });
  await core.tenants.installed(SITE, 'https://a.example.net', { sharedSecretChanged: false });
  await core.tenants.installed(OTHER_SITE, 'https://b.example.net', { sharedSecretChanged: false });
  const w: World = {
    clock,
    store,
    allowlist: core.allowlist,
    audit,
    async mint(accountId = ALICE, target = ISSUE, clientKey = SITE) {
      const minted = await core.allowlist.mint({ clientKey, accountId, target, connectIssuedAt: clock.now(), ip: null, userAgent: null });
      if (!minted.ok) throw new Error(`mint failed: ${minted.code}`);
      clock.advance(1);
      return minted.value;
    },
    run: ({ source = 'breach-feed', site = null } = {}) => startLeakRun({ lookup: store, allowlist: core.allowlist, clock, onStoreFailure: core.onStoreFailure }, { source, site }),
    async report(lines, { site = null, batch = LEAK_BATCH } = {}) {
      const run = w.run({ site });
      const reports = lines.map(readReportLine).filter((report): report is LeakReport => report !== null);
      for (let start = 0; start < reports.length; start += batch) valueOf(await run.apply(reports.slice(start, start + batch)));
      return run.counts();
    },
    async isLive(entry) {
      const state = await store.loadEntryState(entry.idHash);
      return state !== null && state.entry.revokedAt === null;
    },
  };
  return w;
}

const counted = (fields: Partial<LeakCounts>): LeakCounts => {
  const counts = { matched: 0, alreadyRevoked: 0, expired: 0, unknown: 0, malformed: 0, users: 0, ...fields };
  return { reports: counts.matched + counts.alreadyRevoked + counts.expired + counts.unknown + counts.malformed, ...counts };
};

describe('a run of leak reports', () => {
  it("ends every session of the leaked token's user on its site, and no one else's", async () => {
    const w = await world();
    const leaked = await w.mint(ALICE, ISSUE);
    const alicesOthers = [await w.mint(ALICE, OTHER_ISSUE), await w.mint(ALICE, ISSUE)];
    const untouched = [await w.mint(BOB, ISSUE), await w.mint(ALICE, ISSUE, OTHER_SITE)];
    expect(await w.report([leaked.token])).to.deep.equal(counted({ matched: 1, users: 1 }));
    for (const { entry } of [leaked, ...alicesOthers]) expect(await w.isLive(entry)).to.equal(false);
    for (const { entry } of untouched) expect(await w.isLive(entry)).to.equal(true);
    for (const { token } of [leaked, ...alicesOthers]) expect((await w.allowlist.check(token, ISSUE.resource)).ok).to.equal(false);
  });

  it('ends them as a compromised credential, with the source as the actor, in the audit', async () => {
    const w = await world();
    const leaked = await w.mint(ALICE, ISSUE);
    await w.mint(ALICE, OTHER_ISSUE);
    await w.report([leaked.token]);
    await w.audit.drain();
    const { records } = await w.store.listAudit({ clientKey: SITE, kind: 'revoke', limit: 10 });
    expect(records.map(({ accountId, actor, reason, count }) => ({ accountId, actor, reason, count }))).to.deep.equal([
      { accountId: ALICE, actor: 'intel:breach-feed', reason: LEAK_REASON, count: 2 },
    ]);
    expect((await w.store.loadEntryState(leaked.entry.idHash))?.entry.revokeReason).to.equal(LEAK_REASON);
  });

  it('matches a report by the hash of the token id as by the token', async () => {
    const w = await world();
    const leaked = await w.mint(ALICE);
    expect(await w.report([hashTokenId(jtiOf(leaked.token))])).to.deep.equal(counted({ matched: 1, users: 1 }));
    expect(await w.isLive(leaked.entry)).to.equal(false);
  });

  it('counts each report of a mixed run under what it found', async () => {
    const w = await world();
    const expired = await w.mint('carol-account');
    w.clock.advance(10 * MINUTE);
    await w.mint('carol-account');
    const live = await w.mint(ALICE);
    const revoked = await w.mint(BOB);
    await w.allowlist.revoke({ kind: 'token', idHash: revoked.entry.idHash }, { actor: 'test', reason: 'user_ended_session' });
    const lines = [live.token, revoked.token, expired.token, sha256('nobody'), forged({ jti: 'never-minted' }), 'not a report', '', '# a comment'];
    expect(await w.report(lines)).to.deep.equal(counted({ matched: 1, alreadyRevoked: 1, expired: 1, unknown: 2, malformed: 1, users: 1 }));
  });

  it('ends nothing for an expired session: the leak is old news, and its user keeps the sessions opened since', async () => {
    const w = await world();
    const old = await w.mint(ALICE);
    w.clock.advance(10 * MINUTE);
    const current = await w.mint(ALICE);
    expect(await w.report([old.token])).to.deep.equal(counted({ expired: 1 }));
    expect(await w.isLive(current.entry)).to.equal(true);
  });

  it('is idempotent: the same reports again find their sessions revoked and end nothing new', async () => {
    const w = await world();
    const leaked = [await w.mint(ALICE), await w.mint(BOB)];
    const lines = [...leaked.map((m) => m.token), sha256('nobody')];
    expect(await w.report(lines)).to.deep.equal(counted({ matched: 2, unknown: 1, users: 2 }));
    const since = await w.mint(ALICE);
    expect(await w.report(lines)).to.deep.equal(counted({ alreadyRevoked: 2, unknown: 1 }));
    expect(await w.isLive(since.entry)).to.equal(true);
  });

  it("counts a session its own run ended as matched, whichever batch names it, and its user once", async () => {
    const w = await world();
    const [first, second] = [await w.mint(ALICE, ISSUE), await w.mint(ALICE, OTHER_ISSUE)];
    const lines = [first.token, second.token, first.token];
    expect(await w.report(lines, { batch: 1 })).to.deep.equal(counted({ matched: 3, users: 1 }));
    const inOneBatch = await world();
    const [a, b] = [await inOneBatch.mint(ALICE, ISSUE), await inOneBatch.mint(ALICE, OTHER_ISSUE)];
    expect(await inOneBatch.report([a.token, b.token, a.token])).to.deep.equal(counted({ matched: 3, users: 1 }));
  });

  it('counts a session ended before the run as already revoked, even when the run ends its user again', async () => {
    const w = await world();
    const ended = await w.mint(ALICE);
    await w.report([ended.token]);
    const reopened = await w.mint(ALICE);
    expect(await w.report([reopened.token, ended.token], { batch: 1 })).to.deep.equal(counted({ matched: 1, alreadyRevoked: 1, users: 1 }));
  });

  it("matches a rotated session by its current token, and by the one it replaced", async () => {
    for (const pick of ['current', 'previous'] as const) {
      const w = await world();
      const minted = await w.mint(ALICE);
      w.clock.advance(MINUTE + 1);
      const offered = await w.allowlist.check(minted.token, ISSUE.resource);
      const next = offered.ok ? offered.value.next : null;
      if (next === null) throw new Error('no successor offered');
      expect((await w.allowlist.check(next, ISSUE.resource)).ok).to.equal(true);
      const other = await w.mint(ALICE, OTHER_ISSUE);
      expect(await w.report([pick === 'current' ? next : minted.token]), pick).to.deep.equal(counted({ matched: 1, users: 1 }));
      expect(await w.isLive(other.entry), pick).to.equal(false);
    }
  });

  it("ends nothing for a forged token naming someone's session with a jti of its own", async () => {
    const w = await world();
    const victim = await w.mint(ALICE);
    const claims = jwt.decode(victim.token, { json: true }) as Record<string, unknown>;
    const token = forged({ ...claims, jti: 'made-up-by-the-forger', sid: victim.entry.idHash, seq: 1 });
    expect(await w.report([token])).to.deep.equal(counted({ unknown: 1 }));
    expect(await w.isLive(victim.entry)).to.equal(true);
  });

  it("ends nothing on another site when the run is for one: that site's sessions count as unknown", async () => {
    const w = await world();
    const elsewhere = await w.mint(ALICE, ISSUE, OTHER_SITE);
    const here = await w.mint(BOB, ISSUE, SITE);
    expect(await w.report([elsewhere.token, here.token], { site: SITE })).to.deep.equal(counted({ matched: 1, unknown: 1, users: 1 }));
    expect(await w.isLive(elsewhere.entry)).to.equal(true);
    expect(await w.isLive(here.entry)).to.equal(false);
  });

  it('ends the same account on each site its live sessions are named on, when the run spans sites', async () => {
    const w = await world();
    const [a, b] = [await w.mint(ALICE, ISSUE, SITE), await w.mint(ALICE, ISSUE, OTHER_SITE)];
    expect(await w.report([a.token, b.token])).to.deep.equal(counted({ matched: 2, users: 2 }));
  });

  it('answers store_unavailable when the store fails, keeping the counts of the batches before', async () => {
    const store = new MemoryStore();
    const w = await world(store);
    const leaked = await w.mint(ALICE);
    const run = w.run();
    valueOf(await run.apply([readReportItem(leaked.token)]));
    await store.close();
    expect(await run.apply([readReportItem(sha256('x'))])).to.deep.equal({ ok: false, code: 'store_unavailable' });
    expect(run.counts()).to.deep.equal(counted({ matched: 1, users: 1 }));
  });

  it('refuses a batch larger than LEAK_BATCH and a source that is not a label', async () => {
    const w = await world();
    const tooMany = Array.from({ length: LEAK_BATCH + 1 }, () => readReportItem(sha256('x')));
    expect(await w.run().apply(tooMany).then(() => null, (error: unknown) => error)).to.be.instanceOf(RangeError);
    for (const source of ['', 'has space', 'x'.repeat(65), '-leading-dash', 'new\nline']) expect(() => w.run({ source }), source).to.throw(RangeError);
  });
});
