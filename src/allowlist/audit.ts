/** The audit trail's entry point for the core: record a decision without making the caller wait on it. */
import type { AuditRecord, Store } from './types';

export interface AuditLog {
  /**
   * Hands a record over; the write runs in the background. The promise resolves once it is written
   * (or has failed and been reported), never rejects: await it where an answer must follow its trace.
   */
  record(record: AuditRecord): Promise<void>;
  /** Resolves when every record handed over so far is written (or has failed and been reported). */
  drain(): Promise<void>;
}

/** Writes records to the store in the background; a failed write is reported, never thrown at a request. */
export function storeAuditLog(store: Store, onError: (error: unknown) => void): AuditLog {
  const pending = new Set<Promise<void>>();
  return {
    record(record) {
      const write = store.appendAudit(record).catch(onError);
      pending.add(write);
      void write.finally(() => pending.delete(write));
      return write;
    },
    async drain() {
      await Promise.all([...pending]);
    },
  };
}
