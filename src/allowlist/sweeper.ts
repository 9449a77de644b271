/**
 * The expiry sweep: deletes entries long past their expiry, replay claims past theirs, and
 * audit records past their retention, in bounded batches with a pause between them, so that no single
 * statement holds a table for long and checks keep flowing while millions of rows go.
 */
import { settle, type Settled, type StoreFailureReport } from '../base/result';
import type { AuditStore, Clock, EntryStore, ReplayLedger } from './types';

/** What a sweep deletes from: one bounded, oldest-first delete of each role that keeps rows past their time, and nothing else of them. */
export type SweepTargets = Pick<EntryStore, 'sweepExpired'> & Pick<ReplayLedger, 'sweepClaims'> & Pick<AuditStore, 'deleteAuditBefore'>;

export interface SweeperDeps {
  store: SweepTargets;
  clock: Clock;
  /** How long audit records are kept; none are deleted when omitted. */
  auditRetentionMs?: number;
  /** Rows per statement at most; fewer when a statement takes longer than BATCH_TARGET_MS. */
  batchSize?: number;
  /** Lets other work run between batches (the event loop, in production). */
  pause?: () => Promise<void>;
  /** Hears a sweep's store rejection, answered as `store_unavailable` (the core's report, which logs it). */
  onStoreFailure: StoreFailureReport;
}

export interface SweepResult {
  entries: number;
  replayClaims: number;
  auditRecords: number;
}

export interface Sweeper {
  /**
   * Deletes every entry that expired more than an hour ago, every expired replay claim, and every audit record past
   * retention; `store_unavailable` when the store failed part way (what was deleted stays deleted; the next sweep goes on).
   */
  sweep(): Promise<Settled<SweepResult>>;
}

/** A margin past expiry, so that a node whose clock runs behind never finds a token it still deems current deleted. */
export const SWEEP_GRACE_MS = 60 * 60 * 1000;
const DEFAULT_BATCH = 1_000;
/**
 * How long one delete may hold the store's writer. Every other write (a mint, a revocation) waits behind it;
 * on SQLite a batch of 1,000 rows in a table of millions took 130 ms, so batches shrink to fit this.
 */
export const BATCH_TARGET_MS = 20;
const MIN_BATCH = 50;

/** The next batch's size: scaled to take about BATCH_TARGET_MS, at most doubling, within [MIN_BATCH, max]. */
export function nextBatchSize(size: number, tookMs: number, max: number): number {
  const fitted = tookMs <= 0 ? size * 2 : Math.round((size * BATCH_TARGET_MS) / tookMs);
  return Math.max(Math.min(MIN_BATCH, max), Math.min(max, size * 2, fitted));
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createSweeper(deps: SweeperDeps): Sweeper {
  const batchSize = deps.batchSize ?? DEFAULT_BATCH;
  const pause = deps.pause ?? nextTurn;
  let running: Promise<Settled<SweepResult>> | null = null;

  async function inBatches(deleteBatch: (limit: number) => Promise<number>): Promise<number> {
    let total = 0;
    let size = batchSize;
    for (;;) {
      const started = deps.clock.now();
      const deleted = await deleteBatch(size);
      total += deleted;
      if (deleted < size) return total;
      size = nextBatchSize(size, deps.clock.now() - started, batchSize);
      await pause();
    }
  }

  async function sweepAll(): Promise<SweepResult> {
    const now = deps.clock.now();
    const entries = await inBatches((limit) => deps.store.sweepExpired(now - SWEEP_GRACE_MS, limit));
    const replayClaims = await inBatches((limit) => deps.store.sweepClaims(now, limit));
    const retention = deps.auditRetentionMs;
    const auditRecords = retention === undefined ? 0 : await inBatches((limit) => deps.store.deleteAuditBefore(now - retention, limit));
    return { entries, replayClaims, auditRecords };
  }

  return {
    // One sweep at a time per node: a slow sweep is not stacked on by the next interval.
    sweep() {
      running ??= settle(deps.onStoreFailure, 'sweep', sweepAll).finally(() => {
        running = null;
      });
      return running;
    },
  };
}
