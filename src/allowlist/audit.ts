/** The audit trail's entry point for the core: record a decision without making the caller wait on it. */
import type { AuditRecord, Store } from './types';

export interface AuditLog {
  record(record: AuditRecord): void;
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
    },
    async drain() {
      await Promise.all([...pending]);
    },
  };
}
