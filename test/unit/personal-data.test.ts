/** Personal data reporting over the real core and a memory store, with a fake clock and a fake reporting API at the port. */
import { expect } from 'chai';
import type { Allowlist } from '../../src/allowlist/allowlist';
import { storeAuditLog, type AuditLog } from '../../src/allowlist/audit';
import { ManualClock } from '../../src/base/clock';
import { createCore } from '../../src/allowlist/assemble';
import { issueResource } from '../../src/allowlist/resource';
import { tenantIn, type TenantLifecycle } from '../../src/allowlist/tenants';
import { MemoryBus } from '../../src/bus/memory-bus';
import { NodeEntryCache } from '../../src/cache/entry-cache';
import {
  createPersonalDataReporter,
  REPORT_BATCH,
  type HeldAccount,
  type PersonalDataReporter,
  type PersonalDataReports,
  type ReportResult,
} from '../../src/signals/personal-data';
import { ANSWER_MARGIN_MS, tickMs } from '../../src/signals/reconcile';
import { MemoryStore } from '../../src/store/memory-store';
import { createPageTokenCodec } from '../../src/tokens/page-token';
import { pageSessions } from '../support/page-sessions';

const SITE = 'site-a';
const OTHER_SITE = 'site-b';
const ALICE = 'alice';
const BOB = 'bob';
const ISSUE = issueResource('10001', '10000');
const DAY = 24 * 60 * 60 * 1000;
const PERIOD = 7 * DAY;

/** Atlassian's reporting API at the port: the accounts it calls closed or updated, and every report it received. */
class FakeReports implements PersonalDataReports {
  readonly closed = new Set<string>();
  readonly updated = new Set<string>();
  readonly received: Array<{ clientKey: string; accounts: HeldAccount[] }> = [];
  readonly failures: ReportResult[] = [];
  answeredAt: number | null = null;

  async report(clientKey: string, accounts: readonly HeldAccount[]): Promise<ReportResult> {
    this.received.push({ clientKey, accounts: [...accounts] });
    const failure = this.failures.shift();
    if (failure !== undefined) return failure;
    const ids = accounts.map((account) => account.accountId);
    return {
      ok: true,
      value: { closed: ids.filter((id) => this.closed.has(id)), updated: ids.filter((id) => this.updated.has(id)), answeredAt: this.answeredAt },
    };
  }

  reported(): string[] {
    return this.received.flatMap((report) => report.accounts.map((account) => account.accountId));
  }
}

interface World {
  clock: ManualClock;
  store: MemoryStore;
  allowlist: Allowlist;
  tenants: TenantLifecycle;
  audit: AuditLog;
  reports: FakeReports;
  seen: string[];
  reporter: PersonalDataReporter;
  node(): PersonalDataReporter;
  mint(accountId: string, clientKey?: string): Promise<string>;
  codeOf(token: string): Promise<string>;
}

async function world(): Promise<World> {
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 12));
  const store = new MemoryStore();
  const audit = storeAuditLog(store, { onError: () => undefined, denialWindowMs: 5_000 });
  const tokens = createPageTokenCodec({ secret: 'x'.repeat(40), appKey: 'panelguard', clock, isTenant: tenantIn(store) });
  const cache = new NodeEntryCache({ ttlSeconds: 60, maxEntries: 1000 });
  const { allowlist, removals, tenants, onStoreFailure } = createCore({ store, ledger: store, cache, bus: new MemoryBus(), clock, tokens, audit, ttlSeconds: 3600 });
  await tenants.installed(SITE, 'https://a.example.net', { sharedSecretChanged: false });
  const reports = new FakeReports();
  const seen: string[] = [];
  const observer = {
    ran: () => undefined,
    checked: () => undefined,
    ended: (status: string, count: number) => seen.push(`ended:${status}:${count}`),
    hostError: (api: string, reason: string) => seen.push(`host_error:${api}:${reason}`),
    reported: (count: number) => seen.push(`reported:${count}`),
    updated: (count: number) => seen.push(`updated:${count}`),
  };
  const node = () => createPersonalDataReporter({ store, leases: store, reports, removals, clock, intervalMs: PERIOD, observer, onStoreFailure });
  return {
    clock,
    store,
    allowlist,
    tenants,
    audit,
    reports,
    seen,
    reporter: node(),
    node,
    ...pageSessions(allowlist, clock, ISSUE, SITE),
  };
}

describe('personal data reporting', () => {
  it('reports each account the site holds sessions or notes for, with the newest time it wrote any', async () => {
    const w = await world();
    const mintedAt = w.clock.now();
    await w.mint(ALICE);
    await w.store.addNote({ id: 'n1', clientKey: SITE, issueId: '10001', accountId: BOB, text: 'hi', createdAt: mintedAt + 5 });
    await w.reporter.tick();
    expect(w.reports.received).to.deep.equal([
      { clientKey: SITE, accounts: [{ accountId: ALICE, updatedAt: mintedAt }, { accountId: BOB, updatedAt: mintedAt + 5 }] },
    ]);
    expect(w.seen).to.deep.equal(['reported:2', 'updated:0']);
  });

  it(`sends at most ${REPORT_BATCH} accounts per request`, async () => {
    const w = await world();
    for (let i = 0; i < REPORT_BATCH * 2 + 5; i += 1) await w.mint(`user-${String(i).padStart(3, '0')}`);
    await w.reporter.tick();
    expect(w.reports.received.map((report) => report.accounts.length)).to.deep.equal([REPORT_BATCH, REPORT_BATCH, 5]);
    expect(new Set(w.reports.reported()).size).to.equal(REPORT_BATCH * 2 + 5);
  });

  it('reports an account once per period, however often and on however many nodes it ticks', async () => {
    const w = await world();
    await w.mint(ALICE);
    const nodes = [w.reporter, w.node(), w.node()];
    await Promise.all(nodes.map((node) => node.tick()));
    for (let i = 0; i < 3; i += 1) {
      w.clock.advance(tickMs(PERIOD));
      for (const node of nodes) await node.tick();
    }
    expect(w.reports.reported()).to.deep.equal([ALICE]);
    w.clock.advance(PERIOD - 3 * tickMs(PERIOD));
    await Promise.all(nodes.map((node) => node.tick()));
    expect(w.reports.reported()).to.deep.equal([ALICE, ALICE]);
  });

  it('reports an account that two sites hold data for once per period, through one of them', async () => {
    const w = await world();
    await w.tenants.installed(OTHER_SITE, 'https://b.example.net', { sharedSecretChanged: false });
    await w.mint(ALICE);
    await w.mint(ALICE, OTHER_SITE);
    await w.mint(BOB, OTHER_SITE);
    await w.reporter.tick();
    expect(w.reports.received.map((report) => [report.clientKey, report.accounts.map((account) => account.accountId)])).to.deep.equal([
      [SITE, [ALICE]],
      [OTHER_SITE, [BOB]],
    ]);
  });

  it('ends the sessions of a closed account on every site that knows the user, dated a second before the answer', async () => {
    const w = await world();
    await w.tenants.installed(OTHER_SITE, 'https://b.example.net', { sharedSecretChanged: false });
    const here = await w.mint(ALICE);
    const there = await w.mint(ALICE, OTHER_SITE);
    const bobs = await w.mint(BOB);
    w.reports.closed.add(ALICE);
    w.reports.answeredAt = w.clock.now();
    await w.reporter.tick();
    expect(await w.codeOf(here)).to.equal('token_revoked');
    expect(await w.codeOf(there)).to.equal('token_revoked');
    expect(await w.codeOf(bobs)).to.equal('ok');
    expect((await w.store.getTombstone(OTHER_SITE, 'user', ALICE))?.lastEventAt).to.equal(w.reports.answeredAt - ANSWER_MARGIN_MS);
    await w.audit.drain();
    const revocations = (await w.store.listAudit({ clientKey: OTHER_SITE, kind: 'revoke', limit: 10 })).records;
    expect(revocations.map(({ accountId, actor, reason }) => ({ accountId, actor, reason }))).to.deep.equal([
      { accountId: ALICE, actor: 'reconcile', reason: 'account_closed' },
    ]);
    expect(w.seen).to.include('ended:closed:1');
  });

  it('counts accounts Atlassian says were updated, and keeps their sessions', async () => {
    const w = await world();
    const token = await w.mint(ALICE);
    w.reports.updated.add(ALICE);
    await w.reporter.tick();
    expect(await w.codeOf(token)).to.equal('ok');
    expect(w.seen).to.deep.equal(['reported:1', 'updated:1']);
  });

  it('reports nothing more until Retry-After once rate limited, and then the accounts it could not report', async () => {
    const w = await world();
    await w.mint(ALICE);
    w.reports.failures.push({ ok: false, code: 'rate_limited', retryAfterMs: 60_000 });
    await w.reporter.tick();
    expect(w.seen).to.deep.equal(['host_error:personal_data:rate_limited']);
    w.clock.advance(59_000);
    await w.node().tick();
    expect(w.reports.received).to.have.length(1);
    w.clock.advance(1_000);
    await w.node().tick();
    expect(w.reports.reported()).to.deep.equal([ALICE, ALICE]);
    expect(w.seen.at(-2)).to.equal('reported:1');
  });

  it('reports at the next tick the accounts of a request that failed, and ends nothing meanwhile', async () => {
    const w = await world();
    const token = await w.mint(ALICE);
    w.reports.closed.add(ALICE);
    w.reports.failures.push({ ok: false, code: 'host_unavailable' });
    await w.reporter.tick();
    expect(await w.codeOf(token)).to.equal('ok');
    expect(w.seen).to.deep.equal(['host_error:personal_data:unavailable']);
    await w.reporter.tick();
    expect(w.reports.reported()).to.deep.equal([ALICE, ALICE]);
    expect(await w.codeOf(token)).to.equal('token_revoked');
  });

  it('leaves the accounts of a site it has no Connect credentials for to be reported through another site', async () => {
    const w = await world();
    await w.tenants.installed(OTHER_SITE, 'https://b.example.net', { sharedSecretChanged: false });
    await w.mint(ALICE);
    await w.mint(ALICE, OTHER_SITE);
    w.reports.failures.push({ ok: false, code: 'not_connect' });
    await w.reporter.tick();
    expect(w.reports.received.map((report) => report.clientKey)).to.deep.equal([SITE, OTHER_SITE]);
    expect(w.reports.reported()).to.deep.equal([ALICE, ALICE]);
  });
});
