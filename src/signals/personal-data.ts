/**
 * Personal data reporting: tells Atlassian, once per reporting period per account, which accounts PanelGuard holds
 * data for (sessions with their IP and browser, notes) and when that data last changed; an account Atlassian reports
 * closed has its sessions ended on every site that knows it, as a removal would. Accounts are claimed one by one in
 * the shared ledger, so over a cluster and its restarts each account is reported at most once per period.
 */
import type { Removals } from '../allowlist/removals';
import type { Clock, EpochMs, SessionListing } from '../allowlist/types';
import {
  ANSWER_MARGIN_MS,
  ledgerKey,
  NO_RECONCILE_OBSERVER,
  pages,
  SILENT_LOG,
  type HostFailure,
  type Leases,
  type LiveUsers,
  type ReconcileObserver,
  type SignalLog,
} from './reconcile';
import { ok, settle, settleResult, type Settled, type StoreFailureReport } from '../base/result';
import { tickedJob } from './ticked-job';

/** One account PanelGuard holds personal data for, and when it last wrote any of it. */
export interface HeldAccount {
  accountId: string;
  updatedAt: EpochMs;
}

export interface ReportAnswer {
  /** Accounts Atlassian says were closed: their data must go, their sessions end. */
  closed: string[];
  /** Accounts whose profile changed since the time reported: copies of it should be refreshed. */
  updated: string[];
  /** Atlassian's clock when it answered (its `Date`), in ms; null when it did not say. */
  answeredAt: EpochMs | null;
}

export type ReportResult = { ok: true; value: ReportAnswer } | HostFailure;

/** Atlassian's personal data reporting API (`POST /app/report-accounts/`), asked in the context of one site. */
export interface PersonalDataReports {
  /** Reports at most REPORT_BATCH accounts in one request. */
  report(clientKey: string, accounts: readonly HeldAccount[]): Promise<ReportResult>;
}

/** The store as reporting reads it: the sites, who each holds data for, and whether a site ever knew a user. */
export interface DataHolders extends Pick<LiveUsers, 'listTenants'>, Pick<SessionListing, 'isKnownUser'> {
  /** Users the tenant holds entries or notes for, by accountId ascending after `after`, with the newest time any was written. */
  listDataHolders(clientKey: string, after: string, limit: number): Promise<HeldAccount[]>;
}

/** Atlassian takes at most 90 accounts per request. */
export const REPORT_BATCH = 90;
/** How long one node may hold a site's walk before another may take it over (a node that died mid-walk). */
const WALK_LEASE_MS = 10 * 60 * 1000;
const TENANT_PAGE = 100;
const WALK = 'personal_data_walk';
const REPORTED = 'personal_data_reported';
const PAUSE = 'personal_data_pause';
/** Atlassian's rate limit and availability are the API's, not a site's: one pause for all. */
const PAUSE_KEY = ledgerKey('report-accounts');

/** What reporting adds to reconciliation's observations, for metrics. */
export interface ReportObserver extends ReconcileObserver {
  /** Accounts reported to Atlassian. */
  reported(count: number): void;
  /** Accounts Atlassian says changed since their reported time (PanelGuard keeps no profile copy to refresh). */
  updated(count: number): void;
}

export const ACCOUNT_CLOSED = { actor: 'reconcile', reason: 'account_closed' } as const;

export interface PersonalDataReporterDeps {
  store: DataHolders;
  leases: Leases;
  reports: PersonalDataReports;
  removals: Pick<Removals, 'removeUser'>;
  clock: Clock;
  /** How often each account is reported at most (Atlassian's cycle period). */
  intervalMs: number;
  /** Hears each store rejection a walk answered as `store_unavailable` (the core's report, which logs it). */
  onStoreFailure: StoreFailureReport;
  observer?: ReportObserver;
  log?: SignalLog;
}

export interface PersonalDataReporter {
  /** Reports every account whose last report is a period old; nodes call it several times per period. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

/** Why a walk over the sites stopped early: the API cannot be asked now, so no other site is tried either. */
type Halt = 'rate_limited' | 'host_unavailable';

/** A site that is not a Connect install stops only its own walk. */
const haltOf = (sent: Settled<Halt | 'not_connect' | null>): Settled<Halt | null> => (!sent.ok ? sent : ok(sent.value === 'not_connect' ? null : sent.value));

export function createPersonalDataReporter(deps: PersonalDataReporterDeps): PersonalDataReporter {
  const { store, leases, reports, removals, clock, intervalMs } = deps;
  const observe: ReportObserver = deps.observer ?? { ...NO_RECONCILE_OBSERVER, reported() {}, updated() {} };
  const log = deps.log ?? SILENT_LOG;
  const job = tickedJob(run);

  /** Ends the closed account's sessions on every site that knows the user, as a removal on each would. */
  async function endClosedAccount(accountId: string, eventAt: EpochMs): Promise<Settled<void>> {
    for await (const tenants of pages((after, limit) => store.listTenants('enabled', after, limit), TENANT_PAGE, (key) => key)) {
      for (const clientKey of tenants) {
        if (!(await store.isKnownUser(clientKey, accountId))) continue;
        const removal = await removals.removeUser(clientKey, accountId, eventAt, ACCOUNT_CLOSED);
        if (!removal.ok) return removal;
      }
    }
    observe.ended('closed', 1);
    return ok(undefined);
  }

  /** Sends one batch; on failure the batch's accounts are unclaimed, so that they are reported once the API answers. */
  async function send(clientKey: string, batch: HeldAccount[]): Promise<Settled<Halt | 'not_connect' | null>> {
    const askedAt = clock.now();
    const result = await reports.report(clientKey, batch);
    if (!result.ok) {
      for (const account of batch) await leases.releaseClaim(REPORTED, ledgerKey(account.accountId));
      if (result.code === 'not_connect') return ok('not_connect');
      if (result.code === 'rate_limited') {
        await leases.releaseClaim(PAUSE, PAUSE_KEY);
        await leases.claimOnce(PAUSE, PAUSE_KEY, clock.now() + result.retryAfterMs, clock.now());
        observe.hostError('personal_data', 'rate_limited');
        log.warn({ retryAfterMs: result.retryAfterMs }, 'personal data report: rate limited; reporting paused');
        return ok('rate_limited');
      }
      observe.hostError('personal_data', 'unavailable');
      log.warn({ clientKey }, 'personal data report: the API could not be asked; the next tick retries');
      return ok('host_unavailable');
    }
    observe.reported(batch.length);
    observe.updated(result.value.updated.length);
    const eventAt = (result.value.answeredAt ?? askedAt) - ANSWER_MARGIN_MS;
    for (const accountId of result.value.closed) {
      const ended = await endClosedAccount(accountId, eventAt);
      if (!ended.ok) return ended;
    }
    if (result.value.closed.length > 0) log.info({ clientKey, closed: result.value.closed.length }, 'personal data report: ended the sessions of closed accounts');
    return ok(null);
  }

  /** Reports the site's accounts that are due; an account held by several sites is reported through the first. */
  async function walk(clientKey: string): Promise<Settled<Halt | null>> {
    let batch: HeldAccount[] = [];
    const flush = async (): Promise<Settled<Halt | 'not_connect' | null>> => {
      const sending = batch;
      batch = [];
      return send(clientKey, sending);
    };
    try {
      for await (const held of pages((after, limit) => store.listDataHolders(clientKey, after, limit), REPORT_BATCH, (account) => account.accountId)) {
        for (const account of held) {
          if (job.stopped()) return ok(null);
          // Claimed for a full period: reported again only once it has passed, by whichever node walks then.
          if (!(await leases.claimOnce(REPORTED, ledgerKey(account.accountId), clock.now() + intervalMs, clock.now()))) continue;
          batch.push(account);
          if (batch.length < REPORT_BATCH) continue;
          const halted = await flush();
          if (!halted.ok || halted.value !== null) return haltOf(halted);
        }
      }
      return batch.length === 0 ? ok(null) : haltOf(await flush());
    } finally {
      // Claimed but never sent (a stop, a store failure): due again at the next walk.
      for (const account of batch) await leases.releaseClaim(REPORTED, ledgerKey(account.accountId)).catch(() => undefined);
    }
  }

  async function run(): Promise<void> {
    const done = await settle(deps.onStoreFailure, 'list sites to report', walkAll);
    if (!done.ok) log.warn({ code: done.code }, 'personal data report: the sites could not be listed; the next tick retries');
  }

  async function walkAll(): Promise<void> {
    if (await leases.isClaimed(PAUSE, PAUSE_KEY, clock.now())) return;
    for await (const tenants of pages((after, limit) => store.listTenants('enabled', after, limit), TENANT_PAGE, (key) => key)) {
      for (const clientKey of tenants) {
        if (job.stopped()) return;
        // One node walks a site at a time; the per-account claims keep two walks from reporting an account twice.
        const walkKey = ledgerKey(clientKey);
        if (!(await leases.claimOnce(WALK, walkKey, clock.now() + WALK_LEASE_MS, clock.now()))) continue;
        const walked = await settleResult(deps.onStoreFailure, 'report a site', () => walk(clientKey));
        await leases.releaseClaim(WALK, walkKey).catch(() => undefined);
        if (!walked.ok) log.warn({ clientKey, code: walked.code }, 'personal data report: walk failed; the next tick retries');
        else if (walked.value !== null) return;
      }
    }
  }

  return { tick: job.tick, stop: job.stop };
}
