/** The durable store: SQL over sequelize, on a SQLite file by default and PostgreSQL for clusters. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { QueryTypes, Sequelize, UniqueConstraintError } from 'sequelize';
import sqlite3 from 'sqlite3';
import { SequelizeStorage, Umzug } from 'umzug';
import { AUDIT_KINDS, type AuditKind } from '../allowlist/types';
import type {
  AllowlistEntry,
  AuditPage,
  AuditQuery,
  AuditRecord,
  ChainPosition,
  Confirmation,
  EntryPage,
  EntryQuery,
  EntryState,
  MintState,
  EpochMs,
  LastSeen,
  Policy,
  RevokeScope,
  StoredAuditRecord,
  Tenant,
  TenantStatus,
  TheftResponse,
  Tombstone,
  TombstoneKind,
  TokenAdvance,
} from '../allowlist/types';
import type { Note } from '../notes/notes';
import type { AppStore } from './app-store';
import { DuplicateKeyError, StoreClosedError } from './errors';
import { migrations } from './migrations';
import { assertPageLimit, decodeEntryCursor, encodeEntryCursor } from './paging';
import { decodeSettingValue, encodeSettingValue } from './setting-value';
import { decodeSignalDetail, encodeSignalDetail } from './signal-detail';

export interface SequelizeStoreOptions {
  /** Print every SQL statement (never its bound values). */
  logging?: boolean;
}

/**
 * Opens `sqlite:<path>`, `sqlite::memory:` or a `postgres://` URL, brings the
 * schema up to date and returns the store.
 */
export async function openSequelizeStore(url: string, options: SequelizeStoreOptions = {}): Promise<SequelizeStore> {
  const logging = options.logging ? (sql: string) => console.log(sql) : false;
  const storage = sqliteStorage(url);
  let sequelize: Sequelize;
  if (storage !== null) {
    if (storage !== ':memory:') mkdirSync(path.dirname(storage), { recursive: true });
    sequelize = new Sequelize({ dialect: 'sqlite', storage, logging });
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    // The driver is handed over rather than left to sequelize's require(), so a bundler or a pruned install cannot lose it.
    // Five connections per node: a cluster's nodes share one server's connection limit.
    sequelize = new Sequelize(url, { dialect: 'postgres', dialectModule: pg, logging, pool: { max: 5 } });
  } else {
    // The URL is not echoed: it may carry a password.
    throw new Error('DATABASE_URL must start with sqlite: or postgres://');
  }
  let reader: Sequelize | null = null;
  try {
    if (storage !== null) {
      await tuneSqlite(sequelize, storage === ':memory:');
      await migrate(sequelize, options.logging === true);
      if (storage !== ':memory:') reader = await openSqliteReader(storage, logging);
    } else {
      await withMigrationLock(url, () => migrate(sequelize, options.logging === true));
    }
  } catch (err) {
    await sequelize.close();
    throw err;
  }
  return new SequelizeStore(sequelize, reader);
}

/**
 * A read-only connection of its own for SQLite's reads. Sequelize runs every statement outside a transaction on
 * one connection, so a check would otherwise queue behind any write, a sweep's delete of a thousand rows
 * included; with WAL, a reader on another connection sees every committed write and is never blocked by one.
 */
async function openSqliteReader(storage: string, logging: false | ((sql: string) => void)): Promise<Sequelize> {
  const reader = new Sequelize({ dialect: 'sqlite', storage, logging, dialectOptions: { mode: sqlite3.OPEN_READONLY } });
  try {
    await reader.query('PRAGMA busy_timeout=5000', { type: QueryTypes.SELECT });
    await reader.query(`PRAGMA cache_size=${SQLITE_READER_CACHE_KIB}`, { type: QueryTypes.SELECT });
  } catch (err) {
    await reader.close();
    throw err;
  }
  return reader;
}

/** The file path (absolute) or `:memory:` named by a `sqlite:` URL; null for any other URL. */
function sqliteStorage(url: string): string | null {
  if (!url.startsWith('sqlite:')) return null;
  // `sqlite:///abs/file.db` is the common spelling of an absolute path; `sqlite:data/file.db` a relative one.
  const rest = url.slice('sqlite:'.length).replace(/^\/\//, '');
  if (rest === ':memory:') return rest;
  if (rest === '') throw new Error('a sqlite: URL needs a file path or :memory:');
  return path.resolve(rest);
}

async function tuneSqlite(sequelize: Sequelize, inMemory: boolean): Promise<void> {
  // WAL lets readers carry on while a revocation writes; it is meaningless (and refused) for :memory:.
  if (!inMemory) await sequelize.query('PRAGMA journal_mode=WAL', { type: QueryTypes.SELECT });
  // Another process on the same file waits for its lock instead of failing at once.
  await sequelize.query('PRAGMA busy_timeout=5000', { type: QueryTypes.SELECT });
  await sequelize.query(`PRAGMA cache_size=${SQLITE_WRITER_CACHE_KIB}`, { type: QueryTypes.SELECT });
}

// SQLite keeps 2 MiB of pages per connection by default. A million entries and their six indexes are hundreds
// of MiB, and each insert touches leaf pages all over them: at a million entries on a 2 MiB cache, renders ran at
// 441/s; with 64 MiB on each connection, 830/s, but the process then outgrew its 512 MB budget. The writer, whose
// inserts and revocations spread widest, gets 32 MiB; the reader, whose lookups mostly revisit the upper levels
// of the same indexes, 16 MiB. Negative sizes are in KiB.
const SQLITE_WRITER_CACHE_KIB = -32_768;
const SQLITE_READER_CACHE_KIB = -16_384;

async function migrate(sequelize: Sequelize, logging: boolean): Promise<void> {
  const umzug = new Umzug({
    migrations,
    context: sequelize.getQueryInterface(),
    storage: new SequelizeStorage({ sequelize, modelName: 'SchemaMigration', tableName: 'schema_migrations' }),
    logger: logging ? console : undefined,
  });
  await umzug.up();
}

// Any bigint works as long as nothing else locks it; this one is "PanelGrd" in ASCII. A string, because it exceeds 2^53.
const MIGRATION_LOCK_KEY = '5792031977662542436';

/**
 * Runs `apply` under a PostgreSQL advisory lock, so that nodes starting together migrate one after another:
 * the first applies the migrations, the others wait and then find them recorded.
 */
async function withMigrationLock(url: string, apply: () => Promise<void>): Promise<void> {
  // A dedicated connection, because the lock belongs to a session and sequelize's pool may hand out a different one per query.
  const client = new pg.Client({ connectionString: url });
  // A connection lost while migrating would otherwise be an unhandled 'error' event; the unlock then rejects instead.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await apply();
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  } finally {
    // Ending the session releases the lock too, which is what frees it when a migration failed.
    await client.end();
  }
}

/** BIGINT arrives as a number from SQLite and as a string from PostgreSQL. */
type DbInteger = number | string;

/** BOOLEAN is a TINYINT(1) on SQLite, so it arrives as 0 or 1 there, and as a boolean from PostgreSQL. */
type DbBoolean = boolean | number;

interface EntryRow {
  id_hash: string;
  client_key: string;
  account_id: string;
  resource: string;
  parent: string | null;
  created_at: DbInteger;
  expires_at: DbInteger;
  last_seen_at: DbInteger;
  ip: string | null;
  user_agent: string | null;
  revoked_at: DbInteger | null;
  revoke_reason: string | null;
  /** The chain columns: all null until the session first rotates. */
  chain_seq: DbInteger | null;
  chain_token_hash: string | null;
  chain_previous_hash: string | null;
  chain_rotated_at: DbInteger | null;
  chain_ip: string | null;
  chain_user_agent: string | null;
  bound_key: string | null;
}

interface PolicyRow {
  idle_timeout_seconds: DbInteger;
  absolute_lifetime_seconds: DbInteger;
  theft_response: string;
  agent_change_response: string;
  key_binding: DbBoolean;
}

/** A policy's columns read through a LEFT JOIN or a subquery: all null when the tenant has no policy row. */
type OptionalPolicyRow = { [Column in keyof PolicyRow]: PolicyRow[Column] | null };

const POLICY_COLUMNS = 'idle_timeout_seconds, absolute_lifetime_seconds, theft_response, agent_change_response, key_binding';

interface EntryStateRow extends EntryRow, OptionalPolicyRow {
  tenant_status: string | null;
  newest_removal_at: DbInteger | null;
}

interface CountRow {
  count: DbInteger;
}

interface TombstoneRow {
  client_key: string;
  kind: string;
  subject: string;
  removed_at: DbInteger;
  removed_event_at: DbInteger;
  lifted_at: DbInteger | null;
  last_event_at: DbInteger;
}

interface TenantRow {
  client_key: string;
  base_url: string;
  status: string;
  updated_at: DbInteger;
}

interface ValueRow {
  value: string;
}

interface NoteRow {
  id: string;
  client_key: string;
  issue_id: string;
  account_id: string;
  text: string;
  created_at: DbInteger;
}

interface AuditRow {
  id: DbInteger;
  at: DbInteger;
  kind: string;
  client_key: string | null;
  account_id: string | null;
  actor: string | null;
  reason: string | null;
  resource: string | null;
  count: DbInteger | null;
  confirmed: DbInteger | null;
  expected: DbInteger | null;
  /** JSON text; null on every record that is not a signal. */
  detail: string | null;
}

const ENTRY_COLUMNS = `id_hash, client_key, account_id, resource, parent, created_at, expires_at,
       last_seen_at, ip, user_agent, revoked_at, revoke_reason,
       chain_seq, chain_token_hash, chain_previous_hash, chain_rotated_at, chain_ip, chain_user_agent, bound_key`;

// A mint's one read: tenant, the user's tombstone, a removed resource or parent, and the policy, as scalar
// subqueries of a FROM-less SELECT (valid on SQLite and PostgreSQL), each served by a primary key.
const LOAD_MINT_STATE_SQL = `
SELECT
  (SELECT status FROM tenants WHERE client_key = $clientKey) AS tenant_status,
  (SELECT COUNT(*) FROM tombstones WHERE client_key = $clientKey AND kind = 'user' AND subject = $accountId) AS user_removed,
  (SELECT removed_event_at FROM tombstones WHERE client_key = $clientKey AND kind = 'user' AND subject = $accountId) AS user_removed_event_at,
  (SELECT lifted_at FROM tombstones WHERE client_key = $clientKey AND kind = 'user' AND subject = $accountId) AS user_lifted_at,
  (SELECT COUNT(*) FROM tombstones WHERE client_key = $clientKey AND kind = 'resource' AND subject IN ($resource, $parent)) AS resources_removed,
  (SELECT idle_timeout_seconds FROM policies WHERE client_key = $clientKey) AS idle_timeout_seconds,
  (SELECT absolute_lifetime_seconds FROM policies WHERE client_key = $clientKey) AS absolute_lifetime_seconds,
  (SELECT theft_response FROM policies WHERE client_key = $clientKey) AS theft_response,
  (SELECT agent_change_response FROM policies WHERE client_key = $clientKey) AS agent_change_response,
  (SELECT key_binding FROM policies WHERE client_key = $clientKey) AS key_binding`;

interface MintStateRow extends OptionalPolicyRow {
  tenant_status: string | null;
  user_removed: DbInteger;
  user_removed_event_at: DbInteger | null;
  user_lifted_at: DbInteger | null;
  resources_removed: DbInteger;
}

// The check's one read on a cache miss: entry, tenant status, policy and newest applicable removal in a single round trip.
// Plain SQL with bound parameters, valid as written on SQLite and PostgreSQL; the tombstones primary key serves the subquery.
const LOAD_ENTRY_STATE_SQL = `
SELECT e.id_hash, e.client_key, e.account_id, e.resource, e.parent, e.created_at, e.expires_at,
       e.last_seen_at, e.ip, e.user_agent, e.revoked_at, e.revoke_reason,
       e.chain_seq, e.chain_token_hash, e.chain_previous_hash, e.chain_rotated_at, e.chain_ip, e.chain_user_agent, e.bound_key,
       t.status AS tenant_status,
       p.idle_timeout_seconds, p.absolute_lifetime_seconds, p.theft_response, p.agent_change_response, p.key_binding,
       (SELECT MAX(s.removed_at) FROM tombstones s
         WHERE s.client_key = e.client_key
           AND ((s.kind = 'user' AND s.subject = e.account_id)
             OR (s.kind = 'resource' AND (s.subject = e.resource OR s.subject = e.parent)))) AS newest_removal_at
  FROM allowlist_entries e
  LEFT JOIN tenants t ON t.client_key = e.client_key
  LEFT JOIN policies p ON p.client_key = e.client_key
 WHERE e.id_hash = $idHash`;

// In ENTRY_COLUMNS' order; the chain's fields are flattened into columns of their own.
const ENTRY_FIELDS = [
  'idHash', 'clientKey', 'accountId', 'resource', 'parent', 'createdAt', 'expiresAt', 'lastSeenAt', 'ip', 'userAgent', 'revokedAt', 'revokeReason',
  'chainSeq', 'chainTokenHash', 'chainPreviousHash', 'chainRotatedAt', 'chainIp', 'chainUserAgent', 'boundKey',
] as const;

function entryValue(entry: AllowlistEntry, field: (typeof ENTRY_FIELDS)[number]): BindValue {
  switch (field) {
    case 'chainSeq':
      return entry.chain?.seq ?? null;
    case 'chainTokenHash':
      return entry.chain?.tokenHash ?? null;
    case 'chainPreviousHash':
      return entry.chain?.previousHash ?? null;
    case 'chainRotatedAt':
      return entry.chain?.rotatedAt ?? null;
    case 'chainIp':
      return entry.chain?.ip ?? null;
    case 'chainUserAgent':
      return entry.chain?.userAgent ?? null;
    default:
      return entry[field];
  }
}

/**
 * The VALUES list of a multi-row INSERT: one row per record, each value bound as `$<field><row>`, never spliced
 * into the SQL. Field names come from the code, not from input.
 */
function multiRowValues<T>(records: readonly T[], fields: readonly string[], value: (record: T, field: string) => BindValue): { values: string; bind: Record<string, BindValue> } {
  const bind: Record<string, BindValue> = {};
  const rows = records.map((record, i) => {
    for (const field of fields) bind[`${field}${i}`] = value(record, field);
    return `(${fields.map((field) => `$${field}${i}`).join(', ')})`;
  });
  return { values: rows.join(', '), bind };
}

/** One INSERT of `entries`, all or none. */
function insertEntriesStatement(entries: readonly AllowlistEntry[]): { sql: string; bind: Record<string, BindValue> } {
  const { values, bind } = multiRowValues(entries, ENTRY_FIELDS, (entry, field) => entryValue(entry, field as (typeof ENTRY_FIELDS)[number]));
  return { sql: `INSERT INTO allowlist_entries (${ENTRY_COLUMNS}) VALUES ${values}`, bind };
}

const AUDIT_FIELDS = ['at', 'kind', 'clientKey', 'accountId', 'actor', 'reason', 'resource', 'count', 'confirmed', 'expected', 'detail'] as const;

function auditValue(record: AuditRecord, field: (typeof AUDIT_FIELDS)[number]): BindValue {
  if (field === 'confirmed') return record.confirmation?.confirmed ?? null;
  if (field === 'expected') return record.confirmation?.expected ?? null;
  if (field === 'detail') return record.detail ? encodeSignalDetail(record.detail) : null;
  return record[field];
}

/** Entries per INSERT at most: 19 values each, well under SQLite's limit on bound values (32,766). */
const INSERT_BATCH = 200;

// ON CONFLICT ... DO UPDATE is understood by SQLite (3.24+) and PostgreSQL (9.5+) alike.
// The leading comment is load-bearing: sequelize's SQLite dialect runs anything starting with
// "INSERT INTO" without returning rows, and this statement's RETURNING rows are its answer.
const PUT_TOMBSTONE_SQL = `/* conditional upsert */
INSERT INTO tombstones (client_key, kind, subject, removed_at, removed_event_at, lifted_at, last_event_at)
VALUES ($clientKey, $kind, $subject, $removedAt, $removedEventAt, $liftedAt, $lastEventAt)
ON CONFLICT (client_key, kind, subject) DO UPDATE SET
  removed_at = excluded.removed_at, removed_event_at = excluded.removed_event_at,
  lifted_at = excluded.lifted_at, last_event_at = excluded.last_event_at
WHERE tombstones.last_event_at < excluded.last_event_at
RETURNING client_key`;

// Both conditional upserts answer through RETURNING (hence the same load-bearing comment as above): a row
// comes back only when this call wrote it.
const CLAIM_ONCE_SQL = `/* conditional upsert */
INSERT INTO replay_ledger (kind, key, at, expires_at) VALUES ($kind, $key, $now, $expiresAt)
ON CONFLICT (kind, key) DO UPDATE SET at = excluded.at, expires_at = excluded.expires_at
WHERE replay_ledger.expires_at <= excluded.at
RETURNING kind`;

const ADVANCE_MARK_SQL = `/* conditional upsert */
INSERT INTO replay_ledger (kind, key, at, expires_at) VALUES ($kind, $key, $at, $never)
ON CONFLICT (kind, key) DO UPDATE SET at = excluded.at
WHERE replay_ledger.at <= excluded.at
RETURNING kind`;

// Oldest first, on the expires_at index, like the entry sweep.
const SWEEP_CLAIMS_SQL = `
DELETE FROM replay_ledger WHERE (kind, key) IN (
  SELECT kind, key FROM replay_ledger WHERE expires_at < $before ORDER BY expires_at LIMIT $limit)`;

/** A mark's expiry: marks are never swept. */
const NEVER = Number.MAX_SAFE_INTEGER;

const LINK_INSTALLATION_SQL = `
INSERT INTO forge_installations (installation_id, client_key, linked_at) VALUES ($installationId, $clientKey, $at)
ON CONFLICT (installation_id) DO UPDATE SET client_key = excluded.client_key, linked_at = excluded.linked_at`;

const PUT_TENANT_SQL = `
INSERT INTO tenants (client_key, base_url, status, updated_at)
VALUES ($clientKey, $baseUrl, $status, $updatedAt)
ON CONFLICT (client_key) DO UPDATE SET
  base_url = excluded.base_url, status = excluded.status, updated_at = excluded.updated_at`;

const PUT_POLICY_SQL = `
INSERT INTO policies (client_key, ${POLICY_COLUMNS}, updated_at)
VALUES ($clientKey, $idleTimeoutSeconds, $absoluteLifetimeSeconds, $theftResponse, $agentChangeResponse, $keyBinding, $updatedAt)
ON CONFLICT (client_key) DO UPDATE SET
  idle_timeout_seconds = excluded.idle_timeout_seconds,
  absolute_lifetime_seconds = excluded.absolute_lifetime_seconds,
  theft_response = excluded.theft_response,
  agent_change_response = excluded.agent_change_response,
  key_binding = excluded.key_binding,
  updated_at = excluded.updated_at`;

// Compare-and-set in the WHERE clause: of two nodes advancing one session from the same position, the second finds
// the row changed (PostgreSQL re-checks the condition once the first commits; SQLite writes one at a time) and
// changes nothing. The right-hand sides read the row as it was, so the token being replaced becomes the previous one.
const ADVANCE_TOKEN_SQL = `
UPDATE allowlist_entries
   SET chain_seq = $seq, chain_token_hash = $tokenHash, chain_previous_hash = COALESCE(chain_token_hash, id_hash),
       chain_rotated_at = $at, chain_ip = $ip, chain_user_agent = $userAgent
 WHERE id_hash = $idHash AND revoked_at IS NULL AND COALESCE(chain_seq, 0) = $fromSeq`;

// Matching a row already bound to this key too (a write of the same value) makes "now bound to this key" the row
// count of one statement, without a second read that a concurrent bind could slip between.
const BIND_KEY_SQL = `
UPDATE allowlist_entries SET bound_key = $thumbprint
 WHERE id_hash = $idHash AND revoked_at IS NULL AND (bound_key IS NULL OR bound_key = $thumbprint)`;

const SET_SETTING_SQL = `
INSERT INTO settings (client_key, key, value) VALUES ($clientKey, $key, $value)
ON CONFLICT (client_key, key) DO UPDATE SET value = excluded.value`;

// Neither PostgreSQL nor a stock SQLite accepts DELETE ... LIMIT, so the batch is bounded in a subquery.
// Oldest first, so that a sweep that falls behind catches up in expiry order; the expires_at index serves both.
const SWEEP_EXPIRED_SQL = `
DELETE FROM allowlist_entries WHERE id_hash IN (
  SELECT id_hash FROM allowlist_entries WHERE expires_at < $before ORDER BY expires_at LIMIT $limit)`;

// Same order (oldest first) and same index (at) as the expiry sweep, for the same reasons; id settles ties as appended.
const DELETE_AUDIT_BEFORE_SQL = `
DELETE FROM audit_log WHERE id IN (
  SELECT id FROM audit_log WHERE at < $before ORDER BY at, id LIMIT $limit)`;

const REVOKE_SQL = 'UPDATE allowlist_entries SET revoked_at = $at, revoke_reason = $reason WHERE revoked_at IS NULL AND ';

type BindValue = string | number | boolean | null;

/** The WHERE condition of a revocation and the values it binds (SQLite refuses a bound name its statement lacks). */
function revokeScope(scope: RevokeScope): { sql: string; bind: Record<string, BindValue> } {
  switch (scope.kind) {
    case 'token':
      return { sql: 'id_hash = $idHash', bind: { idHash: scope.idHash } };
    case 'session':
      return {
        sql: 'id_hash = $idHash AND client_key = $clientKey AND account_id = $accountId',
        bind: { idHash: scope.idHash, clientKey: scope.clientKey, accountId: scope.accountId },
      };
    case 'user': {
      const sql = 'client_key = $clientKey AND account_id = $accountId';
      const bind = { clientKey: scope.clientKey, accountId: scope.accountId };
      if (scope.except === undefined) return { sql, bind };
      return { sql: `${sql} AND id_hash <> $except`, bind: { ...bind, except: scope.except } };
    }
    case 'resource':
      return {
        sql: 'client_key = $clientKey AND (resource = $resource OR parent = $resource)',
        bind: { clientKey: scope.clientKey, resource: scope.resource },
      };
    case 'tenant':
      return { sql: 'client_key = $clientKey', bind: { clientKey: scope.clientKey } };
  }
}

/** Ids per touch statement: two bound values each, well inside SQLite's and PostgreSQL's parameter limits. */
const TOUCH_BATCH = 500;

/**
 * One UPDATE raising every listed entry's last_seen_at to its own time, never lowering it. CASE rather than a
 * VALUES join, which SQLite only took up in 3.33; the casts tell PostgreSQL what type the untyped parameters are.
 */
function touchStatement(batch: LastSeen[]): { sql: string; bind: Record<string, BindValue> } {
  const bind: Record<string, BindValue> = {};
  const ids: string[] = [];
  const whens: string[] = [];
  batch.forEach(({ idHash, lastSeenAt }, i) => {
    bind[`id${i}`] = idHash;
    bind[`at${i}`] = lastSeenAt;
    ids.push(`$id${i}`);
    whens.push(`WHEN $id${i} THEN CAST($at${i} AS BIGINT)`);
  });
  const seenAt = `CASE id_hash ${whens.join(' ')} END`;
  return {
    sql: `UPDATE allowlist_entries SET last_seen_at = ${seenAt} WHERE id_hash IN (${ids.join(', ')}) AND last_seen_at < ${seenAt}`,
    bind,
  };
}

/** The newest time per id: CASE takes the first match, so a batch may not name one id twice. */
function newestPerEntry(seen: LastSeen[]): LastSeen[] {
  const newest = new Map<string, EpochMs>();
  for (const { idHash, lastSeenAt } of seen) {
    const known = newest.get(idHash);
    if (known === undefined || lastSeenAt > known) newest.set(idHash, lastSeenAt);
  }
  return [...newest].map(([idHash, lastSeenAt]) => ({ idHash, lastSeenAt }));
}

export type SequelizeDialect = 'sqlite' | 'postgres';

export class SequelizeStore implements AppStore {
  /** Which database the store runs on; only PostgreSQL can `notify`. */
  readonly dialect: SequelizeDialect;
  private closed = false;
  private readonly pendingEntries: { entry: AllowlistEntry; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private writeEntries: Promise<void> | null = null;

  /** `reader`, when given, serves the reads that need no transaction: SQLite's second connection. */
  constructor(
    private readonly sequelize: Sequelize,
    private readonly reader: Sequelize | null = null,
  ) {
    this.dialect = sequelize.getDialect() === 'postgres' ? 'postgres' : 'sqlite';
  }

  /**
   * Group commit: while one INSERT is being written, the entries that arrive wait and then go together in the
   * next one. Each page render still resolves only once its entry is durable, but a busy node commits (and, on
   * SQLite, syncs the disk) once per batch rather than once per render.
   */
  async insertEntry(entry: AllowlistEntry): Promise<void> {
    this.db();
    return new Promise<void>((resolve, reject) => {
      this.pendingEntries.push({ entry, resolve, reject });
      this.writeEntries ??= this.insertPending().finally(() => {
        this.writeEntries = null;
      });
    });
  }

  private async insertPending(): Promise<void> {
    while (this.pendingEntries.length > 0) {
      const batch = this.pendingEntries.splice(0, INSERT_BATCH);
      try {
        const { sql, bind } = insertEntriesStatement(batch.map((p) => p.entry));
        await this.insert(sql, bind, 'allowlist entry');
        for (const p of batch) p.resolve();
      } catch (error) {
        if (batch.length === 1 || !(error instanceof DuplicateKeyError)) {
          for (const p of batch) p.reject(error);
          continue;
        }
        // One entry's duplicate must not fail the others: each goes again alone and answers for itself.
        for (const p of batch) {
          const { sql, bind } = insertEntriesStatement([p.entry]);
          await this.insert(sql, bind, 'allowlist entry').then(p.resolve, p.reject);
        }
      }
    }
  }

  async loadMintState(clientKey: string, accountId: string, resource: string, parent: string | null): Promise<MintState> {
    const [row] = await this.read<MintStateRow>(LOAD_MINT_STATE_SQL, { clientKey, accountId, resource, parent });
    if (!row) throw new Error('the mint state query returned no row');
    return {
      tenantStatus: row.tenant_status === null ? null : toTenantStatus(row.tenant_status),
      userRemoval:
        toNumber(row.user_removed) === 0
          ? null
          : { removedEventAt: toNumber(row.user_removed_event_at ?? 0), liftedAt: toNullableNumber(row.user_lifted_at) },
      resourceRemoved: toNumber(row.resources_removed) > 0,
      policy: toOptionalPolicy(row),
    };
  }

  async loadEntryState(idHash: string): Promise<EntryState | null> {
    const [row] = await this.read<EntryStateRow>(LOAD_ENTRY_STATE_SQL, { idHash });
    if (!row) return null;
    return {
      entry: toEntry(row),
      tenantStatus: row.tenant_status === null ? null : toTenantStatus(row.tenant_status),
      policy: toOptionalPolicy(row),
      newestRemovalAt: toNullableNumber(row.newest_removal_at),
    };
  }

  async revokeEntries(scope: RevokeScope, at: EpochMs, reason: string): Promise<number> {
    const { sql, bind } = revokeScope(scope);
    return this.db().query(REVOKE_SQL + sql, { bind: { ...bind, at, reason }, type: QueryTypes.BULKUPDATE });
  }

  async advanceToken(idHash: string, fromSeq: number, next: TokenAdvance): Promise<boolean> {
    const { seq, tokenHash, at, ip, userAgent } = next;
    const changed = await this.db().query(ADVANCE_TOKEN_SQL, {
      bind: { idHash, fromSeq, seq, tokenHash, at, ip, userAgent },
      type: QueryTypes.BULKUPDATE,
    });
    return changed === 1;
  }

  async bindKey(idHash: string, thumbprint: string): Promise<boolean> {
    const changed = await this.db().query(BIND_KEY_SQL, { bind: { idHash, thumbprint }, type: QueryTypes.BULKUPDATE });
    return changed === 1;
  }

  async sweepExpired(before: EpochMs, limit: number): Promise<number> {
    assertBatchLimit(limit);
    return this.db().query(SWEEP_EXPIRED_SQL, { bind: { before, limit }, type: QueryTypes.BULKDELETE });
  }

  async getTombstone(clientKey: string, kind: TombstoneKind, subject: string): Promise<Tombstone | null> {
    const [row] = await this.read<TombstoneRow>(
      `SELECT client_key, kind, subject, removed_at, removed_event_at, lifted_at, last_event_at
         FROM tombstones WHERE client_key = $clientKey AND kind = $kind AND subject = $subject`,
      { clientKey, kind, subject },
    );
    if (!row) return null;
    return {
      clientKey: row.client_key,
      kind: toTombstoneKind(row.kind),
      subject: row.subject,
      removedAt: toNumber(row.removed_at),
      removedEventAt: toNumber(row.removed_event_at),
      liftedAt: toNullableNumber(row.lifted_at),
      lastEventAt: toNumber(row.last_event_at),
    };
  }

  async putTombstone(tombstone: Tombstone): Promise<boolean> {
    // RETURNING yields the row only when it was inserted or the newer event replaced it.
    const written = await this.select<{ client_key: string }>(PUT_TOMBSTONE_SQL, { ...tombstone });
    return written.length > 0;
  }

  async touchEntries(seen: LastSeen[]): Promise<void> {
    const db = this.db();
    const newest = newestPerEntry(seen);
    // Each statement stands alone: raising a time is idempotent, so a batch cut short is finished by the next touch.
    for (let start = 0; start < newest.length; start += TOUCH_BATCH) {
      const { sql, bind } = touchStatement(newest.slice(start, start + TOUCH_BATCH));
      await db.query(sql, { bind, type: QueryTypes.BULKUPDATE });
    }
  }

  async listEntries(query: EntryQuery): Promise<EntryPage> {
    assertPageLimit(query.limit);
    const after = query.after === undefined ? null : decodeEntryCursor(query.after);
    const conditions = ['client_key = $clientKey', 'revoked_at IS NULL', 'expires_at > $now'];
    // One past the limit tells whether another page exists.
    const bind: Record<string, BindValue> = { clientKey: query.clientKey, now: query.now, limit: query.limit + 1 };
    if (query.accountId !== undefined) {
      conditions.push('account_id = $accountId');
      bind.accountId = query.accountId;
    }
    if (query.resource !== undefined) {
      conditions.push('resource = $resource');
      bind.resource = query.resource;
    }
    if (after !== null) {
      // The leading `<=` bounds the index range, so a deep page starts where the last one ended instead of filtering its way there.
      conditions.push('created_at <= $afterCreatedAt AND (created_at < $afterCreatedAt OR id_hash < $afterIdHash)');
      bind.afterCreatedAt = after.createdAt;
      bind.afterIdHash = after.idHash;
    }
    const rows = await this.read<EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM allowlist_entries
        WHERE ${conditions.join(' AND ')} ORDER BY created_at DESC, id_hash DESC LIMIT $limit`,
      bind,
    );
    const entries = rows.slice(0, query.limit).map(toEntry);
    const last = entries[entries.length - 1];
    return { entries, next: rows.length > query.limit && last ? encodeEntryCursor(last) : null };
  }

  async countLiveEntries(now: EpochMs, clientKey?: string): Promise<number> {
    const live = 'SELECT COUNT(*) AS count FROM allowlist_entries WHERE revoked_at IS NULL AND expires_at > $now';
    const [row] =
      clientKey === undefined
        ? await this.read<CountRow>(live, { now })
        : await this.read<CountRow>(`${live} AND client_key = $clientKey`, { now, clientKey });
    return row ? toNumber(row.count) : 0;
  }

  async isKnownUser(clientKey: string, accountId: string): Promise<boolean> {
    // The first row found answers; the entries index (client_key, account_id) and the tombstones primary key serve the two halves.
    const rows = await this.read<{ known: DbInteger }>(
      `SELECT 1 AS known FROM allowlist_entries WHERE client_key = $clientKey AND account_id = $accountId
       UNION ALL
       SELECT 1 AS known FROM tombstones WHERE client_key = $clientKey AND kind = 'user' AND subject = $accountId
       LIMIT 1`,
      { clientKey, accountId },
    );
    return rows.length > 0;
  }

  async getPolicy(clientKey: string): Promise<Policy | null> {
    const [row] = await this.read<PolicyRow>(`SELECT ${POLICY_COLUMNS} FROM policies WHERE client_key = $clientKey`, { clientKey });
    return row ? toPolicy(row) : null;
  }

  async putPolicy(clientKey: string, policy: Policy, at: EpochMs): Promise<void> {
    await this.insert(
      PUT_POLICY_SQL,
      {
        clientKey,
        idleTimeoutSeconds: policy.idleTimeoutSeconds,
        absoluteLifetimeSeconds: policy.absoluteLifetimeSeconds,
        theftResponse: policy.theftResponse,
        agentChangeResponse: policy.agentChangeResponse,
        keyBinding: policy.keyBinding,
        updatedAt: at,
      },
      'policy',
    );
  }

  async getTenant(clientKey: string): Promise<Tenant | null> {
    const [row] = await this.read<TenantRow>(
      'SELECT client_key, base_url, status, updated_at FROM tenants WHERE client_key = $clientKey',
      { clientKey },
    );
    if (!row) return null;
    return {
      clientKey: row.client_key,
      baseUrl: row.base_url,
      status: toTenantStatus(row.status),
      updatedAt: toNumber(row.updated_at),
    };
  }

  async putTenant(tenant: Tenant): Promise<void> {
    await this.insert(PUT_TENANT_SQL, { ...tenant }, 'tenant');
  }

  async claimOnce(kind: string, key: string, expiresAt: EpochMs, now: EpochMs): Promise<boolean> {
    const written = await this.select<{ kind: string }>(CLAIM_ONCE_SQL, { kind, key, now, expiresAt });
    return written.length > 0;
  }

  async isClaimed(kind: string, key: string, now: EpochMs): Promise<boolean> {
    const rows = await this.read<{ kind: string }>(
      'SELECT kind FROM replay_ledger WHERE kind = $kind AND key = $key AND expires_at > $now',
      { kind, key, now },
    );
    return rows.length > 0;
  }

  async releaseClaim(kind: string, key: string): Promise<void> {
    await this.db().query('DELETE FROM replay_ledger WHERE kind = $kind AND key = $key', {
      bind: { kind, key },
      type: QueryTypes.BULKDELETE,
    });
  }

  async advanceMark(kind: string, key: string, at: EpochMs): Promise<boolean> {
    const written = await this.select<{ kind: string }>(ADVANCE_MARK_SQL, { kind, key, at, never: NEVER });
    return written.length > 0;
  }

  async sweepClaims(before: EpochMs, limit: number): Promise<number> {
    assertBatchLimit(limit);
    return this.db().query(SWEEP_CLAIMS_SQL, { bind: { before, limit }, type: QueryTypes.BULKDELETE });
  }

  async linkInstallation(installationId: string, clientKey: string, at: EpochMs): Promise<void> {
    await this.insert(LINK_INSTALLATION_SQL, { installationId, clientKey, at }, 'forge installation');
  }

  async linkedTenant(installationId: string): Promise<string | null> {
    const [row] = await this.read<{ client_key: string }>(
      'SELECT client_key FROM forge_installations WHERE installation_id = $installationId',
      { installationId },
    );
    return row?.client_key ?? null;
  }

  async getSetting(clientKey: string, key: string): Promise<unknown | null> {
    const [row] = await this.read<ValueRow>(
      'SELECT value FROM settings WHERE client_key = $clientKey AND key = $key',
      { clientKey, key },
    );
    return row ? decodeSettingValue(row.value) : null;
  }

  async setSetting(clientKey: string, key: string, value: unknown): Promise<void> {
    await this.insert(SET_SETTING_SQL, { clientKey, key, value: encodeSettingValue(value) }, 'setting');
  }

  async deleteSetting(clientKey: string, key: string): Promise<void> {
    await this.db().query('DELETE FROM settings WHERE client_key = $clientKey AND key = $key', {
      bind: { clientKey, key },
      type: QueryTypes.BULKDELETE,
    });
  }

  async listSettings(key: string): Promise<unknown[]> {
    const rows = await this.read<ValueRow>('SELECT value FROM settings WHERE key = $key ORDER BY client_key', { key });
    return rows.map((row) => decodeSettingValue(row.value));
  }

  async listNotes(clientKey: string, issueId: string): Promise<Note[]> {
    const rows = await this.read<NoteRow>(
      `SELECT id, client_key, issue_id, account_id, text, created_at FROM notes
        WHERE client_key = $clientKey AND issue_id = $issueId ORDER BY created_at, id`,
      { clientKey, issueId },
    );
    return rows.map((row) => ({
      id: row.id,
      clientKey: row.client_key,
      issueId: row.issue_id,
      accountId: row.account_id,
      text: row.text,
      createdAt: toNumber(row.created_at),
    }));
  }

  async addNote(note: Note): Promise<void> {
    await this.insert(
      `INSERT INTO notes (id, client_key, issue_id, account_id, text, created_at)
       VALUES ($id, $clientKey, $issueId, $accountId, $text, $createdAt)`,
      { ...note },
      'note',
    );
  }

  async appendAudit(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    // One multi-row statement: a single commit for the whole batch, and atomic without a transaction.
    const { values, bind } = multiRowValues(records, AUDIT_FIELDS, (record, field) => auditValue(record, field as (typeof AUDIT_FIELDS)[number]));
    await this.insert(
      `INSERT INTO audit_log (at, kind, client_key, account_id, actor, reason, resource, count, confirmed, expected, detail) VALUES ${values}`,
      bind,
      'audit record',
    );
  }

  async listAudit(query: AuditQuery): Promise<AuditPage> {
    assertPageLimit(query.limit);
    const conditions = ['client_key = $clientKey'];
    // One past the limit tells whether another page exists.
    const bind: Record<string, BindValue> = { clientKey: query.clientKey, limit: query.limit + 1 };
    const filters: Array<[keyof AuditQuery, string]> = [
      ['kind', 'kind = $kind'],
      ['accountId', 'account_id = $accountId'],
      ['since', 'at >= $since'],
      ['until', 'at < $until'],
      ['before', 'id < $before'],
    ];
    for (const [name, condition] of filters) {
      const value = query[name];
      if (value === undefined) continue;
      conditions.push(condition);
      bind[name] = value;
    }
    // Ids grow with appends (SQLite's INTEGER PRIMARY KEY, PostgreSQL's BIGSERIAL), so id order is newest first.
    const rows = await this.read<AuditRow>(
      `SELECT id, at, kind, client_key, account_id, actor, reason, resource, count, confirmed, expected, detail FROM audit_log
        WHERE ${conditions.join(' AND ')} ORDER BY id DESC LIMIT $limit`,
      bind,
    );
    const records = rows.slice(0, query.limit).map(toStoredAudit);
    const last = records[records.length - 1];
    return { records, nextBefore: rows.length > query.limit && last ? last.id : null };
  }

  async deleteAuditBefore(before: EpochMs, limit: number): Promise<number> {
    assertBatchLimit(limit);
    return this.db().query(DELETE_AUDIT_BEFORE_SQL, { bind: { before, limit }, type: QueryTypes.BULKDELETE });
  }

  async ping(): Promise<void> {
    await this.select<{ one: DbInteger }>('SELECT 1 AS one', {});
    await this.read<{ one: DbInteger }>('SELECT 1 AS one', {});
  }

  /**
   * Sends a PostgreSQL NOTIFY through the store's own pool, for the postgres bus to publish with. Every session
   * LISTENing on `channel` in this database receives it; PostgreSQL refuses payloads of 8000 bytes or more.
   */
  async notify(channel: string, payload: string): Promise<void> {
    const db = this.db();
    if (this.dialect !== 'postgres') throw new Error('notify needs PostgreSQL');
    await db.query('SELECT pg_notify($channel, $payload)', { bind: { channel, payload }, type: QueryTypes.SELECT });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.reader?.close();
    await this.sequelize.close();
  }

  // SQLite's driver would quietly reopen the file on the next query; a closed store must refuse instead.
  private db(): Sequelize {
    if (this.closed) throw new StoreClosedError();
    return this.sequelize;
  }

  /** A statement that returns rows, on the writing connection: a write with RETURNING, say. */
  private async select<Row extends object>(sql: string, bind: Record<string, BindValue>): Promise<Row[]> {
    return this.db().query<Row>(sql, { bind, type: QueryTypes.SELECT });
  }

  /** A plain read: on the reading connection where there is one. */
  private async read<Row extends object>(sql: string, bind: Record<string, BindValue>): Promise<Row[]> {
    const db = this.db();
    return (this.reader ?? db).query<Row>(sql, { bind, type: QueryTypes.SELECT });
  }

  private async insert(sql: string, bind: Record<string, BindValue>, what: string): Promise<void> {
    try {
      await this.db().query(sql, { bind, type: QueryTypes.INSERT });
    } catch (err) {
      if (err instanceof UniqueConstraintError) throw new DuplicateKeyError(what);
      throw err;
    }
  }
}

function toEntry(row: EntryRow): AllowlistEntry {
  return {
    idHash: row.id_hash,
    clientKey: row.client_key,
    accountId: row.account_id,
    resource: row.resource,
    parent: row.parent,
    createdAt: toNumber(row.created_at),
    expiresAt: toNumber(row.expires_at),
    lastSeenAt: toNumber(row.last_seen_at),
    ip: row.ip,
    userAgent: row.user_agent,
    revokedAt: toNullableNumber(row.revoked_at),
    revokeReason: row.revoke_reason,
    chain: toChain(row),
    boundKey: row.bound_key,
  };
}

// The chain's columns are written together; some without the others can only be a bug, refused like half a confirmation.
function toChain(row: EntryRow): ChainPosition | null {
  const { chain_seq: seq, chain_token_hash: tokenHash, chain_previous_hash: previousHash, chain_rotated_at: rotatedAt } = row;
  if (seq === null && tokenHash === null && previousHash === null && rotatedAt === null) return null;
  if (seq === null || tokenHash === null || previousHash === null || rotatedAt === null) {
    throw new Error('allowlist entry in store has part of a chain position');
  }
  return {
    seq: toNumber(seq),
    tokenHash,
    previousHash,
    rotatedAt: toNumber(rotatedAt),
    ip: row.chain_ip,
    userAgent: row.chain_user_agent,
  };
}

function toStoredAudit(row: AuditRow): StoredAuditRecord {
  return {
    id: toNumber(row.id),
    at: toNumber(row.at),
    kind: toAuditKind(row.kind),
    clientKey: row.client_key,
    accountId: row.account_id,
    actor: row.actor,
    reason: row.reason,
    resource: row.resource,
    count: toNullableNumber(row.count),
    confirmation: toConfirmation(row.confirmed, row.expected),
    // Absent rather than null when there is none, as the records without one were appended.
    ...(row.detail === null ? {} : { detail: decodeSignalDetail(row.detail) }),
  };
}

function toPolicy(row: PolicyRow): Policy {
  return {
    idleTimeoutSeconds: toNumber(row.idle_timeout_seconds),
    absoluteLifetimeSeconds: toNumber(row.absolute_lifetime_seconds),
    theftResponse: toTheftResponse(row.theft_response),
    agentChangeResponse: toTheftResponse(row.agent_change_response),
    keyBinding: toBoolean(row.key_binding),
  };
}

// Every policy column is NOT NULL, so one null means the join found no row.
function toOptionalPolicy(row: OptionalPolicyRow): Policy | null {
  const { idle_timeout_seconds, absolute_lifetime_seconds, theft_response, agent_change_response, key_binding } = row;
  if (idle_timeout_seconds === null || absolute_lifetime_seconds === null || theft_response === null || agent_change_response === null || key_binding === null) {
    return null;
  }
  return toPolicy({ idle_timeout_seconds, absolute_lifetime_seconds, theft_response, agent_change_response, key_binding });
}

function assertBatchLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit <= 0) throw new RangeError('limit must be a positive integer');
}

// The two columns are written together; one without the other can only be a bug, refused like an unknown kind.
function toConfirmation(confirmed: DbInteger | null, expected: DbInteger | null): Confirmation | null {
  if (confirmed === null && expected === null) return null;
  if (confirmed === null || expected === null) throw new Error('audit record in store has half a confirmation');
  return { confirmed: toNumber(confirmed), expected: toNumber(expected) };
}

function toNumber(value: DbInteger): number {
  return typeof value === 'number' ? value : Number(value);
}

function toNullableNumber(value: DbInteger | null): number | null {
  return value === null ? null : toNumber(value);
}

function toBoolean(value: DbBoolean): boolean {
  if (value === true || value === 1) return true;
  if (value === false || value === 0) return false;
  throw new Error(`unknown boolean in store: ${String(value)}`);
}

const TENANT_STATUSES: readonly TenantStatus[] = ['enabled', 'disabled', 'uninstalled'];
const TOMBSTONE_KINDS: readonly TombstoneKind[] = ['user', 'resource'];
const THEFT_RESPONSES: readonly TheftResponse[] = ['revoke', 'report'];

// Rows are text to the database; these turn them back into the core's unions, refusing anything a bug may have written.
function oneOf<T extends string>(allowed: readonly T[], value: string, what: string): T {
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw new Error(`unknown ${what} in store: ${value}`);
  return found;
}

function toTenantStatus(value: string): TenantStatus {
  return oneOf(TENANT_STATUSES, value, 'tenant status');
}

function toTombstoneKind(value: string): TombstoneKind {
  return oneOf(TOMBSTONE_KINDS, value, 'tombstone kind');
}

function toAuditKind(value: string): AuditKind {
  return oneOf(AUDIT_KINDS, value, 'audit kind');
}

function toTheftResponse(value: string): TheftResponse {
  return oneOf(THEFT_RESPONSES, value, 'theft response');
}
