/** The records the store tests write (entries, tombstones, tenants, policies, audit records, signals) and small helpers to read results. */
import { createHash } from 'node:crypto';
import type { AllowlistEntry, AuditRecord, EntryStore, Policy, SignalDetail, StoredAuditRecord, Tenant, TokenAdvance, Tombstone } from '../../../src/allowlist/types';
import type { Note } from '../../../src/notes/notes';
import type { SsfStream } from '../../../src/signals/ssf-receiver/streams';

export const T0 = 1_700_000_000_000;
export const MINUTE = 60_000;
export const TENANT = 'tenant-a';
export const OTHER_TENANT = 'tenant-b';
export const ISSUE = 'jira:issue:10001';
export const PROJECT = 'jira:project:10000';

/** A realistic id hash: PostgreSQL pads CHAR(64), so anything shorter would not round-trip there. */
export function idHash(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

export function anEntry(label: string, fields: Partial<AllowlistEntry> = {}): AllowlistEntry {
  return {
    idHash: idHash(label),
    clientKey: TENANT,
    accountId: 'user-1',
    resource: ISSUE,
    parent: PROJECT,
    createdAt: T0,
    expiresAt: T0 + 15 * MINUTE,
    lastSeenAt: T0,
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
    revokedAt: null,
    revokeReason: null,
    chain: null,
    boundKey: null,
    ...fields,
  };
}

export function aTombstone(fields: Partial<Tombstone> = {}): Tombstone {
  return {
    clientKey: TENANT,
    kind: 'user',
    subject: 'user-1',
    removedAt: T0 + MINUTE,
    removedEventAt: T0 + MINUTE - 500,
    liftedAt: null,
    lastEventAt: T0 + MINUTE - 500,
    ...fields,
  };
}

export function aTenant(fields: Partial<Tenant> = {}): Tenant {
  return { clientKey: TENANT, baseUrl: 'https://acme.atlassian.net', status: 'enabled', updatedAt: T0, ...fields };
}

export function aNote(id: string, fields: Partial<Note> = {}): Note {
  return { id, clientKey: TENANT, issueId: '10001', accountId: 'user-1', text: `note ${id}`, createdAt: T0, ...fields };
}

export function aStream(id: string, fields: Partial<SsfStream> = {}): SsfStream {
  return {
    id,
    clientKey: TENANT,
    issuer: 'https://idp.example.com',
    audience: `https://panelguard.example.com/ssf/streams/${id}`,
    subjects: 'email',
    createdAt: T0,
    verifiedAt: null,
    ...fields,
  };
}

export function aPolicy(fields: Partial<Policy> = {}): Policy {
  return {
    idleTimeoutSeconds: 30 * 60,
    absoluteLifetimeSeconds: 8 * 60 * 60,
    theftResponse: 'revoke',
    agentChangeResponse: 'report',
    keyBinding: false,
    ...fields,
  };
}

export function anAuditRecord(fields: Partial<AuditRecord> = {}): AuditRecord {
  return {
    at: T0,
    kind: 'revoke',
    clientKey: TENANT,
    accountId: 'user-1',
    actor: 'webhook:user_deleted',
    reason: 'user_deleted',
    resource: null,
    count: 2,
    confirmation: null,
    ...fields,
  };
}

/** A key's RFC 7638 thumbprint: 43 base64url characters. */
export function thumbprint(label: string): string {
  return createHash('sha256').update(label).digest('base64url');
}

/** The rotation to a session's `seq`th successor token, first used a minute after the one before it. */
export function anAdvance(label: string, seq: number, fields: Partial<TokenAdvance> = {}): TokenAdvance {
  return {
    seq,
    tokenHash: idHash(`${label}-successor-${seq}`),
    at: T0 + seq * MINUTE,
    ip: '198.51.100.23',
    userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)',
    ...fields,
  };
}

export function aSignalDetail(fields: Partial<SignalDetail> = {}): SignalDetail {
  return {
    kind: 'fork',
    session: idHash('t1'),
    action: 'revoked',
    presented: { ip: '198.51.100.23', userAgent: 'curl/8.5.0', network: '198.51.100.0/24', agent: null, at: T0 + 2 * MINUTE },
    holder: { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', network: '203.0.113.0/24', agent: 'Chrome on Linux', at: T0 + MINUTE },
    ...fields,
  };
}

export function aSignal(detail: SignalDetail = aSignalDetail()): AuditRecord {
  return anAuditRecord({ kind: 'signal', actor: null, reason: detail.kind, resource: ISSUE, count: null, detail });
}

/** Audit records as appended, without the ids the store gave them (which differ between stores and runs). */
export function withoutIds(records: StoredAuditRecord[]): AuditRecord[] {
  return records.map(({ id, ...record }) => record);
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to reject, but it resolved');
    },
    (err: unknown) => err,
  );
}

/** The revocation time of the entry `label` names, as `store` reads its state back; the entry must exist. */
export async function revokedAtOf(store: Pick<EntryStore, 'loadEntryState'>, label: string): Promise<number | null> {
  const state = await store.loadEntryState(idHash(label));
  if (!state) throw new Error(`entry ${label} is missing`);
  return state.entry.revokedAt;
}
