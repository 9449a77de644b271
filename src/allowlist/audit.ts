/**
 * The audit trail's entry point for the core: record a decision without making the caller wait on it, and
 * without letting a flood of requests become a flood of writes.
 */
import type { AuditRecord, AuditStore } from './types';

export interface AuditLog {
  /**
   * Hands a record over; the write runs in the background. The promise resolves once it is written
   * (or has failed and been reported), never rejects: await it where an answer must follow its trace.
   */
  record(record: AuditRecord): Promise<void>;
  /** Resolves when every record handed over so far is written (or has failed and been reported). */
  drain(): Promise<void>;
}

export interface AuditLogOptions {
  /** Reports a failed write; never thrown at a request. */
  onError: (error: unknown) => void;
  /**
   * Repeated denials of one user for one reason and resource within this many ms become one record whose
   * `count` says how many: a client retrying a revoked token thousands of times leaves one line, not thousands.
   */
  denialWindowMs: number;
}

/** At most this many records per write: one statement, well under SQLite's limit on bound values. */
const BATCH = 500;

interface Waiting {
  record: AuditRecord;
  written: () => void;
}

/**
 * Writes records in batches, one batch at a time (group commit): while one batch is written, the records that
 * arrive queue for the next, so a busy node commits once per batch instead of once per mint or denial.
 */
export function storeAuditLog(store: AuditStore, options: AuditLogOptions): AuditLog {
  const queue: Waiting[] = [];
  const denials = new Map<string, Waiting & { waiters: (() => void)[] }>();
  let denialTimer: NodeJS.Timeout | null = null;
  let writing: Promise<void> | null = null;

  async function writeAll(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, BATCH);
      try {
        await store.appendAudit(batch.map((w) => w.record));
      } catch (error) {
        options.onError(error);
      }
      for (const w of batch) w.written();
    }
  }

  function kick(): Promise<void> {
    writing ??= writeAll().finally(() => {
      writing = null;
    });
    return writing;
  }

  function flushDenials(): void {
    if (denialTimer !== null) clearTimeout(denialTimer);
    denialTimer = null;
    for (const folded of denials.values()) queue.push(folded);
    denials.clear();
    void kick();
  }

  function enqueue(record: AuditRecord): Promise<void> {
    return new Promise<void>((written) => {
      queue.push({ record, written });
      void kick();
    });
  }

  function fold(record: AuditRecord): Promise<void> {
    const key = JSON.stringify([record.clientKey, record.accountId, record.reason, record.resource]);
    return new Promise<void>((written) => {
      const folded = denials.get(key);
      if (folded !== undefined) {
        folded.record.count = (folded.record.count ?? 1) + 1;
        folded.waiters.push(written);
        return;
      }
      const waiters = [written];
      denials.set(key, { record: { ...record, count: 1 }, waiters, written: () => waiters.forEach((w) => w()) });
      if (denialTimer === null) {
        denialTimer = setTimeout(flushDenials, options.denialWindowMs);
        // A pending fold never keeps a stopping process alive; drain() writes it.
        denialTimer.unref();
      }
    });
  }

  return {
    record: (record) => (record.kind === 'deny' ? fold(record) : enqueue(record)),
    async drain() {
      flushDenials();
      while (writing !== null) await writing;
    },
  };
}
