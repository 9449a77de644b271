/**
 * The durable store: every role played over one sequelize connection (and SQLite's reader), entries written in
 * group commits, and each failure a rejection the core turns into `store_unavailable`.
 */
import { QueryTypes, Sequelize, UniqueConstraintError, type Transaction } from 'sequelize';
import type {
  AllowlistEntry,
  AuditPage,
  AuditQuery,
  AuditRecord,
  EntryPage,
  EntryQuery,
  EntryState,
  MintState,
  EpochMs,
  LastSeen,
  Policy,
  RemovalWritten,
  RevocationNotice,
  RevokeScope,
  Tenant,
  TenantStatus,
  Tombstone,
  TombstoneKind,
  TokenAdvance,
} from '../../allowlist/types';
import type { Note } from '../../notes/notes';
import type { HeldAccount } from '../../signals/personal-data';
import type { SsfStream } from '../../signals/ssf-receiver/streams';
import type { ClaimedSet, PushFailure, QueuedSet, Receiver, SetKey, SetState } from '../../signals/ssf-transmitter/outbox';
import type { AppStore } from '../app-store';
import { DuplicateKeyError, StoreClosedError } from '../errors';
import { assertPageLimit, decodeEntryCursor, encodeEntryCursor } from '../paging';
import { decodeSettingValue, encodeSettingValue } from '../setting-value';
import {
  toEntry,
  toEntryState,
  toMintState,
  toNote,
  toNumber,
  toPolicy,
  toQueuedSet,
  toReceiver,
  toSetState,
  toStoredAudit,
  toStream,
  toTenant,
  toTombstone,
  type AuditRow,
  type CountRow,
  type DbInteger,
  type EntryRow,
  type EntryStateRow,
  type MintStateRow,
  type NoteRow,
  type OutboxRow,
  type PolicyRow,
  type StreamRow,
  type ReceiverRow,
  type TenantRow,
  type TombstoneRow,
  type ValueRow,
} from './rows';
import * as statements from './statements';
import type { BindValue } from './statements';

export type SequelizeDialect = 'sqlite' | 'postgres';

export class SequelizeStore implements AppStore {
  /** Which database the store runs on; only PostgreSQL can `notify`. */
  readonly dialect: SequelizeDialect;
  private closed = false;
  private readonly pendingEntries: { entry: AllowlistEntry; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private writeEntries: Promise<void> | null = null;
  /** SQLite's transactions (a removal's, a revocation that queues signals), one at a time (see sqliteTransaction). */
  private sqliteTransactions: Promise<unknown> = Promise.resolve();

  /**
   * `reader`, when given, serves the reads that need no transaction: SQLite's second connection. `transactor`, when
   * given, runs SQLite's transactions: a third connection, which no other statement uses.
   */
  constructor(
    private readonly sequelize: Sequelize,
    private readonly reader: Sequelize | null = null,
    private readonly transactor: Sequelize | null = null,
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
      const batch = this.pendingEntries.splice(0, statements.INSERT_BATCH);
      try {
        const { sql, bind } = statements.insertEntries(batch.map((p) => p.entry));
        await this.insert(sql, bind, 'allowlist entry');
        for (const p of batch) p.resolve();
      } catch (error) {
        if (batch.length === 1 || !(error instanceof DuplicateKeyError)) {
          for (const p of batch) p.reject(error);
          continue;
        }
        // One entry's duplicate must not fail the others: each goes again alone and answers for itself.
        for (const p of batch) {
          const { sql, bind } = statements.insertEntries([p.entry]);
          await this.insert(sql, bind, 'allowlist entry').then(p.resolve, p.reject);
        }
      }
    }
  }

  async loadMintState(clientKey: string, accountId: string, resource: string, parent: string | null): Promise<MintState> {
    const [row] = await this.read<MintStateRow>(statements.LOAD_MINT_STATE, { clientKey, accountId, resource, parent });
    if (!row) throw new Error('the mint state query returned no row');
    return toMintState(row);
  }

  async loadEntryState(idHash: string): Promise<EntryState | null> {
    const [row] = await this.read<EntryStateRow>(statements.LOAD_ENTRY_STATE, { idHash });
    return row ? toEntryState(row) : null;
  }

  async revokeEntries(scope: RevokeScope, at: EpochMs, reason: string, notice?: RevocationNotice): Promise<number> {
    const clientKey = scope.kind === 'token' ? null : scope.clientKey;
    if (notice === undefined || clientKey === null) {
      const { sql, bind } = statements.revokeEntries(scope, at, reason);
      return this.db().query(sql, { bind, type: QueryTypes.BULKUPDATE });
    }
    if (this.dialect === 'sqlite') return this.revokeAndQueueOnSqlite(scope, at, reason, clientKey, notice);
    const { sql, bind } = statements.revokeEntriesAndQueue(scope, at, reason, clientKey, notice);
    const [row] = await this.select<{ ended: DbInteger }>(sql, bind);
    return row ? toNumber(row.ended) : 0;
  }

  async putTombstoneAndRevoke(tombstone: Tombstone, scope: RevokeScope, reason: string, notice?: RevocationNotice): Promise<RemovalWritten> {
    if (this.dialect === 'postgres') {
      // PostgreSQL shows a transaction's writes only at its commit, and an UPDATE only rows committed before it began:
      // an entry committed in between, whose mint read removals again before the commit, would escape both. So the
      // tombstone commits first; an entry the UPDATE misses was written after it, and its mint's second read sees it.
      if (!(await this.putTombstone(tombstone))) return { written: false, ended: 0 };
      return { written: true, ended: await this.revokeEntries(scope, tombstone.removedAt, reason, notice) };
    }
    // SQLite writes one transaction at a time: from the tombstone's write to the commit, no entry can be written,
    // so the UPDATE sees every entry written before the tombstone, and every mint after it sees the tombstone.
    // One commit, one sync of the disk, instead of two. Whether the site has receivers is read beside it, on the
    // reader, so that a site without any (most) is spared the notice's statement.
    const told = scope.kind === 'token' || notice === undefined ? Promise.resolve(false) : this.hasReceivers(scope.clientKey);
    told.catch(() => undefined);
    return this.sqliteTransaction(async (db, transaction) => {
      const put = await db.query<{ client_key: string }>(statements.PUT_TOMBSTONE, { bind: { ...tombstone }, transaction, type: QueryTypes.SELECT });
      if (put.length === 0) return { written: false, ended: 0 };
      const ended = await this.revokeIn(db, transaction, scope, tombstone.removedAt, reason, (await told) ? notice : undefined);
      return { written: true, ended };
    });
  }

  /**
   * SQLite has no data-modifying WITH: the revocation and its notice are two statements in one transaction. Most
   * sites have no receiver, and their revocations stay one statement outside any.
   */
  private async revokeAndQueueOnSqlite(scope: RevokeScope, at: EpochMs, reason: string, clientKey: string, notice: RevocationNotice): Promise<number> {
    const db = this.db();
    const revoke = statements.revokeEntries(scope, at, reason);
    if (!(await this.hasReceivers(clientKey))) return db.query(revoke.sql, { bind: revoke.bind, type: QueryTypes.BULKUPDATE });
    return this.sqliteTransaction((db, transaction) => this.revokeIn(db, transaction, scope, at, reason, notice));
  }

  private async hasReceivers(clientKey: string): Promise<boolean> {
    return (await this.read<{ one: DbInteger }>(statements.HAS_RECEIVERS, { clientKey })).length > 0;
  }

  /** Within a SQLite transaction: revokes the entries in scope and, when that ended some and the site has receivers, queues the notice. */
  private async revokeIn(db: Sequelize, transaction: Transaction | undefined, scope: RevokeScope, at: EpochMs, reason: string, notice: RevocationNotice | undefined): Promise<number> {
    const revoke = statements.revokeEntries(scope, at, reason);
    const ended: number = await db.query(revoke.sql, { bind: revoke.bind, transaction, type: QueryTypes.BULKUPDATE });
    if (ended === 0 || notice === undefined || scope.kind === 'token') return ended;
    const queue = statements.queueNotice(scope.clientKey, at, reason, notice);
    await db.query(queue.sql, { bind: queue.bind, transaction, type: QueryTypes.INSERT });
    return ended;
  }

  /**
   * Runs `work` in a SQLite transaction, one at a time. On a file, on the transactor: sequelize's own transactions
   * would open (and close) a connection of their own each time, which cost more than the commit they save, and the
   * writing connection cannot hold one, as any statement sent meanwhile would join it. `:memory:` has only the one
   * connection, which sequelize's transaction shares.
   */
  private sqliteTransaction<T>(work: (db: Sequelize, transaction: Transaction | undefined) => Promise<T>): Promise<T> {
    const db = this.db();
    const transactor = this.transactor;
    const run = this.sqliteTransactions.then(async () => {
      if (transactor === null) return db.transaction((transaction) => work(db, transaction));
      // IMMEDIATE takes the write lock at once (waiting for it up to the connection's busy timeout): every statement
      // of the transaction then reads the newest committed state.
      await transactor.query('BEGIN IMMEDIATE', { type: QueryTypes.RAW });
      try {
        const result = await work(transactor, undefined);
        await transactor.query('COMMIT', { type: QueryTypes.RAW });
        return result;
      } catch (error) {
        await transactor.query('ROLLBACK', { type: QueryTypes.RAW }).catch(() => undefined);
        throw error;
      }
    });
    this.sqliteTransactions = run.catch(() => undefined);
    return run;
  }

  async advanceToken(idHash: string, fromSeq: number, next: TokenAdvance): Promise<boolean> {
    const { seq, tokenHash, at, ip, userAgent } = next;
    const changed = await this.db().query(statements.ADVANCE_TOKEN, {
      bind: { idHash, fromSeq, seq, tokenHash, at, ip, userAgent },
      type: QueryTypes.BULKUPDATE,
    });
    return changed === 1;
  }

  async bindKey(idHash: string, thumbprint: string): Promise<boolean> {
    const changed = await this.db().query(statements.BIND_KEY, { bind: { idHash, thumbprint }, type: QueryTypes.BULKUPDATE });
    return changed === 1;
  }

  async sweepExpired(before: EpochMs, limit: number): Promise<number> {
    assertBatchLimit(limit);
    return this.db().query(statements.SWEEP_EXPIRED, { bind: { before, limit }, type: QueryTypes.BULKDELETE });
  }

  async findByTokenHashes(hashes: readonly string[]): Promise<AllowlistEntry[]> {
    const found = new Map<string, AllowlistEntry>();
    for (let start = 0; start < hashes.length; start += statements.LOOKUP_BATCH) {
      const { sql, bind } = statements.findByTokenHashes(hashes.slice(start, start + statements.LOOKUP_BATCH));
      // An entry two statements both found (its first token in one, its current in another) is listed once.
      for (const row of await this.read<EntryRow>(sql, bind)) found.set(row.id_hash, toEntry(row));
    }
    return [...found.values()];
  }

  async getTombstone(clientKey: string, kind: TombstoneKind, subject: string): Promise<Tombstone | null> {
    const [row] = await this.read<TombstoneRow>(statements.GET_TOMBSTONE, { clientKey, kind, subject });
    return row ? toTombstone(row) : null;
  }

  async putTombstone(tombstone: Tombstone): Promise<boolean> {
    // RETURNING yields the row only when it was inserted or the newer event replaced it.
    const written = await this.select<{ client_key: string }>(statements.PUT_TOMBSTONE, { ...tombstone });
    return written.length > 0;
  }

  async touchEntries(seen: LastSeen[]): Promise<void> {
    const db = this.db();
    for (const { sql, bind } of statements.touchEntries(seen)) await db.query(sql, { bind, type: QueryTypes.BULKUPDATE });
  }

  async listEntries(query: EntryQuery): Promise<EntryPage> {
    assertPageLimit(query.limit);
    const after = query.after === undefined ? null : decodeEntryCursor(query.after);
    const { sql, bind } = statements.listEntries(query, after);
    const rows = await this.read<EntryRow>(sql, bind);
    const entries = rows.slice(0, query.limit).map(toEntry);
    const last = entries[entries.length - 1];
    return { entries, next: rows.length > query.limit && last ? encodeEntryCursor(last) : null };
  }

  async countLiveEntries(now: EpochMs, clientKey?: string): Promise<number> {
    const [row] =
      clientKey === undefined
        ? await this.read<CountRow>(statements.COUNT_LIVE, { now })
        : await this.read<CountRow>(statements.COUNT_LIVE_IN_TENANT, { now, clientKey });
    return row ? toNumber(row.count) : 0;
  }

  async isKnownUser(clientKey: string, accountId: string): Promise<boolean> {
    const rows = await this.read<{ known: DbInteger }>(statements.IS_KNOWN_USER, { clientKey, accountId });
    return rows.length > 0;
  }

  async listTenants(status: TenantStatus, after: string, limit: number): Promise<string[]> {
    assertPageLimit(limit);
    const rows = await this.read<{ client_key: string }>(statements.LIST_TENANTS, { status, after, limit });
    return rows.map((row) => row.client_key);
  }

  async listLiveUsers(clientKey: string, now: EpochMs, after: string, limit: number): Promise<string[]> {
    assertPageLimit(limit);
    const rows = await this.read<{ account_id: string }>(statements.LIST_LIVE_USERS, { clientKey, now, after, limit });
    return rows.map((row) => row.account_id);
  }

  async listDataHolders(clientKey: string, after: string, limit: number): Promise<HeldAccount[]> {
    assertPageLimit(limit);
    const rows = await this.read<{ account_id: string; updated_at: DbInteger }>(statements.LIST_DATA_HOLDERS, { clientKey, after, limit });
    return rows.map((row) => ({ accountId: row.account_id, updatedAt: toNumber(row.updated_at) }));
  }

  async getPolicy(clientKey: string): Promise<Policy | null> {
    const [row] = await this.read<PolicyRow>(statements.GET_POLICY, { clientKey });
    return row ? toPolicy(row) : null;
  }

  async putPolicy(clientKey: string, policy: Policy, at: EpochMs): Promise<void> {
    await this.insert(
      statements.PUT_POLICY,
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
    const [row] = await this.read<TenantRow>(statements.GET_TENANT, { clientKey });
    return row ? toTenant(row) : null;
  }

  async putTenant(tenant: Tenant): Promise<void> {
    await this.insert(statements.PUT_TENANT, { ...tenant }, 'tenant');
  }

  async claimOnce(kind: string, key: string, expiresAt: EpochMs, now: EpochMs): Promise<boolean> {
    const written = await this.select<{ kind: string }>(statements.CLAIM_ONCE, { kind, key, now, expiresAt });
    return written.length > 0;
  }

  async isClaimed(kind: string, key: string, now: EpochMs): Promise<boolean> {
    const rows = await this.read<{ kind: string }>(statements.IS_CLAIMED, { kind, key, now });
    return rows.length > 0;
  }

  async releaseClaim(kind: string, key: string): Promise<void> {
    await this.db().query(statements.RELEASE_CLAIM, { bind: { kind, key }, type: QueryTypes.BULKDELETE });
  }

  async advanceMark(kind: string, key: string, at: EpochMs): Promise<boolean> {
    const written = await this.select<{ kind: string }>(statements.ADVANCE_MARK, { kind, key, at, never: statements.NEVER });
    return written.length > 0;
  }

  async sweepClaims(before: EpochMs, limit: number): Promise<number> {
    assertBatchLimit(limit);
    return this.db().query(statements.SWEEP_CLAIMS, { bind: { before, limit }, type: QueryTypes.BULKDELETE });
  }

  async linkInstallation(installationId: string, clientKey: string, at: EpochMs): Promise<void> {
    await this.insert(statements.LINK_INSTALLATION, { installationId, clientKey, at }, 'forge installation');
  }

  async linkedTenant(installationId: string): Promise<string | null> {
    const [row] = await this.read<{ client_key: string }>(statements.LINKED_TENANT, { installationId });
    return row?.client_key ?? null;
  }

  async insertStream(stream: SsfStream): Promise<boolean> {
    // RETURNING yields the row only when it was inserted; a taken issuer and audience inserts nothing.
    const written = await this.select<{ id: string }>(statements.INSERT_STREAM, { ...stream });
    return written.length > 0;
  }

  async listStreams(clientKey: string): Promise<SsfStream[]> {
    return (await this.read<StreamRow>(statements.LIST_STREAMS, { clientKey })).map(toStream);
  }

  async streamsOfIssuer(issuer: string): Promise<SsfStream[]> {
    return (await this.read<StreamRow>(statements.STREAMS_OF_ISSUER, { issuer })).map(toStream);
  }

  async deleteStream(clientKey: string, id: string): Promise<boolean> {
    const deleted = await this.db().query(statements.DELETE_STREAM, { bind: { clientKey, id }, type: QueryTypes.BULKDELETE });
    return deleted > 0;
  }

  async markStreamVerified(id: string, at: EpochMs): Promise<void> {
    await this.db().query(statements.MARK_STREAM_VERIFIED, { bind: { id, at }, type: QueryTypes.BULKUPDATE });
  }

  async getSetting(clientKey: string, key: string): Promise<unknown | null> {
    const [row] = await this.read<ValueRow>(statements.GET_SETTING, { clientKey, key });
    return row ? decodeSettingValue(row.value) : null;
  }

  async setSetting(clientKey: string, key: string, value: unknown): Promise<void> {
    await this.insert(statements.SET_SETTING, { clientKey, key, value: encodeSettingValue(value) }, 'setting');
  }

  async deleteSetting(clientKey: string, key: string): Promise<void> {
    await this.db().query(statements.DELETE_SETTING, { bind: { clientKey, key }, type: QueryTypes.BULKDELETE });
  }

  async listSettings(key: string): Promise<unknown[]> {
    const rows = await this.read<ValueRow>(statements.LIST_SETTINGS, { key });
    return rows.map((row) => decodeSettingValue(row.value));
  }

  async listNotes(clientKey: string, issueId: string): Promise<Note[]> {
    const rows = await this.read<NoteRow>(statements.LIST_NOTES, { clientKey, issueId });
    return rows.map(toNote);
  }

  async addNote(note: Note): Promise<void> {
    await this.insert(statements.ADD_NOTE, { ...note }, 'note');
  }

  async appendAudit(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    const { sql, bind } = statements.appendAudit(records);
    await this.insert(sql, bind, 'audit record');
  }

  async listAudit(query: AuditQuery): Promise<AuditPage> {
    assertPageLimit(query.limit);
    const { sql, bind } = statements.listAudit(query);
    const rows = await this.read<AuditRow>(sql, bind);
    const records = rows.slice(0, query.limit).map(toStoredAudit);
    const last = records[records.length - 1];
    return { records, nextBefore: rows.length > query.limit && last ? last.id : null };
  }

  async deleteAuditBefore(before: EpochMs, limit: number): Promise<number> {
    assertBatchLimit(limit);
    return this.db().query(statements.DELETE_AUDIT_BEFORE, { bind: { before, limit }, type: QueryTypes.BULKDELETE });
  }

  async putReceiver(receiver: Receiver): Promise<{ receiver: Receiver; created: boolean }> {
    const { authorization, ...columns } = receiver;
    const [row] = await this.select<ReceiverRow>(statements.PUT_RECEIVER, { ...columns, authorization }).catch((error: unknown) => {
      throw withoutBoundValues(error);
    });
    if (!row) throw new Error('the receiver upsert returned no row');
    const stored = toReceiver(row);
    return { receiver: stored, created: stored.id === receiver.id };
  }

  async listReceivers(clientKey: string): Promise<Receiver[]> {
    const rows = await this.read<ReceiverRow>(statements.LIST_RECEIVERS, { clientKey });
    return rows.map(toReceiver);
  }

  async deleteReceiver(clientKey: string, id: string): Promise<boolean> {
    const deleted: number = await this.db().query(statements.DELETE_RECEIVER, { bind: { clientKey, id }, type: QueryTypes.BULKDELETE });
    return deleted > 0;
  }

  async claimSets(lease: string, now: EpochMs, until: EpochMs, limit: number): Promise<ClaimedSet[]> {
    assertBatchLimit(limit);
    const rows = await this.select<OutboxRow>(statements.CLAIM_SETS, { lease, now, until, limit });
    if (rows.length === 0) return [];
    const sets = rows.map(toQueuedSet).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
    // On the writing connection: a receiver added a moment ago must be found.
    const { sql, bind } = statements.receiversById([...new Set(sets.map((set) => set.receiverId))]);
    const receivers = new Map((await this.select<ReceiverRow>(sql, bind)).map((row) => [row.id, toReceiver(row)] as const));
    // A receiver deleted since the claim took its SETs with it.
    return sets.flatMap((set) => {
      const receiver = receivers.get(set.receiverId);
      return receiver === undefined ? [] : [{ set, receiver }];
    });
  }

  async deliveredSet(key: SetKey): Promise<void> {
    await this.db().query(statements.DELIVERED_SET, { bind: setKeyBind(key), type: QueryTypes.BULKDELETE });
  }

  async retrySet(key: SetKey, lease: string, nextAttemptAt: EpochMs, failure: PushFailure | null): Promise<boolean> {
    const changed: number =
      failure === null
        ? await this.db().query(statements.POSTPONE_SET, { bind: { ...setKeyBind(key), lease, next: nextAttemptAt }, type: QueryTypes.BULKUPDATE })
        : await this.db().query(statements.RETRY_SET, {
            bind: { ...setKeyBind(key), lease, next: nextAttemptAt, at: failure.at, error: failure.error },
            type: QueryTypes.BULKUPDATE,
          });
    return changed === 1;
  }

  async failSet(key: SetKey, lease: string, failure: PushFailure): Promise<boolean> {
    const changed: number = await this.db().query(statements.FAIL_SET, {
      bind: { ...setKeyBind(key), lease, at: failure.at, error: failure.error },
      type: QueryTypes.BULKUPDATE,
    });
    return changed === 1;
  }

  async releaseSets(lease: string): Promise<number> {
    return this.db().query(statements.RELEASE_SETS, { bind: { lease }, type: QueryTypes.BULKUPDATE });
  }

  async listSets(query: { clientKey: string; state?: SetState; limit: number }): Promise<QueuedSet[]> {
    assertPageLimit(query.limit);
    const { sql, bind } = statements.listSets(query.clientKey, query.state, query.limit);
    const rows = await this.read<OutboxRow>(sql, bind);
    return rows.map(toQueuedSet);
  }

  async countSets(clientKey?: string): Promise<Record<SetState, number>> {
    const rows =
      clientKey === undefined
        ? await this.read<CountRow & { state: string }>(statements.COUNT_SETS, {})
        : await this.read<CountRow & { state: string }>(statements.COUNT_SETS_IN_TENANT, { clientKey });
    const counts: Record<SetState, number> = { pending: 0, failed: 0 };
    for (const row of rows) counts[toSetState(row.state)] = toNumber(row.count);
    return counts;
  }

  async ping(): Promise<void> {
    await this.select<{ one: DbInteger }>(statements.PING, {});
    await this.read<{ one: DbInteger }>(statements.PING, {});
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
    await this.transactor?.close();
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

/**
 * A failed statement's error without the values it bound: sequelize keeps them on PostgreSQL's errors, where a
 * logger would print them. For the statements that bind a secret (a receiver's authorization).
 */
function withoutBoundValues(error: unknown): unknown {
  const holders = typeof error === 'object' && error !== null ? [error, Reflect.get(error, 'parent'), Reflect.get(error, 'original')] : [];
  for (const holder of holders) if (typeof holder === 'object' && holder !== null) Reflect.deleteProperty(holder, 'parameters');
  return error;
}

/** Only the key's own fields: a caller may hand over a whole SET as its key, and SQLite refuses a name its statement lacks. */
function setKeyBind(key: SetKey): Record<string, BindValue> {
  return { noticeId: key.noticeId, receiverId: key.receiverId };
}

function assertBatchLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit <= 0) throw new RangeError('limit must be a positive integer');
}
