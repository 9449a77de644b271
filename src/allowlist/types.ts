/** The allowlist's vocabulary: entries, tombstones, tenants, and the narrow interfaces the core runs on. */

import type { Clock, EpochMs } from '../base/clock';

/** Time is shared vocabulary (the tokens and the bus speak it too); the core's modules name it from here. */
export type { Clock, EpochMs };

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
  /**
   * Where the session's chain of page tokens stands once it has rotated (theft detection); null while the
   * token minted first (whose jti hashes to `idHash`) is still current.
   */
  chain: ChainPosition | null;
  /** RFC 7638 thumbprint of the page's key the session is bound to (key-bound tokens); null while unbound. */
  boundKey: string | null;
}

/**
 * A rotated session's current page token, the one it replaced, and who made the change. An entry is one page
 * session: every token of its chain checks against this one row.
 */
export interface ChainPosition {
  /** 1 for the first successor, and one more for each rotation after it. */
  seq: number;
  /** SHA-256 of the current token's jti. */
  tokenHash: string;
  /** SHA-256 of the jti of the token it replaced; that one keeps working for the rotation grace after `rotatedAt`. */
  previousHash: string;
  /** When the current token was first used, which made it current. */
  rotatedAt: EpochMs;
  /** Where that first use came from. */
  ip: string | null;
  userAgent: string | null;
}

/** A rotation as the store applies it: the successor that becomes current, and its first use. */
export interface TokenAdvance {
  seq: number;
  tokenHash: string;
  at: EpochMs;
  ip: string | null;
  userAgent: string | null;
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

/** What theft detection does about a suspicious session: end it everywhere, or only record it (audit and metrics). */
export type TheftResponse = 'revoke' | 'report';

/** A tenant's session policy, set by its admins. */
export interface Policy {
  /** A token unused for longer than this is refused as `token_idle`. */
  idleTimeoutSeconds: number;
  /** A token older than this (from its mint) is refused as `token_expired`, whatever its `exp`. */
  absoluteLifetimeSeconds: number;
  /** What a forked session (one token chain used by two parties) gets; `revoke` by default. */
  theftResponse: TheftResponse;
  /** What a session whose browser family changes between rotations gets; `report` by default (a change alone proves little). */
  agentChangeResponse: TheftResponse;
  /** Whether every call must carry a DPoP proof signed by the key the page made (key-bound tokens); off by default. */
  keyBinding: boolean;
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

/**
 * A revocation to be told to the site's signal receivers (Shared Signals, src/signals/ssf-transmitter): the store
 * queues one copy for each receiver of the site in the same transaction that ends the entries, and none when that
 * ended nothing. Who is named comes from the scope (src/allowlist/notices.ts).
 */
export interface RevocationNotice {
  /** Random, one per revocation: every receiver's copy carries it (the SET's `txn`). */
  id: string;
  /** Whose sessions ended; null when every session of the site did. */
  accountId: string | null;
  /** The one session that ended (its entry's idHash, as listed to admins and users); null when all of the user's did. */
  session: string | null;
  /** Who asked, as the audit names them: `admin:<accountId>`, `theft-detection`... */
  actor: string;
}

/** Every kind of audit record, in one list: the store checks what it reads against it, and the admin API and the CLI offer it. */
export const AUDIT_KINDS = ['mint', 'deny', 'revoke', 'lifecycle', 'policy', 'signal', 'ssf'] as const;

export type AuditKind = (typeof AUDIT_KINDS)[number];

/** What theft detection noticed about a session. */
export type SignalKind = 'fork' | 'network_changed' | 'agent_changed';

/** One use of a session as theft detection saw it: from where, with what, when. */
export interface Sighting {
  ip: string | null;
  userAgent: string | null;
  /** The IP's network (`203.0.113.0/24`), as compared; null without a readable IP. */
  network: string | null;
  /** The user agent's browser family and OS (`Chrome on Linux`), as compared; null without one. */
  agent: string | null;
  at: EpochMs;
}

/** A theft signal's two sides: the use that raised it, and the session's holder it disagreed with. */
export interface SignalDetail {
  kind: SignalKind;
  /** The session (its entry's idHash, as listed to admins and users). */
  session: string;
  /** What was done: the session ended everywhere, or only recorded, as the site's policy says. */
  action: 'revoked' | 'reported';
  /** The use that raised the signal (for a fork: the stale token's). */
  presented: Sighting;
  /** The session's current holder as last recorded (for a fork: whoever made the newer token current). */
  holder: Sighting;
}

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
  /** For theft signals (`kind: 'signal'`): both sides of what was noticed. Absent on every other kind. */
  detail?: SignalDetail;
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

/*
 * The store's roles that the core runs on, each a small interface named for what its users do with it. One database
 * plays them all, with the roles other parts own beside their users (src/store/app-store.ts gathers them), and the
 * composition root hands each user only its own. Every method either succeeds durably or rejects; the core turns
 * rejections into `store_unavailable`.
 */

/** Page sessions on the paths of mint, check and revoke: written, read with what decides them, ended, touched by use, swept. */
export interface EntryStore {
  insertEntry(entry: AllowlistEntry): Promise<void>;
  /** The entry with its tenant status and newest applicable removal, or null when unknown. */
  loadEntryState(idHash: string): Promise<EntryState | null>;
  /** Everything a mint must consult, in one read (a page render's hot path). */
  loadMintState(clientKey: string, accountId: string, resource: string, parent: string | null): Promise<MintState>;
  /**
   * Marks every live (not yet revoked) entry in scope revoked; returns how many changed. With a notice, and when
   * some changed, also queues the notice for each signal receiver of the scope's site, all in one transaction.
   */
  revokeEntries(scope: RevokeScope, at: EpochMs, reason: string, notice?: RevocationNotice): Promise<number>;
  /** Raises each entry's last_seen_at to the given time; never lowers it. One batch, one round trip where the database allows. */
  touchEntries(seen: LastSeen[]): Promise<void>;
  /**
   * Deletes at most `limit` entries that expired before `before` (revoked or not); returns how
   * many it deleted. Callers loop in batches so that no single statement holds the table long.
   */
  sweepExpired(before: EpochMs, limit: number): Promise<number>;
}

/** Live sessions as admins, users and operators look at them: listed, counted, and whether a user was ever seen. */
export interface SessionListing {
  /** Live entries of a tenant, filtered, newest first, paged. */
  listEntries(query: EntryQuery): Promise<EntryPage>;
  /** Live entries (not revoked, not expired at `now`), over every tenant when clientKey is omitted. */
  countLiveEntries(now: EpochMs, clientKey?: string): Promise<number>;
  /** Whether the store has ever heard of the user: any entry (live or dead) or a tombstone. */
  isKnownUser(clientKey: string, accountId: string): Promise<boolean>;
}

/** Removals from the host, kept for good: what a user's or a resource's events last said. */
export interface TombstoneStore {
  getTombstone(clientKey: string, kind: TombstoneKind, subject: string): Promise<Tombstone | null>;
  /**
   * Inserts the tombstone for (clientKey, kind, subject), or replaces the stored one only when
   * that one has seen an older event (`lastEventAt`), in one atomic step so that concurrent
   * events for one subject settle on the newest. Resolves true when it wrote.
   */
  putTombstone(tombstone: Tombstone): Promise<boolean>;
  /**
   * A removal's durable writes: `tombstone` as putTombstone writes it and, only when it wrote, every live entry in
   * `scope` revoked at the tombstone's `removedAt` with `reason`, `notice` queued with them as revokeEntries queues it.
   * The revocation never looks at the entries before the tombstone is visible to every mint, so that an entry it
   * misses was written after the tombstone and its mint's second read sees it: where the database writes one
   * transaction at a time (SQLite, memory) both are one transaction, elsewhere the tombstone commits first.
   */
  putTombstoneAndRevoke(tombstone: Tombstone, scope: RevokeScope, reason: string, notice?: RevocationNotice): Promise<RemovalWritten>;
}

/** What a removal's writes did: whether its tombstone was written (false: an event no newer was applied), and how many entries its revocation ended. */
export interface RemovalWritten {
  written: boolean;
  ended: number;
}

/** Sites: their lifecycle status and address, and the session policy their admins set. */
export interface TenantStore {
  getTenant(clientKey: string): Promise<Tenant | null>;
  /** Inserts or replaces the tenant's record. */
  putTenant(tenant: Tenant): Promise<void>;
  getPolicy(clientKey: string): Promise<Policy | null>;
  putPolicy(clientKey: string, policy: Policy, at: EpochMs): Promise<void>;
}

/** The audit trail: appended by the core, read by admins and operators, trimmed by retention. */
export interface AuditStore {
  /** Appends the records in order, all or none. */
  appendAudit(records: readonly AuditRecord[]): Promise<void>;
  listAudit(query: AuditQuery): Promise<AuditPage>;
  /** Deletes at most `limit` audit records older than `before`; returns how many (retention). */
  deleteAuditBefore(before: EpochMs, limit: number): Promise<number>;
}

/**
 * The writes of theft detection, one per rotation or binding: compare-and-set on one session's row, so that
 * two nodes racing over one session settle on one answer.
 */
export interface TokenChains {
  /**
   * Makes `next` the session's current token, if the session is not revoked and its current token is still
   * the one at `fromSeq` (0: the first); resolves false, changing nothing, otherwise.
   */
  advanceToken(idHash: string, fromSeq: number, next: TokenAdvance): Promise<boolean>;
  /** Binds the session to `thumbprint` if it is bound to no key yet; resolves whether it is now bound to this one. */
  bindKey(idHash: string, thumbprint: string): Promise<boolean>;
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
