/**
 * The expiry sweep: deletes entries long past their expiry, in bounded batches
 * with a pause between them, so that no single statement holds the table for long
 * and checks keep flowing while millions of rows go.
 */
import type { Clock, Store } from './types';

export interface SweeperDeps {
  store: Pick<Store, 'sweepExpired'>;
  clock: Clock;
  /** Rows per statement. */
  batchSize?: number;
  /** Lets other work run between batches (the event loop, in production). */
  pause?: () => Promise<void>;
}

export interface Sweeper {
  /** Deletes every entry that expired more than an hour ago; resolves with how many. */
  sweep(): Promise<number>;
}

/** A margin past expiry, so that a node whose clock runs behind never finds a token it still deems current deleted. */
export const SWEEP_GRACE_MS = 60 * 60 * 1000;
const DEFAULT_BATCH = 1_000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createSweeper(deps: SweeperDeps): Sweeper {
  const batchSize = deps.batchSize ?? DEFAULT_BATCH;
  const pause = deps.pause ?? nextTurn;
  let running: Promise<number> | null = null;

  async function sweepAll(): Promise<number> {
    const before = deps.clock.now() - SWEEP_GRACE_MS;
    let total = 0;
    for (;;) {
      const deleted = await deps.store.sweepExpired(before, batchSize);
      total += deleted;
      if (deleted < batchSize) return total;
      await pause();
    }
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
