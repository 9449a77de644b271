/** The allowlist's vocabulary: entries, tombstones, tenants, and the narrow interfaces the core runs on. */

/** Milliseconds since the epoch. Every time in the core is one of these. */
export type EpochMs = number;

export interface Clock {
  now(): EpochMs;
}

/**
 * One page token's server-side record. The token id is never stored: only the
 * hex SHA-256 of its `jti` (`idHash`).
 */
export interface AllowlistEntry {
  idHash: string;
  clientKey: string;
  accountId: string;
  /** e.g. `jira:issue:10001`, `app:admin`. */
  resource: string;
  /** e.g. `jira:project:10000`; null when the resource has none. */
  parent: string | null;
  createdAt: EpochMs;
  expiresAt: EpochMs;
  lastSeenAt: EpochMs;
  ip: string | null;
  userAgent: string | null;
  revokedAt: EpochMs | null;
  revokeReason: string | null;
}

/**
 * What a check needs to decide about one entry, read in one go: the entry, its
 * tenant's status and the newest removal that applies to it.
 */
export interface EntryState {
  entry: AllowlistEntry;
  /** null when the tenant has no record (never installed, or deleted). */
  tenantStatus: TenantStatus | null;
  /**
   * `removedAt` of the newest tombstone (user, resource or parent) that applies to
   * the entry, lifted or not; null when there is none. An entry created at or
   * before it is dead.
   */
  newestRemovalAt: EpochMs | null;
}

export type TombstoneKind = 'user' | 'resource';

/**
 * A durable record that a user or a resource was removed. Lifting it (user
 * reactivated) allows new mints; entries from before the removal stay dead.
 */
export interface Tombstone {
  clientKey: string;
  kind: TombstoneKind;
  /** accountId for users, the resource string for resources. */
  subject: string;
  /** Our clock when the removal was recorded. Entries created at or before it are dead. */
  removedAt: EpochMs;
  /** The host's timestamp of the removal event. Connect JWTs issued before it cannot mint. */
  removedEventAt: EpochMs;
  /** Our clock when the tombstone was lifted; null while it stands. */
  liftedAt: EpochMs | null;
  /** The host's timestamp of the last event applied to this subject; older events are ignored. */
  lastEventAt: EpochMs;
}

export type TenantStatus = 'enabled' | 'disabled' | 'uninstalled';

export interface Tenant {
  clientKey: string;
  baseUrl: string;
  status: TenantStatus;
  updatedAt: EpochMs;
}

/** Which entries a revocation ends. */
export type RevokeScope =
  | { kind: 'token'; idHash: string }
  | { kind: 'user'; clientKey: string; accountId: string }
  /** The resource itself and every entry whose parent it is. */
  | { kind: 'resource'; clientKey: string; resource: string }
  | { kind: 'tenant'; clientKey: string };

export interface Note {
  id: string;
  clientKey: string;
  issueId: string;
  accountId: string;
  text: string;
  createdAt: EpochMs;
}

export type AuditKind = 'mint' | 'deny' | 'revoke' | 'lifecycle';

/** How many live nodes had applied a revocation when its call returned, out of how many were expected to. */
export interface Confirmation {
  confirmed: number;
  expected: number;
}

export interface AuditRecord {
  at: EpochMs;
  kind: AuditKind;
  clientKey: string | null;
  /** Who the record is about (the token's user, the revoked user). */
  accountId: string | null;
  /** Who acted: `webhook:user_deleted`, `lifecycle:uninstalled`, `user:<accountId>`... */
  actor: string | null;
  /** A stable code: a deny reason, a revoke cause. */
  reason: string | null;
  resource: string | null;
  /** How many entries a revocation ended. */
  count: number | null;
  /** For revocations: how many nodes confirmed before the call returned. */
  confirmation: Confirmation | null;
}

/**
 * Everything the core persists. Implemented in memory (tests, single process
 * without a file) and with sequelize (SQLite, PostgreSQL). Every method either
 * succeeds durably or rejects; the core turns rejections into `store_unavailable`.
 */
export interface Store {
  insertEntry(entry: AllowlistEntry): Promise<void>;
  /** The entry with its tenant status and newest applicable removal, or null when unknown. */
  loadEntryState(idHash: string): Promise<EntryState | null>;
  /** Marks every live (not yet revoked) entry in scope revoked; returns how many changed. */
  revokeEntries(scope: RevokeScope, at: EpochMs, reason: string): Promise<number>;
  /**
   * Deletes at most `limit` entries that expired before `before` (revoked or not); returns how
   * many it deleted. Callers loop in batches so that no single statement holds the table long.
   */
  sweepExpired(before: EpochMs, limit: number): Promise<number>;

  getTombstone(clientKey: string, kind: TombstoneKind, subject: string): Promise<Tombstone | null>;
  /**
   * Inserts the tombstone for (clientKey, kind, subject), or replaces the stored one only when
   * that one has seen an older event (`lastEventAt`), in one atomic step so that concurrent
   * events for one subject settle on the newest. Resolves true when it wrote.
   */
  putTombstone(tombstone: Tombstone): Promise<boolean>;

  getTenant(clientKey: string): Promise<Tenant | null>;
  /** Inserts or replaces the tenant's record. */
  putTenant(tenant: Tenant): Promise<void>;

  /** ACE's per-tenant key/value settings (clientInfo holds the sharedSecret). */
  getSetting(clientKey: string, key: string): Promise<unknown | null>;
  setSetting(clientKey: string, key: string, value: unknown): Promise<void>;
  deleteSetting(clientKey: string, key: string): Promise<void>;
  listSettings(key: string): Promise<unknown[]>;

  listNotes(clientKey: string, issueId: string): Promise<Note[]>;
  addNote(note: Note): Promise<void>;

  appendAudit(record: AuditRecord): Promise<void>;
  listAudit(clientKey: string, limit: number): Promise<AuditRecord[]>;

  /** Cheap round trip proving the store answers (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
