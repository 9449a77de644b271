/**
 * The durable store: every role played over one sequelize connection (and SQLite's reader), entries written in
 * group commits, and each failure a rejection the core turns into `store_unavailable`.
 */
import { QueryTypes, Sequelize, UniqueConstraintError } from 'sequelize';
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
  type PolicyRow,
  type StreamRow,
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

  async revokeEntries(scope: RevokeScope, at: EpochMs, reason: string): Promise<number> {
    const { sql, bind } = statements.revokeEntries(scope, at, reason);
    return this.db().query(sql, { bind, type: QueryTypes.BULKUPDATE });
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

function assertBatchLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit <= 0) throw new RangeError('limit must be a positive integer');
}
