/**
 * Last-seen times, kept in memory and written behind in batches: a check notes each
 * use at no cost, and a flush writes each token's newest use at most once per interval.
 * The check honours the newest of what the store says and what this node has seen.
 */
import type { EntryStore, EpochMs, LastSeen } from './types';

/** Uses older than this are of no interest to any idle timeout (whose maximum is a day). */
const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

interface Seen {
  at: EpochMs;
  /** Not yet written to the store. */
  dirty: boolean;
}

export class LastSeenTracker {
  private readonly seen = new Map<string, Seen>();

  /** A use of the token at `at`; never moves a newer time back. */
  note(idHash: string, at: EpochMs): void {
    const known = this.seen.get(idHash);
    if (known === undefined) this.seen.set(idHash, { at, dirty: true });
    else if (at > known.at) {
      known.at = at;
      known.dirty = true;
    }
  }

  /** The newest use this node has seen, written or not. */
  newest(idHash: string): EpochMs | undefined {
    return this.seen.get(idHash)?.at;
  }

  /** Writes every use noted since the last flush in one batch; returns how many tokens it wrote. */
  async flush(store: EntryStore, now: EpochMs): Promise<number> {
    const batch: LastSeen[] = [];
    for (const [idHash, known] of this.seen) {
      if (known.dirty) batch.push({ idHash, lastSeenAt: known.at });
      else if (now - known.at > FORGET_AFTER_MS) this.seen.delete(idHash);
    }
    if (batch.length === 0) return 0;
    await store.touchEntries(batch);
    // A use noted while the batch was being written stays dirty for the next flush.
    for (const written of batch) {
      const known = this.seen.get(written.idHash);
      if (known !== undefined && known.at === written.lastSeenAt) known.dirty = false;
    }
    return batch.length;
  }
}
