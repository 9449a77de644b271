/**
 * Reconciliation: on an interval, asks the host whether the users who hold live sessions are still active, and
 * ends the sessions of those it reports inactive or gone as their lost webhook would have (tombstone, then revoke).
 * A host that cannot answer ends nothing. In a cluster one node does a tenant's work per cycle, under a lease.
 */
import type { RevokeCause } from '../allowlist/allowlist';
import type { Removals } from '../allowlist/removals';
import type { Clock, EpochMs, ReplayLedger, TenantStatus } from '../allowlist/types';
import { ok, settle, settleResult, type Settled, type StoreFailureReport } from '../base/result';
import { sha256Hex } from '../tokens/hash';
import { tickedJob } from './ticked-job';

/** What the host says of one account: still active on the site, deactivated (or removed), or unknown to it. */
export type UserStatus = 'active' | 'inactive' | 'gone';

export interface DirectoryAnswer {
  /** Each account asked about, by what the host said of it. */
  statuses: ReadonlyMap<string, UserStatus>;
  /** The host's clock when it answered (its `Date`), in ms; null when it did not say. */
  answeredAt: EpochMs | null;
}

/** Why the host could not be asked, as a value each caller branches on. */
export type HostFailure =
  /** The host answered 429: nothing more for this tenant until `retryAfterMs` from now. */
  | { ok: false; code: 'rate_limited'; retryAfterMs: number }
  /** No answer, or one that cannot be trusted (a 5xx, a 401, a malformed or incomplete body). */
  | { ok: false; code: 'host_unavailable' }
  /** The tenant has no Connect credentials to ask with (a Forge installation): not asked this way at all. */
  | { ok: false; code: 'not_connect' };

export type DirectoryResult = { ok: true; value: DirectoryAnswer } | HostFailure;

/** The host's user directory, as PanelGuard asks it (src/connect/host-directory.ts: Jira's bulk user API through ACE). */
export interface HostDirectory {
  /** What the host says of each of `accountIds` (at most a batch); every one asked about is in a successful answer. */
  usersActive(clientKey: string, accountIds: readonly string[]): Promise<DirectoryResult>;
}

/** The store as reconciliation reads it: which tenants to visit, and who holds live sessions there. */
export interface LiveUsers {
  /** Tenants with this status, by clientKey ascending, those after `after` ('' for the first page). */
  listTenants(status: TenantStatus, after: string, limit: number): Promise<string[]>;
  /** Distinct users with a live entry (not revoked, not expired at `now`) in the tenant, ascending, after `after`. */
  listLiveUsers(clientKey: string, now: EpochMs, after: string, limit: number): Promise<string[]>;
}

/** Leases and pauses shared by every node, kept in the replay ledger. */
export type Leases = Pick<ReplayLedger, 'claimOnce' | 'isClaimed' | 'releaseClaim'>;

/** How a node's run over one tenant ended. */
export type RunOutcome = 'completed' | 'host_error' | 'rate_limited';

/** What reconciliation reports as it works, for metrics. */
export interface ReconcileObserver {
  /** A run over one tenant, done by this node under its lease. */
  ran(outcome: RunOutcome): void;
  /** Users the host was asked about (and answered for). */
  checked(count: number): void;
  /** Users whose sessions were ended for what the host said: inactive, gone, or (personal data report) closed. */
  ended(status: 'inactive' | 'gone' | 'closed', count: number): void;
  /** The host could not be asked: which API, and why. */
  hostError(api: 'users' | 'personal_data', reason: 'unavailable' | 'rate_limited'): void;
}

export const NO_RECONCILE_OBSERVER: ReconcileObserver = { ran() {}, checked() {}, ended() {}, hostError() {} };

/** Where a run says what it did or could not do (a pino logger in the app). */
export interface SignalLog {
  info(detail: object, message: string): void;
  warn(detail: object, message: string): void;
}

export const SILENT_LOG: SignalLog = { info() {}, warn() {} };

/** The cause recorded with every revocation reconciliation makes: in the audit, on the entries, in the metrics. */
export const RECONCILED: RevokeCause = { actor: 'reconcile', reason: 'reconciled' };

/**
 * How far before the host's answer a removal is dated. A removal dated at the answer could hide a reactivation that
 * followed it within the same second (the host's `Date` has whole seconds, its lookup happened a moment before);
 * one dated a second earlier lets every later real event (a reactivation, a late webhook) still apply.
 */
export const ANSWER_MARGIN_MS = 1_000;

/** Jira's bulk user API takes at most 200 ids; 50 keeps the URL short (about 3 KB) and one answer one page. */
export const DEFAULT_BATCH = 50;
const TENANT_PAGE = 100;
const LEASE = 'reconcile';
const PAUSE = 'reconcile_pause';

export interface ReconcilerDeps {
  store: LiveUsers;
  leases: Leases;
  directory: HostDirectory;
  removals: Pick<Removals, 'removeUser'>;
  clock: Clock;
  /** How often each tenant is reconciled: one run per tenant per cycle of this length, over the whole cluster. */
  intervalMs: number;
  /** Users per question to the host. */
  batchSize?: number;
  observer?: ReconcileObserver;
  log?: SignalLog;
  /** Hears each store rejection a run answered as `store_unavailable` (the core's report, which logs it). */
  onStoreFailure: StoreFailureReport;
}

export interface Reconciler {
  /**
   * Runs every enabled tenant whose run for the current cycle no node has claimed yet, and that the host has not
   * paused; resolves when done. Nodes call it several times per cycle (see `tickMs`): the first call in a cycle
   * does the work, the others find it claimed. A store failure is logged, not rejected: the next cycle retries.
   */
  tick(): Promise<void>;
  /** Stops between batches; resolves once a run in progress has stopped. */
  stop(): Promise<void>;
}

/**
 * How often a node should tick: a quarter of the interval, so that a cycle's work starts at most a quarter
 * interval after the cycle does, whichever node gets there first.
 */
export function tickMs(intervalMs: number): number {
  return Math.max(1, Math.round(intervalMs / 4));
}

/** Ledger keys are hashes: clientKeys are the host's, any length, and must not collide with the cycle number. */
export function ledgerKey(...parts: Array<string | number>): string {
  return sha256Hex(JSON.stringify(parts));
}

/** Visits every page of a listing that pages by a string cursor ('' first). */
export async function* pages<T>(list: (after: string, limit: number) => Promise<T[]>, limit: number, cursorOf: (item: T) => string): AsyncGenerator<T[]> {
  let after = '';
  for (;;) {
    const page = await list(after, limit);
    if (page.length > 0) yield page;
    if (page.length < limit) return;
    after = cursorOf(page[page.length - 1] as T);
  }
}

export function createReconciler(deps: ReconcilerDeps): Reconciler {
  const { store, leases, directory, removals, clock, intervalMs } = deps;
  const batchSize = deps.batchSize ?? DEFAULT_BATCH;
  const observe = deps.observer ?? NO_RECONCILE_OBSERVER;
  const log = deps.log ?? SILENT_LOG;
  const job = tickedJob(run);

  /** Pauses the tenant for every node until `until`, replacing a shorter pause. */
  async function pause(clientKey: string, until: EpochMs): Promise<void> {
    await leases.releaseClaim(PAUSE, ledgerKey(clientKey));
    await leases.claimOnce(PAUSE, ledgerKey(clientKey), until, clock.now());
  }

  async function reconcileTenant(clientKey: string, cycle: number): Promise<Settled<void>> {
    const now = clock.now();
    if (await leases.isClaimed(PAUSE, ledgerKey(clientKey), now)) return ok(undefined);
    const lease = ledgerKey(clientKey, cycle);
    // Kept past its cycle's end (sweeps drop it later): the key names the cycle, so it never blocks the next.
    if (!(await leases.claimOnce(LEASE, lease, (cycle + 2) * intervalMs, now))) return ok(undefined);

    const ended = { inactive: 0, gone: 0 };
    for await (const users of pages((after, limit) => store.listLiveUsers(clientKey, clock.now(), after, limit), batchSize, (id) => id)) {
      if (job.stopped()) break;
      const askedAt = clock.now();
      const answer = await directory.usersActive(clientKey, users);
      if (!answer.ok) {
        if (answer.code === 'not_connect') return ok(undefined);
        if (answer.code === 'rate_limited') {
          // The rest of the cycle's work is done once the pause is over, by whichever node ticks then.
          await pause(clientKey, clock.now() + answer.retryAfterMs);
          await leases.releaseClaim(LEASE, lease);
          observe.hostError('users', 'rate_limited');
          observe.ran('rate_limited');
          log.warn({ clientKey, retryAfterMs: answer.retryAfterMs }, 'reconcile: the host is rate limiting; tenant paused');
          return ok(undefined);
        }
        // Fail safe: a host that cannot answer ends nothing. The next cycle asks again.
        observe.hostError('users', 'unavailable');
        observe.ran('host_error');
        log.warn({ clientKey }, 'reconcile: the host could not be asked; no session ended, the next cycle retries');
        return ok(undefined);
      }
      observe.checked(users.length);
      const eventAt = (answer.value.answeredAt ?? askedAt) - ANSWER_MARGIN_MS;
      for (const accountId of users) {
        // An account missing from the answer was not answered for: it is not taken as gone.
        const status = answer.value.statuses.get(accountId);
        if (status !== 'inactive' && status !== 'gone') continue;
        const removal = await removals.removeUser(clientKey, accountId, eventAt, RECONCILED);
        // The lease stands: the next cycle asks again, and a removal that did stand is idempotent.
        if (!removal.ok) return removal;
        observe.ended(status, 1);
        ended[status] += 1;
      }
    }
    observe.ran('completed');
    if (ended.inactive + ended.gone > 0) log.info({ clientKey, ...ended }, 'reconcile: ended the sessions of users the host no longer has');
    return ok(undefined);
  }

  async function reconcileAll(): Promise<void> {
    const cycle = Math.floor(clock.now() / intervalMs);
    for await (const tenants of pages((after, limit) => store.listTenants('enabled', after, limit), TENANT_PAGE, (key) => key)) {
      for (const clientKey of tenants) {
        if (job.stopped()) return;
        const done = await settleResult(deps.onStoreFailure, 'reconcile site', () => reconcileTenant(clientKey, cycle));
        // The lease (if taken) stands, and the next cycle tries again; the other sites are still reconciled.
        if (!done.ok) log.warn({ clientKey, code: done.code }, 'reconcile: run failed; the next cycle retries');
      }
    }
  }

  async function run(): Promise<void> {
    const done = await settle(deps.onStoreFailure, 'list sites to reconcile', reconcileAll);
    if (!done.ok) log.warn({ code: done.code }, 'reconcile: the sites could not be listed; the next tick retries');
  }

  return { tick: job.tick, stop: job.stop };
}
