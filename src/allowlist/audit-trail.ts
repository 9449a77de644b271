/** Reading the audit trail: a site's records, newest first and paged, as admins and operators are shown them. */
import { settle, type Settled, type StoreFailureReport } from '../base/result';
import type { AuditPage, AuditQuery, AuditStore } from './types';

/** Which of a site's records to read: everything an audit query says but the site. */
export type AuditFilter = Omit<AuditQuery, 'clientKey'>;

export interface AuditTrail {
  list(clientKey: string, filter: AuditFilter): Promise<Settled<AuditPage>>;
}

export function createAuditTrail(deps: { store: Pick<AuditStore, 'listAudit'>; onStoreFailure: StoreFailureReport }): AuditTrail {
  return {
    list: (clientKey, filter) => settle(deps.onStoreFailure, 'read audit', () => deps.store.listAudit({ ...filter, clientKey })),
  };
}
