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
/** What minting a token for a user and resource depends on, read at once. */
export interface MintState {
  /** null when the tenant has no record. */
  tenantStatus: TenantStatus | null;
  /** The user's tombstone, lifted or not; null when the user was never removed. */
  userRemoval: { removedEventAt: EpochMs; liftedAt: EpochMs | null } | null;
  /** The resource or its parent has a tombstone (deleted issue or project). */
  resourceRemoved: boolean;
  policy: Policy | null;
}

export interface EntryState {
  entry: AllowlistEntry;
  /** null when the tenant has no record (never installed, or deleted). */
  tenantStatus: TenantStatus | null;
  /** The tenant's session policy; null when its admins never set one (the configured defaults apply). */
  policy: Policy | null;
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

/** A tenant's session policy, set by its admins. */
export interface Policy {
  /** A token unused for longer than this is refused as `token_idle`. */
  idleTimeoutSeconds: number;
  /** A token older than this (from its mint) is refused as `token_expired`, whatever its `exp`. */
  absoluteLifetimeSeconds: number;
}

/** Which entries a revocation ends. */
export type RevokeScope =
  | { kind: 'token'; idHash: string }
  /** One entry, only if it belongs to this user of this tenant ("end this session" from the user's own page). */
  | { kind: 'session'; clientKey: string; accountId: string; idHash: string }
  /** Every entry of the user; `except` keeps one (the session asking to "end all others"). */
  | { kind: 'user'; clientKey: string; accountId: string; except?: string }
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

export type AuditKind = 'mint' | 'deny' | 'revoke' | 'lifecycle' | 'policy';

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
  /** How many entries a revocation ended; for denials, how many identical ones this record stands for. */
  count: number | null;
  /** For revocations: how many nodes confirmed before the call returned. */
  confirmation: Confirmation | null;
}

/** An audit record as stored: with its id, which orders records and pages through them. */
export interface StoredAuditRecord extends AuditRecord {
  id: number;
}

/** Which audit records to list, newest first. */
export interface AuditQuery {
  clientKey: string;
  kind?: AuditKind;
  accountId?: string;
  /** Records at or after this time. */
  since?: EpochMs;
  /** Records before this time. */
  until?: EpochMs;
  /** Records with an id below this one (the previous page's `nextBefore`). */
  before?: number;
  limit: number;
}

export interface AuditPage {
  records: StoredAuditRecord[];
  /** Pass as `before` for the next page; null when this page is the last. */
  nextBefore: number | null;
}

/** Which live entries (not revoked, not expired at `now`) to list, newest first. */
export interface EntryQuery {
  clientKey: string;
  accountId?: string;
  resource?: string;
  now: EpochMs;
  /** Entries that sort after this cursor (the previous page's `next`). */
  after?: string;
  limit: number;
}

export interface EntryPage {
  entries: AllowlistEntry[];
  /** Opaque cursor for the next page; null when this page is the last. */
  next: string | null;
}

/** One token's newest use, written behind in batches. */
export interface LastSeen {
  idHash: string;
  lastSeenAt: EpochMs;
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
  /** Everything a mint must consult, in one read (a page render's hot path). */
  loadMintState(clientKey: string, accountId: string, resource: string, parent: string | null): Promise<MintState>;
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

  /** Raises each entry's last_seen_at to the given time; never lowers it. One batch, one round trip where the database allows. */
  touchEntries(seen: LastSeen[]): Promise<void>;
  /** Live entries of a tenant, filtered, newest first, paged. */
  listEntries(query: EntryQuery): Promise<EntryPage>;
  /** Live entries (not revoked, not expired at `now`), over every tenant when clientKey is omitted. */
  countLiveEntries(now: EpochMs, clientKey?: string): Promise<number>;
  /** Whether the store has ever heard of the user: any entry (live or dead) or a tombstone. */
  isKnownUser(clientKey: string, accountId: string): Promise<boolean>;

  getPolicy(clientKey: string): Promise<Policy | null>;
  putPolicy(clientKey: string, policy: Policy, at: EpochMs): Promise<void>;

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

  /** Appends the records in order, all or none. */
  appendAudit(records: readonly AuditRecord[]): Promise<void>;
  listAudit(query: AuditQuery): Promise<AuditPage>;
  /** Deletes at most `limit` audit records older than `before`; returns how many (retention). */
  deleteAuditBefore(before: EpochMs, limit: number): Promise<number>;

  /** Cheap round trip proving the store answers (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What makes a replay detectable on every node: credentials and events accepted once, and the newest
 * signing time accepted per subject. Keys are hashes or ids, never a credential itself.
 */
export interface ReplayLedger {
  /** Records `key` under `kind` until `expiresAt`; resolves false, changing nothing, when it is recorded and not expired at `now`. */
  claimOnce(kind: string, key: string, expiresAt: EpochMs, now: EpochMs): Promise<boolean>;
  /** Whether `key` is recorded under `kind` and not expired at `now`. */
  isClaimed(kind: string, key: string, now: EpochMs): Promise<boolean>;
  /** Forgets a claim: the work it guarded failed, so the sender may try again with the same credential. */
  releaseClaim(kind: string, key: string): Promise<void>;
  /** Raises the mark of `key` under `kind` to `at`; resolves false, changing nothing, when it already stands higher. */
  advanceMark(kind: string, key: string, at: EpochMs): Promise<boolean>;
  /** Deletes at most `limit` claims that expired before `before`; returns how many. */
  sweepClaims(before: EpochMs, limit: number): Promise<number>;
}
