/**
 * The SQL the durable store runs, valid as written on SQLite and PostgreSQL: every statement's text, and the
 * builders of those whose shape depends on their input. Values are always bound (`$name`), never spliced in.
 */
import type { AllowlistEntry, AuditQuery, AuditRecord, EntryQuery, EpochMs, LastSeen, RevocationNotice, RevokeScope } from '../../allowlist/types';
import type { SetState } from '../../signals/ssf-transmitter/outbox';
import type { EntryCursor } from '../paging';
import { encodeSignalDetail } from '../signal-detail';

export type BindValue = string | number | boolean | null;

/** A statement and the values it binds (SQLite refuses a bound name its statement lacks). */
export interface Statement {
  sql: string;
  bind: Record<string, BindValue>;
}

// Entries: written at mint, read at check, ended at revoke, touched by use, swept after expiry, listed.

const ENTRY_COLUMNS = `id_hash, client_key, account_id, resource, parent, created_at, expires_at,
       last_seen_at, ip, user_agent, revoked_at, revoke_reason,
       chain_seq, chain_token_hash, chain_previous_hash, chain_rotated_at, chain_ip, chain_user_agent, bound_key`;

const POLICY_COLUMNS = 'idle_timeout_seconds, absolute_lifetime_seconds, theft_response, agent_change_response, key_binding';

// A mint's one read: tenant, the user's tombstone, a removed resource or parent, and the policy, as scalar
// subqueries of a FROM-less SELECT (valid on SQLite and PostgreSQL), each served by a primary key.
export const LOAD_MINT_STATE = `
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

// The check's one read on a cache miss: entry, tenant status, policy and newest applicable removal in a single round trip.
// Plain SQL with bound parameters, valid as written on SQLite and PostgreSQL; the tombstones primary key serves the subquery.
export const LOAD_ENTRY_STATE = `
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

/** Entries per INSERT at most: 19 values each, well under SQLite's limit on bound values (32,766). */
export const INSERT_BATCH = 200;

/** One INSERT of `entries`, all or none. */
export function insertEntries(entries: readonly AllowlistEntry[]): Statement {
  const { values, bind } = multiRowValues(entries, ENTRY_FIELDS, (entry, field) => entryValue(entry, field as (typeof ENTRY_FIELDS)[number]));
  return { sql: `INSERT INTO allowlist_entries (${ENTRY_COLUMNS}) VALUES ${values}`, bind };
}

const REVOKE_LIVE = 'UPDATE allowlist_entries SET revoked_at = $at, revoke_reason = $reason WHERE revoked_at IS NULL AND ';

/** The UPDATE that revokes every live entry in `scope`. */
export function revokeEntries(scope: RevokeScope, at: EpochMs, reason: string): Statement {
  const { sql, bind } = revokeScope(scope);
  return { sql: REVOKE_LIVE + sql, bind: { ...bind, at, reason } };
}

/** The WHERE condition of a revocation and the values it binds. */
function revokeScope(scope: RevokeScope): Statement {
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

// Compare-and-set in the WHERE clause: of two nodes advancing one session from the same position, the second finds
// the row changed (PostgreSQL re-checks the condition once the first commits; SQLite writes one at a time) and
// changes nothing. The right-hand sides read the row as it was, so the token being replaced becomes the previous one.
export const ADVANCE_TOKEN = `
UPDATE allowlist_entries
   SET chain_seq = $seq, chain_token_hash = $tokenHash, chain_previous_hash = COALESCE(chain_token_hash, id_hash),
       chain_rotated_at = $at, chain_ip = $ip, chain_user_agent = $userAgent
 WHERE id_hash = $idHash AND revoked_at IS NULL AND COALESCE(chain_seq, 0) = $fromSeq`;

// Matching a row already bound to this key too (a write of the same value) makes "now bound to this key" the row
// count of one statement, without a second read that a concurrent bind could slip between.
export const BIND_KEY = `
UPDATE allowlist_entries SET bound_key = $thumbprint
 WHERE id_hash = $idHash AND revoked_at IS NULL AND (bound_key IS NULL OR bound_key = $thumbprint)`;

/** Ids per touch statement: two bound values each, well inside SQLite's and PostgreSQL's parameter limits. */
const TOUCH_BATCH = 500;

/**
 * The UPDATEs that raise each entry's last_seen_at to its newest time in `seen`. Each stands alone: raising a time
 * is idempotent, so a batch cut short is finished by the next touch. Made one at a time as they are asked for:
 * building every statement of a large flush at once held the event loop for 10–36 ms (10,000–30,000 tokens),
 * in the way of the checks the flush runs beside.
 */
export function* touchEntries(seen: LastSeen[]): Generator<Statement, void, undefined> {
  const newest = newestPerEntry(seen);
  for (let start = 0; start < newest.length; start += TOUCH_BATCH) yield touchStatement(newest.slice(start, start + TOUCH_BATCH));
}

/**
 * One UPDATE raising every listed entry's last_seen_at to its own time, never lowering it. CASE rather than a
 * VALUES join, which SQLite only took up in 3.33; the casts tell PostgreSQL what type the untyped parameters are.
 */
function touchStatement(batch: LastSeen[]): Statement {
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

// Neither PostgreSQL nor a stock SQLite accepts DELETE ... LIMIT, so the batch is bounded in a subquery.
// Oldest first, so that a sweep that falls behind catches up in expiry order; the expires_at index serves both.
export const SWEEP_EXPIRED = `
DELETE FROM allowlist_entries WHERE id_hash IN (
  SELECT id_hash FROM allowlist_entries WHERE expires_at < $before ORDER BY expires_at LIMIT $limit)`;

/** A page of a tenant's live entries after `after` (the previous page's end), one more than the limit to tell whether another follows. */
export function listEntries(query: EntryQuery, after: EntryCursor | null): Statement {
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
  return {
    sql: `SELECT ${ENTRY_COLUMNS} FROM allowlist_entries
        WHERE ${conditions.join(' AND ')} ORDER BY created_at DESC, id_hash DESC LIMIT $limit`,
    bind,
  };
}

export const COUNT_LIVE = 'SELECT COUNT(*) AS count FROM allowlist_entries WHERE revoked_at IS NULL AND expires_at > $now';
export const COUNT_LIVE_IN_TENANT = `${COUNT_LIVE} AND client_key = $clientKey`;

// The first row found answers; the entries index (client_key, account_id) and the tombstones primary key serve the two halves.
export const IS_KNOWN_USER = `SELECT 1 AS known FROM allowlist_entries WHERE client_key = $clientKey AND account_id = $accountId
       UNION ALL
       SELECT 1 AS known FROM tombstones WHERE client_key = $clientKey AND kind = 'user' AND subject = $accountId
       LIMIT 1`;

// Leak reports: sessions by any token of theirs a report may name, the first (the primary key), the current or the
// previous (0008's partial indexes). Three SELECTs, each served by its own index on both databases whatever either
// planner would make of an OR over three columns; an entry two of them find comes back twice, and the store keeps one.

/**
 * Hashes per lookup statement, each bound once and named three times. Small, because SQLite finds a named value's
 * slot by walking the statement's names: 1,000 per statement matched a million reports in twice the time of 200.
 */
export const LOOKUP_BATCH = 200;

/** The SELECT of every entry one of `hashes` (at most LOOKUP_BATCH) names. */
export function findByTokenHashes(hashes: readonly string[]): Statement {
  const bind: Record<string, BindValue> = {};
  const names = hashes.map((hash, i) => {
    bind[`h${i}`] = hash;
    return `$h${i}`;
  });
  const list = names.join(', ');
  const select = (column: string) => `SELECT ${ENTRY_COLUMNS} FROM allowlist_entries WHERE ${column} IN (${list})`;
  return { sql: [select('id_hash'), select('chain_token_hash'), select('chain_previous_hash')].join('\nUNION ALL\n'), bind };
}

// Tombstones.

export const GET_TOMBSTONE = `SELECT client_key, kind, subject, removed_at, removed_event_at, lifted_at, last_event_at
         FROM tombstones WHERE client_key = $clientKey AND kind = $kind AND subject = $subject`;

// ON CONFLICT ... DO UPDATE is understood by SQLite (3.24+) and PostgreSQL (9.5+) alike.
// The leading comment is load-bearing: sequelize's SQLite dialect runs anything starting with
// "INSERT INTO" without returning rows, and this statement's RETURNING rows are its answer.
export const PUT_TOMBSTONE = `/* conditional upsert */
INSERT INTO tombstones (client_key, kind, subject, removed_at, removed_event_at, lifted_at, last_event_at)
VALUES ($clientKey, $kind, $subject, $removedAt, $removedEventAt, $liftedAt, $lastEventAt)
ON CONFLICT (client_key, kind, subject) DO UPDATE SET
  removed_at = excluded.removed_at, removed_event_at = excluded.removed_event_at,
  lifted_at = excluded.lifted_at, last_event_at = excluded.last_event_at
WHERE tombstones.last_event_at < excluded.last_event_at
RETURNING client_key`;

// Tenants and their policies.

export const GET_TENANT = 'SELECT client_key, base_url, status, updated_at FROM tenants WHERE client_key = $clientKey';

export const PUT_TENANT = `
INSERT INTO tenants (client_key, base_url, status, updated_at)
VALUES ($clientKey, $baseUrl, $status, $updatedAt)
ON CONFLICT (client_key) DO UPDATE SET
  base_url = excluded.base_url, status = excluded.status, updated_at = excluded.updated_at`;

export const GET_POLICY = `SELECT ${POLICY_COLUMNS} FROM policies WHERE client_key = $clientKey`;

export const PUT_POLICY = `
INSERT INTO policies (client_key, ${POLICY_COLUMNS}, updated_at)
VALUES ($clientKey, $idleTimeoutSeconds, $absoluteLifetimeSeconds, $theftResponse, $agentChangeResponse, $keyBinding, $updatedAt)
ON CONFLICT (client_key) DO UPDATE SET
  idle_timeout_seconds = excluded.idle_timeout_seconds,
  absolute_lifetime_seconds = excluded.absolute_lifetime_seconds,
  theft_response = excluded.theft_response,
  agent_change_response = excluded.agent_change_response,
  key_binding = excluded.key_binding,
  updated_at = excluded.updated_at`;

// The replay ledger. Both conditional upserts answer through RETURNING (hence the same load-bearing comment as
// PUT_TOMBSTONE's): a row comes back only when this call wrote it.

export const CLAIM_ONCE = `/* conditional upsert */
INSERT INTO replay_ledger (kind, key, at, expires_at) VALUES ($kind, $key, $now, $expiresAt)
ON CONFLICT (kind, key) DO UPDATE SET at = excluded.at, expires_at = excluded.expires_at
WHERE replay_ledger.expires_at <= excluded.at
RETURNING kind`;

export const IS_CLAIMED = 'SELECT kind FROM replay_ledger WHERE kind = $kind AND key = $key AND expires_at > $now';

export const RELEASE_CLAIM = 'DELETE FROM replay_ledger WHERE kind = $kind AND key = $key';

export const ADVANCE_MARK = `/* conditional upsert */
INSERT INTO replay_ledger (kind, key, at, expires_at) VALUES ($kind, $key, $at, $never)
ON CONFLICT (kind, key) DO UPDATE SET at = excluded.at
WHERE replay_ledger.at <= excluded.at
RETURNING kind`;

/** A mark's expiry: marks are never swept. */
export const NEVER = Number.MAX_SAFE_INTEGER;

// Oldest first, on the expires_at index, like the entry sweep.
export const SWEEP_CLAIMS = `
DELETE FROM replay_ledger WHERE (kind, key) IN (
  SELECT kind, key FROM replay_ledger WHERE expires_at < $before ORDER BY expires_at LIMIT $limit)`;

// Forge installations.

export const LINK_INSTALLATION = `
INSERT INTO forge_installations (installation_id, client_key, linked_at) VALUES ($installationId, $clientKey, $at)
ON CONFLICT (installation_id) DO UPDATE SET client_key = excluded.client_key, linked_at = excluded.linked_at`;

export const LINKED_TENANT = 'SELECT client_key FROM forge_installations WHERE installation_id = $installationId';

// Shared Signals streams.

const STREAM_COLUMNS = 'id, client_key, issuer, audience, subjects, created_at, verified_at';

// One issuer and audience name one stream: a pair already taken inserts nothing and returns no row (the leading
// comment is PUT_TOMBSTONE's load-bearing one: the RETURNING row is the answer).
export const INSERT_STREAM = `/* conditional insert */
INSERT INTO ssf_streams (${STREAM_COLUMNS}) VALUES ($id, $clientKey, $issuer, $audience, $subjects, $createdAt, $verifiedAt)
ON CONFLICT DO NOTHING
RETURNING id`;

export const LIST_STREAMS = `SELECT ${STREAM_COLUMNS} FROM ssf_streams WHERE client_key = $clientKey ORDER BY created_at, id`;

export const STREAMS_OF_ISSUER = `SELECT ${STREAM_COLUMNS} FROM ssf_streams WHERE issuer = $issuer ORDER BY created_at, id`;

export const DELETE_STREAM = 'DELETE FROM ssf_streams WHERE client_key = $clientKey AND id = $id';

export const MARK_STREAM_VERIFIED = 'UPDATE ssf_streams SET verified_at = $at WHERE id = $id';

// ACE's settings.

export const GET_SETTING = 'SELECT value FROM settings WHERE client_key = $clientKey AND key = $key';

export const SET_SETTING = `
INSERT INTO settings (client_key, key, value) VALUES ($clientKey, $key, $value)
ON CONFLICT (client_key, key) DO UPDATE SET value = excluded.value`;

export const DELETE_SETTING = 'DELETE FROM settings WHERE client_key = $clientKey AND key = $key';

export const LIST_SETTINGS = 'SELECT value FROM settings WHERE key = $key ORDER BY client_key';

// Notes.

export const LIST_NOTES = `SELECT id, client_key, issue_id, account_id, text, created_at FROM notes
        WHERE client_key = $clientKey AND issue_id = $issueId ORDER BY created_at, id`;

export const ADD_NOTE = `INSERT INTO notes (id, client_key, issue_id, account_id, text, created_at)
       VALUES ($id, $clientKey, $issueId, $accountId, $text, $createdAt)`;

// The audit log.

const AUDIT_FIELDS = ['at', 'kind', 'clientKey', 'accountId', 'actor', 'reason', 'resource', 'count', 'confirmed', 'expected', 'detail'] as const;

function auditValue(record: AuditRecord, field: (typeof AUDIT_FIELDS)[number]): BindValue {
  if (field === 'confirmed') return record.confirmation?.confirmed ?? null;
  if (field === 'expected') return record.confirmation?.expected ?? null;
  if (field === 'detail') return record.detail ? encodeSignalDetail(record.detail) : null;
  return record[field];
}

/** One multi-row INSERT of `records`: a single commit for the whole batch, and atomic without a transaction. */
export function appendAudit(records: readonly AuditRecord[]): Statement {
  const { values, bind } = multiRowValues(records, AUDIT_FIELDS, (record, field) => auditValue(record, field as (typeof AUDIT_FIELDS)[number]));
  return {
    sql: `INSERT INTO audit_log (at, kind, client_key, account_id, actor, reason, resource, count, confirmed, expected, detail) VALUES ${values}`,
    bind,
  };
}

/** A page of a tenant's audit records, newest first, one more than the limit to tell whether another follows. */
export function listAudit(query: AuditQuery): Statement {
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
  return {
    sql: `SELECT id, at, kind, client_key, account_id, actor, reason, resource, count, confirmed, expected, detail FROM audit_log
        WHERE ${conditions.join(' AND ')} ORDER BY id DESC LIMIT $limit`,
    bind,
  };
}

// Same order (oldest first) and same index (at) as the expiry sweep, for the same reasons; id settles ties as appended.
export const DELETE_AUDIT_BEFORE = `
DELETE FROM audit_log WHERE id IN (
  SELECT id FROM audit_log WHERE at < $before ORDER BY at, id LIMIT $limit)`;

// Reconciliation and personal data reporting (src/signals). Each pages by a string cursor ('' before the first).

export const LIST_TENANTS = `SELECT client_key FROM tenants WHERE status = $status AND client_key > $after
       ORDER BY client_key LIMIT $limit`;

// The entries index (client_key, account_id) walks one tenant's users in order; each row's liveness is read beside it.
export const LIST_LIVE_USERS = `SELECT DISTINCT account_id FROM allowlist_entries
       WHERE client_key = $clientKey AND account_id > $after AND revoked_at IS NULL AND expires_at > $now
       ORDER BY account_id LIMIT $limit`;

// Entries (IP and browser at mint, last use) and notes, per user, each half on its (client_key, account_id) index.
export const LIST_DATA_HOLDERS = `SELECT account_id, MAX(updated_at) AS updated_at FROM (
         SELECT account_id, last_seen_at AS updated_at FROM allowlist_entries WHERE client_key = $clientKey AND account_id > $after
         UNION ALL
         SELECT account_id, created_at AS updated_at FROM notes WHERE client_key = $clientKey AND account_id > $after
       ) held GROUP BY account_id ORDER BY account_id LIMIT $limit`;
// Shared Signals: each site's receivers, and the outbox that revocations fill and the push worker empties.

const RECEIVER_COLUMNS = 'id, client_key, endpoint_url, audience, authorization_header, created_at, updated_at';

const OUTBOX_COLUMNS = `notice_id, receiver_id, client_key, base_url, account_id, session_id, actor, reason, event_at,
       state, attempts, next_attempt_at, last_attempt_at, last_error`;

// A receiver added again at the same endpoint takes the new audience and authorization and keeps its id: RETURNING
// answers the row as stored, and its id tells a new receiver from a replaced one. The comment is load-bearing, as
// PUT_TOMBSTONE's.
export const PUT_RECEIVER = `/* conditional upsert */
INSERT INTO ssf_receivers (${RECEIVER_COLUMNS})
VALUES ($id, $clientKey, $endpointUrl, $audience, $authorization, $createdAt, $updatedAt)
ON CONFLICT (client_key, endpoint_url) DO UPDATE SET
  audience = excluded.audience, authorization_header = excluded.authorization_header, updated_at = excluded.updated_at
RETURNING ${RECEIVER_COLUMNS}`;

export const LIST_RECEIVERS = `SELECT ${RECEIVER_COLUMNS} FROM ssf_receivers WHERE client_key = $clientKey ORDER BY created_at, id`;

// The outbox rows go with it (ON DELETE CASCADE).
export const DELETE_RECEIVER = 'DELETE FROM ssf_receivers WHERE client_key = $clientKey AND id = $id';

export const HAS_RECEIVERS = 'SELECT 1 AS one FROM ssf_receivers WHERE client_key = $clientKey LIMIT 1';

/** The receivers named, by id (the claimed SETs' receivers). */
export function receiversById(ids: readonly string[]): Statement {
  const bind: Record<string, BindValue> = {};
  ids.forEach((id, i) => {
    bind[`id${i}`] = id;
  });
  return { sql: `SELECT ${RECEIVER_COLUMNS} FROM ssf_receivers WHERE id IN (${ids.map((_, i) => `$id${i}`).join(', ')})`, bind };
}

const QUEUE_COLUMNS = 'notice_id, receiver_id, client_key, base_url, account_id, session_id, actor, reason, event_at, state, attempts, next_attempt_at';

// One row per receiver of the site, due at once. The site's baseUrl is copied as it stands now: it names the issuer of
// the user's id in the SET, whenever that is sent. The casts tell PostgreSQL what the untyped parameters are.
const QUEUE_SELECT = `SELECT $noticeId, r.id, r.client_key, (SELECT t.base_url FROM tenants t WHERE t.client_key = r.client_key),
       $accountId, $sessionId, $actor, $reason, CAST($at AS BIGINT), 'pending', 0, CAST($at AS BIGINT)
  FROM ssf_receivers r WHERE r.client_key = $clientKey`;

function noticeBind(clientKey: string, at: EpochMs, reason: string, notice: RevocationNotice): Record<string, BindValue> {
  return { noticeId: notice.id, accountId: notice.accountId, sessionId: notice.session, actor: notice.actor, reason, at, clientKey };
}

/** The INSERT that queues a revocation's notice for every receiver of its site (SQLite: in the revocation's transaction). */
export function queueNotice(clientKey: string, at: EpochMs, reason: string, notice: RevocationNotice): Statement {
  return { sql: `INSERT INTO ssf_outbox (${QUEUE_COLUMNS}) ${QUEUE_SELECT}`, bind: noticeBind(clientKey, at, reason, notice) };
}

/**
 * PostgreSQL: the revocation and its notice in one statement, so in one transaction. The notice is queued only when
 * the UPDATE ended something; the answer is how many it ended.
 */
export function revokeEntriesAndQueue(scope: RevokeScope, at: EpochMs, reason: string, clientKey: string, notice: RevocationNotice): Statement {
  const revoke = revokeEntries(scope, at, reason);
  return {
    sql: `WITH ended AS (${revoke.sql} RETURNING 1),
     queued AS (INSERT INTO ssf_outbox (${QUEUE_COLUMNS}) ${QUEUE_SELECT} AND EXISTS (SELECT 1 FROM ended) RETURNING 1)
SELECT (SELECT COUNT(*) FROM ended) AS ended, (SELECT COUNT(*) FROM queued) AS queued`,
    bind: { ...revoke.bind, ...noticeBind(clientKey, at, reason, notice) },
  };
}

// The lease is a compare-and-set in the WHERE clause, as ADVANCE_TOKEN's: of two workers that picked the same rows in
// the subquery, the second finds them leased once the first commits (PostgreSQL re-checks the condition on the row
// it waited for; SQLite writes one at a time) and takes none of them.
export const CLAIM_SETS = `
UPDATE ssf_outbox SET lease_id = $lease, leased_until = $until
 WHERE (notice_id, receiver_id) IN (
         SELECT notice_id, receiver_id FROM ssf_outbox
          WHERE state = 'pending' AND next_attempt_at <= $now AND (leased_until IS NULL OR leased_until <= $now)
          ORDER BY next_attempt_at LIMIT $limit)
   AND state = 'pending' AND (leased_until IS NULL OR leased_until <= $now)
RETURNING ${OUTBOX_COLUMNS}`;

const ONE_SET = 'notice_id = $noticeId AND receiver_id = $receiverId';

export const DELIVERED_SET = `DELETE FROM ssf_outbox WHERE ${ONE_SET}`;

export const RETRY_SET = `
UPDATE ssf_outbox SET next_attempt_at = $next, lease_id = NULL, leased_until = NULL,
       attempts = attempts + 1, last_attempt_at = $at, last_error = $error
 WHERE ${ONE_SET} AND lease_id = $lease AND state = 'pending'`;

export const POSTPONE_SET = `
UPDATE ssf_outbox SET next_attempt_at = $next, lease_id = NULL, leased_until = NULL
 WHERE ${ONE_SET} AND lease_id = $lease AND state = 'pending'`;

export const FAIL_SET = `
UPDATE ssf_outbox SET state = 'failed', lease_id = NULL, leased_until = NULL,
       attempts = attempts + 1, last_attempt_at = $at, last_error = $error
 WHERE ${ONE_SET} AND lease_id = $lease AND state = 'pending'`;

export const RELEASE_SETS = 'UPDATE ssf_outbox SET lease_id = NULL, leased_until = NULL WHERE lease_id = $lease';

/** A page of a site's SETs, newest revocation first. */
export function listSets(clientKey: string, state: SetState | undefined, limit: number): Statement {
  const filter = state === undefined ? '' : ' AND state = $state';
  return {
    sql: `SELECT ${OUTBOX_COLUMNS} FROM ssf_outbox WHERE client_key = $clientKey${filter}
        ORDER BY event_at DESC, notice_id, receiver_id LIMIT $limit`,
    bind: state === undefined ? { clientKey, limit } : { clientKey, state, limit },
  };
}

export const COUNT_SETS = 'SELECT state, COUNT(*) AS count FROM ssf_outbox GROUP BY state';
export const COUNT_SETS_IN_TENANT = 'SELECT state, COUNT(*) AS count FROM ssf_outbox WHERE client_key = $clientKey GROUP BY state';

// Readiness.

export const PING = 'SELECT 1 AS one';
