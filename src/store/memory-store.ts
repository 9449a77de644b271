/** A `Store` held in plain Maps: for unit tests and a single process that needs no database. */
import type {
  AllowlistEntry,
  AuditRecord,
  EntryState,
  EpochMs,
  Note,
  RevokeScope,
  Store,
  Tenant,
  Tombstone,
  TombstoneKind,
} from '../allowlist/types';
import { DuplicateKeyError, StoreClosedError } from './errors';
import { decodeSettingValue, encodeSettingValue } from './setting-value';

// JSON arrays as keys: unambiguous whatever characters a clientKey or subject holds.
function tombstoneKey(clientKey: string, kind: TombstoneKind, subject: string): string {
  return JSON.stringify([clientKey, kind, subject]);
}

function settingKey(clientKey: string, key: string): string {
  return JSON.stringify([clientKey, key]);
}

function inScope(entry: AllowlistEntry, scope: RevokeScope): boolean {
  switch (scope.kind) {
    case 'token':
      return entry.idHash === scope.idHash;
    case 'user':
      return entry.clientKey === scope.clientKey && entry.accountId === scope.accountId;
    case 'resource':
      return entry.clientKey === scope.clientKey && (entry.resource === scope.resource || entry.parent === scope.resource);
    case 'tenant':
      return entry.clientKey === scope.clientKey;
  }
}

// An audit record is flat but for its confirmation, which is copied too so that callers never share it either.
function copyAudit(record: AuditRecord): AuditRecord {
  return { ...record, confirmation: record.confirmation === null ? null : { ...record.confirmation } };
}

function byCreatedAtThenId(a: Note, b: Note): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export class MemoryStore implements Store {
  // Records are flat (audit records aside: see copyAudit), so a spread on the way in and out is a full copy,
  // and callers never share state with the store.
  private readonly entries = new Map<string, AllowlistEntry>();
  private readonly tombstones = new Map<string, Tombstone>();
  private readonly tenants = new Map<string, Tenant>();
  private readonly settings = new Map<string, { clientKey: string; key: string; json: string }>();
  private readonly notes = new Map<string, Note>();
  private readonly audit: AuditRecord[] = [];
  private closed = false;

  async insertEntry(entry: AllowlistEntry): Promise<void> {
    this.assertOpen();
    if (this.entries.has(entry.idHash)) throw new DuplicateKeyError('allowlist entry');
    this.entries.set(entry.idHash, { ...entry });
  }

  async loadEntryState(idHash: string): Promise<EntryState | null> {
    this.assertOpen();
    const entry = this.entries.get(idHash);
    if (!entry) return null;
    const removals = [
      this.tombstones.get(tombstoneKey(entry.clientKey, 'user', entry.accountId)),
      this.tombstones.get(tombstoneKey(entry.clientKey, 'resource', entry.resource)),
      entry.parent === null ? undefined : this.tombstones.get(tombstoneKey(entry.clientKey, 'resource', entry.parent)),
    ];
    let newestRemovalAt: EpochMs | null = null;
    for (const tombstone of removals) {
      if (tombstone && (newestRemovalAt === null || tombstone.removedAt > newestRemovalAt)) newestRemovalAt = tombstone.removedAt;
    }
    return {
      entry: { ...entry },
      tenantStatus: this.tenants.get(entry.clientKey)?.status ?? null,
      newestRemovalAt,
    };
  }

  async revokeEntries(scope: RevokeScope, at: EpochMs, reason: string): Promise<number> {
    this.assertOpen();
    let changed = 0;
    for (const entry of this.entries.values()) {
      if (entry.revokedAt !== null || !inScope(entry, scope)) continue;
      entry.revokedAt = at;
      entry.revokeReason = reason;
      changed += 1;
    }
    return changed;
  }

  async sweepExpired(before: EpochMs, limit: number): Promise<number> {
    this.assertOpen();
    assertBatchLimit(limit);
    // Oldest first, as the SQL store deletes them.
    const expired = [...this.entries.values()]
      .filter((entry) => entry.expiresAt < before)
      .sort((a, b) => a.expiresAt - b.expiresAt)
      .slice(0, limit);
    for (const entry of expired) this.entries.delete(entry.idHash);
    return expired.length;
  }

  async getTombstone(clientKey: string, kind: TombstoneKind, subject: string): Promise<Tombstone | null> {
    this.assertOpen();
    const tombstone = this.tombstones.get(tombstoneKey(clientKey, kind, subject));
    return tombstone ? { ...tombstone } : null;
  }

  async putTombstone(tombstone: Tombstone): Promise<boolean> {
    this.assertOpen();
    const key = tombstoneKey(tombstone.clientKey, tombstone.kind, tombstone.subject);
    const stored = this.tombstones.get(key);
    if (stored !== undefined && stored.lastEventAt >= tombstone.lastEventAt) return false;
    this.tombstones.set(key, { ...tombstone });
    return true;
  }

  async getTenant(clientKey: string): Promise<Tenant | null> {
    this.assertOpen();
    const tenant = this.tenants.get(clientKey);
    return tenant ? { ...tenant } : null;
  }

  async putTenant(tenant: Tenant): Promise<void> {
    this.assertOpen();
    this.tenants.set(tenant.clientKey, { ...tenant });
  }

  async getSetting(clientKey: string, key: string): Promise<unknown | null> {
    this.assertOpen();
    const setting = this.settings.get(settingKey(clientKey, key));
    return setting ? decodeSettingValue(setting.json) : null;
  }

  async setSetting(clientKey: string, key: string, value: unknown): Promise<void> {
    this.assertOpen();
    this.settings.set(settingKey(clientKey, key), { clientKey, key, json: encodeSettingValue(value) });
  }

  async deleteSetting(clientKey: string, key: string): Promise<void> {
    this.assertOpen();
    this.settings.delete(settingKey(clientKey, key));
  }

  async listSettings(key: string): Promise<unknown[]> {
    this.assertOpen();
    return [...this.settings.values()]
      .filter((setting) => setting.key === key)
      .sort((a, b) => (a.clientKey < b.clientKey ? -1 : a.clientKey > b.clientKey ? 1 : 0))
      .map((setting) => decodeSettingValue(setting.json));
  }

  async listNotes(clientKey: string, issueId: string): Promise<Note[]> {
    this.assertOpen();
    return [...this.notes.values()]
      .filter((note) => note.clientKey === clientKey && note.issueId === issueId)
      .sort(byCreatedAtThenId)
      .map((note) => ({ ...note }));
  }

  async addNote(note: Note): Promise<void> {
    this.assertOpen();
    if (this.notes.has(note.id)) throw new DuplicateKeyError('note');
    this.notes.set(note.id, { ...note });
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    this.assertOpen();
    this.audit.push(copyAudit(record));
  }

  async listAudit(clientKey: string, limit: number): Promise<AuditRecord[]> {
    this.assertOpen();
    assertLimit(limit);
    // Reversed before a stable sort, so records with the same time come out last-appended first, as the SQL store's id order does.
    return this.audit
      .filter((record) => record.clientKey === clientKey)
      .reverse()
      .sort((a, b) => b.at - a.at)
      .slice(0, limit)
      .map(copyAudit);
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

function assertLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError('limit must be a non-negative integer');
}

function assertBatchLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit <= 0) throw new RangeError('limit must be a positive integer');
}
