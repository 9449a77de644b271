/**
 * The expiry sweep: deletes entries long past their expiry, and audit records past
 * their retention, in bounded batches with a pause between them, so that no single
 * statement holds a table for long and checks keep flowing while millions of rows go.
 */
import type { Clock, Store } from './types';

export interface SweeperDeps {
  store: Pick<Store, 'sweepExpired' | 'deleteAuditBefore'>;
  clock: Clock;
  /** How long audit records are kept; none are deleted when omitted. */
  auditRetentionMs?: number;
  /** Rows per statement. */
  batchSize?: number;
  /** Lets other work run between batches (the event loop, in production). */
  pause?: () => Promise<void>;
}

export interface SweepResult {
  entries: number;
  auditRecords: number;
}

export interface Sweeper {
  /** Deletes every entry that expired more than an hour ago, and every audit record past retention. */
  sweep(): Promise<SweepResult>;
}

/** A margin past expiry, so that a node whose clock runs behind never finds a token it still deems current deleted. */
export const SWEEP_GRACE_MS = 60 * 60 * 1000;
const DEFAULT_BATCH = 1_000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createSweeper(deps: SweeperDeps): Sweeper {
  const batchSize = deps.batchSize ?? DEFAULT_BATCH;
  const pause = deps.pause ?? nextTurn;
  let running: Promise<SweepResult> | null = null;

  async function inBatches(deleteBatch: () => Promise<number>): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await deleteBatch();
      total += deleted;
      if (deleted < batchSize) return total;
      await pause();
    }
  }

  async function sweepAll(): Promise<SweepResult> {
    const now = deps.clock.now();
    const entries = await inBatches(() => deps.store.sweepExpired(now - SWEEP_GRACE_MS, batchSize));
    const retention = deps.auditRetentionMs;
    const auditRecords = retention === undefined ? 0 : await inBatches(() => deps.store.deleteAuditBefore(now - retention, batchSize));
    return { entries, auditRecords };
  }

  return {
    // One sweep at a time per node: a slow sweep is not stacked on by the next interval.
    sweep() {
      running ??= sweepAll().finally(() => {
        running = null;
      });
      return running;
    },
  };
}
