/** Every store role held in plain Maps: for unit tests and a single process that needs no database. */
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
  RevocationNotice,
  RemovalWritten,
  RevokeScope,
  StoredAuditRecord,
  Tenant,
  TenantStatus,
  Tombstone,
  TombstoneKind,
  TokenAdvance,
} from '../allowlist/types';
import type { Note } from '../notes/notes';
import type { HeldAccount } from '../signals/personal-data';
import type { SsfStream } from '../signals/ssf-receiver/streams';
import type { ClaimedSet, PushFailure, QueuedSet, Receiver, SetKey, SetState } from '../signals/ssf-transmitter/outbox';
import type { AppStore } from './app-store';
import { DuplicateKeyError, StoreClosedError } from './errors';
import { assertPageLimit, decodeEntryCursor, encodeEntryCursor } from './paging';
import { decodeSettingValue, encodeSettingValue } from './setting-value';
import { copySignalDetail } from './signal-detail';

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
    case 'session':
      return entry.idHash === scope.idHash && entry.clientKey === scope.clientKey && entry.accountId === scope.accountId;
    case 'user':
      return entry.clientKey === scope.clientKey && entry.accountId === scope.accountId && entry.idHash !== scope.except;
    case 'resource':
      return entry.clientKey === scope.clientKey && (entry.resource === scope.resource || entry.parent === scope.resource);
    case 'tenant':
      return entry.clientKey === scope.clientKey;
  }
}

function isLive(entry: AllowlistEntry, now: EpochMs): boolean {
  return entry.revokedAt === null && entry.expiresAt > now;
}

// Code-unit order, which is byte order for the hex id hashes, as the SQL store sorts them.
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The listing order: created_at, then id_hash, both descending. */
function newestFirst(a: Pick<AllowlistEntry, 'createdAt' | 'idHash'>, b: Pick<AllowlistEntry, 'createdAt' | 'idHash'>): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return compareText(b.idHash, a.idHash);
}

// An entry is flat but for its chain position, which is copied too so that callers never share it either.
function copyEntry(entry: AllowlistEntry): AllowlistEntry {
  return { ...entry, chain: entry.chain === null ? null : { ...entry.chain } };
}

// An audit record is flat but for its confirmation and signal detail, copied too for the same reason. A record
// without a detail keeps none, not even a null one, as the SQL store reads it back.
function copyAudit(record: StoredAuditRecord): StoredAuditRecord {
  const { detail, ...flat } = record;
  return {
    ...flat,
    confirmation: record.confirmation === null ? null : { ...record.confirmation },
    ...(detail ? { detail: copySignalDetail(detail) } : {}),
  };
}

function matchesAuditQuery(record: StoredAuditRecord, query: AuditQuery): boolean {
  return (
    record.clientKey === query.clientKey &&
    (query.kind === undefined || record.kind === query.kind) &&
    (query.accountId === undefined || record.accountId === query.accountId) &&
    (query.since === undefined || record.at >= query.since) &&
    (query.until === undefined || record.at < query.until) &&
    (query.before === undefined || record.id < query.before)
  );
}

function byCreatedAtThenId(a: Note, b: Note): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function ledgerKey(kind: string, key: string): string {
  return JSON.stringify([kind, key]);
}

function setKey(key: SetKey): string {
  return JSON.stringify([key.noticeId, key.receiverId]);
}

/** An outbox row: the SET as callers see it, and who holds it until when. */
interface OutboxRow {
  set: QueuedSet;
  leaseId: string | null;
  leasedUntil: EpochMs | null;
}

/** Newest revocation first, then by notice and receiver: the SQL store's listing order. */
function newestSetFirst(a: QueuedSet, b: QueuedSet): number {
  if (a.eventAt !== b.eventAt) return b.eventAt - a.eventAt;
  return compareText(a.noticeId, b.noticeId) || compareText(a.receiverId, b.receiverId);
}

export class MemoryStore implements AppStore {
  // Records are flat (entries and audit records aside: see copyEntry and copyAudit), so a spread on the way in and
  // out is a full copy, and callers never share state with the store.
  private readonly entries = new Map<string, AllowlistEntry>();
  private readonly tombstones = new Map<string, Tombstone>();
  private readonly tenants = new Map<string, Tenant>();
  private readonly settings = new Map<string, { clientKey: string; key: string; json: string }>();
  private readonly notes = new Map<string, Note>();
  private readonly policies = new Map<string, { policy: Policy; updatedAt: EpochMs }>();
  private readonly ledger = new Map<string, { at: EpochMs; expiresAt: EpochMs }>();
  private readonly installationLinks = new Map<string, string>();
  /** By id, in insertion order (which is creation order). */
  private readonly streams = new Map<string, SsfStream>();
  private readonly receivers = new Map<string, Receiver>();
  private readonly outbox = new Map<string, OutboxRow>();
  /** In append order, so in id order. */
  private audit: StoredAuditRecord[] = [];
  private lastAuditId = 0;
  private closed = false;

  async insertEntry(entry: AllowlistEntry): Promise<void> {
    this.assertOpen();
    if (this.entries.has(entry.idHash)) throw new DuplicateKeyError('allowlist entry');
    this.entries.set(entry.idHash, copyEntry(entry));
  }

  async loadMintState(clientKey: string, accountId: string, resource: string, parent: string | null): Promise<MintState> {
    this.assertOpen();
    const user = this.tombstones.get(tombstoneKey(clientKey, 'user', accountId));
    const removed = (subject: string | null) => subject !== null && this.tombstones.has(tombstoneKey(clientKey, 'resource', subject));
    const policy = this.policies.get(clientKey)?.policy;
    return {
      tenantStatus: this.tenants.get(clientKey)?.status ?? null,
      userRemoval: user ? { removedEventAt: user.removedEventAt, liftedAt: user.liftedAt } : null,
      resourceRemoved: removed(resource) || removed(parent),
      policy: policy ? { ...policy } : null,
    };
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
    const policy = this.policies.get(entry.clientKey)?.policy;
    return {
      entry: copyEntry(entry),
      tenantStatus: this.tenants.get(entry.clientKey)?.status ?? null,
      policy: policy ? { ...policy } : null,
      newestRemovalAt,
    };
  }

  async revokeEntries(scope: RevokeScope, at: EpochMs, reason: string, notice?: RevocationNotice): Promise<number> {
    this.assertOpen();
    return this.endEntries(scope, at, reason, notice);
  }

  async putTombstoneAndRevoke(tombstone: Tombstone, scope: RevokeScope, reason: string, notice?: RevocationNotice): Promise<RemovalWritten> {
    this.assertOpen();
    // One synchronous step, as one transaction: nothing can see the tombstone without the revocation.
    if (!this.writeTombstone(tombstone)) return { written: false, ended: 0 };
    return { written: true, ended: this.endEntries(scope, tombstone.removedAt, reason, notice) };
  }

  private endEntries(scope: RevokeScope, at: EpochMs, reason: string, notice?: RevocationNotice): number {
    let changed = 0;
    for (const entry of this.entries.values()) {
      if (entry.revokedAt !== null || !inScope(entry, scope)) continue;
      entry.revokedAt = at;
      entry.revokeReason = reason;
      changed += 1;
    }
    // In the same synchronous step as the revocation: nothing can see one without the other.
    if (changed > 0 && notice !== undefined && scope.kind !== 'token') this.queueNotice(scope.clientKey, at, reason, notice);
    return changed;
  }

  private queueNotice(clientKey: string, at: EpochMs, reason: string, notice: RevocationNotice): void {
    const baseUrl = this.tenants.get(clientKey)?.baseUrl ?? null;
    for (const receiver of this.receivers.values()) {
      if (receiver.clientKey !== clientKey) continue;
      const set: QueuedSet = {
        noticeId: notice.id,
        receiverId: receiver.id,
        clientKey,
        baseUrl,
        accountId: notice.accountId,
        session: notice.session,
        actor: notice.actor,
        reason,
        eventAt: at,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: at,
        lastAttemptAt: null,
        lastError: null,
      };
      this.outbox.set(setKey(set), { set, leaseId: null, leasedUntil: null });
    }
  }

  async advanceToken(idHash: string, fromSeq: number, next: TokenAdvance): Promise<boolean> {
    this.assertOpen();
    const entry = this.entries.get(idHash);
    if (!entry || entry.revokedAt !== null || (entry.chain?.seq ?? 0) !== fromSeq) return false;
    entry.chain = {
      seq: next.seq,
      tokenHash: next.tokenHash,
      // The token being replaced: the last successor, or the one minted first, whose jti hashes to the entry's id.
      previousHash: entry.chain?.tokenHash ?? entry.idHash,
      rotatedAt: next.at,
      ip: next.ip,
      userAgent: next.userAgent,
    };
    return true;
  }

  async bindKey(idHash: string, thumbprint: string): Promise<boolean> {
    this.assertOpen();
    const entry = this.entries.get(idHash);
    if (!entry || entry.revokedAt !== null) return false;
    entry.boundKey ??= thumbprint;
    return entry.boundKey === thumbprint;
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

  async findByTokenHashes(hashes: readonly string[]): Promise<AllowlistEntry[]> {
    this.assertOpen();
    const wanted = new Set(hashes);
    const found: AllowlistEntry[] = [];
    for (const entry of this.entries.values()) {
      const { idHash, chain } = entry;
      if (wanted.has(idHash) || (chain !== null && (wanted.has(chain.tokenHash) || wanted.has(chain.previousHash)))) found.push(copyEntry(entry));
    }
    return found;
  }

  async getTombstone(clientKey: string, kind: TombstoneKind, subject: string): Promise<Tombstone | null> {
    this.assertOpen();
    const tombstone = this.tombstones.get(tombstoneKey(clientKey, kind, subject));
    return tombstone ? { ...tombstone } : null;
  }

  async putTombstone(tombstone: Tombstone): Promise<boolean> {
    this.assertOpen();
    return this.writeTombstone(tombstone);
  }

  private writeTombstone(tombstone: Tombstone): boolean {
    const key = tombstoneKey(tombstone.clientKey, tombstone.kind, tombstone.subject);
    const stored = this.tombstones.get(key);
    if (stored !== undefined && stored.lastEventAt >= tombstone.lastEventAt) return false;
    this.tombstones.set(key, { ...tombstone });
    return true;
  }

  async touchEntries(seen: LastSeen[]): Promise<void> {
    this.assertOpen();
    for (const { idHash, lastSeenAt } of seen) {
      const entry = this.entries.get(idHash);
      if (entry && entry.lastSeenAt < lastSeenAt) entry.lastSeenAt = lastSeenAt;
    }
  }

  async listEntries(query: EntryQuery): Promise<EntryPage> {
    this.assertOpen();
    assertPageLimit(query.limit);
    const after = query.after === undefined ? null : decodeEntryCursor(query.after);
    const matching = [...this.entries.values()]
      .filter(
        (entry) =>
          entry.clientKey === query.clientKey &&
          isLive(entry, query.now) &&
          (query.accountId === undefined || entry.accountId === query.accountId) &&
          (query.resource === undefined || entry.resource === query.resource) &&
          (after === null || newestFirst(after, entry) < 0),
      )
      .sort(newestFirst);
    const entries = matching.slice(0, query.limit).map(copyEntry);
    const last = entries[entries.length - 1];
    return { entries, next: matching.length > query.limit && last ? encodeEntryCursor(last) : null };
  }

  async countLiveEntries(now: EpochMs, clientKey?: string): Promise<number> {
    this.assertOpen();
    let count = 0;
    for (const entry of this.entries.values()) {
      if (isLive(entry, now) && (clientKey === undefined || entry.clientKey === clientKey)) count += 1;
    }
    return count;
  }

  async isKnownUser(clientKey: string, accountId: string): Promise<boolean> {
    this.assertOpen();
    if (this.tombstones.has(tombstoneKey(clientKey, 'user', accountId))) return true;
    for (const entry of this.entries.values()) {
      if (entry.clientKey === clientKey && entry.accountId === accountId) return true;
    }
    return false;
  }

  async listTenants(status: TenantStatus, after: string, limit: number): Promise<string[]> {
    this.assertOpen();
    assertPageLimit(limit);
    return [...this.tenants.values()]
      .filter((tenant) => tenant.status === status && tenant.clientKey > after)
      .map((tenant) => tenant.clientKey)
      .sort(compareText)
      .slice(0, limit);
  }

  async listLiveUsers(clientKey: string, now: EpochMs, after: string, limit: number): Promise<string[]> {
    this.assertOpen();
    assertPageLimit(limit);
    const users = new Set<string>();
    for (const entry of this.entries.values()) {
      if (entry.clientKey === clientKey && entry.accountId > after && isLive(entry, now)) users.add(entry.accountId);
    }
    return [...users].sort(compareText).slice(0, limit);
  }

  async listDataHolders(clientKey: string, after: string, limit: number): Promise<HeldAccount[]> {
    this.assertOpen();
    assertPageLimit(limit);
    const newest = new Map<string, EpochMs>();
    const note = (accountId: string, at: EpochMs) => {
      if (accountId > after) newest.set(accountId, Math.max(at, newest.get(accountId) ?? at));
    };
    for (const entry of this.entries.values()) if (entry.clientKey === clientKey) note(entry.accountId, entry.lastSeenAt);
    for (const stored of this.notes.values()) if (stored.clientKey === clientKey) note(stored.accountId, stored.createdAt);
    return [...newest]
      .sort(([a], [b]) => compareText(a, b))
      .slice(0, limit)
      .map(([accountId, updatedAt]) => ({ accountId, updatedAt }));
  }

  async getPolicy(clientKey: string): Promise<Policy | null> {
    this.assertOpen();
    const stored = this.policies.get(clientKey);
    return stored ? { ...stored.policy } : null;
  }

  async putPolicy(clientKey: string, policy: Policy, at: EpochMs): Promise<void> {
    this.assertOpen();
    this.policies.set(clientKey, { policy: { ...policy }, updatedAt: at });
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

  async claimOnce(kind: string, key: string, expiresAt: EpochMs, now: EpochMs): Promise<boolean> {
    this.assertOpen();
    const known = this.ledger.get(ledgerKey(kind, key));
    if (known !== undefined && known.expiresAt > now) return false;
    this.ledger.set(ledgerKey(kind, key), { at: now, expiresAt });
    return true;
  }

  async isClaimed(kind: string, key: string, now: EpochMs): Promise<boolean> {
    this.assertOpen();
    const known = this.ledger.get(ledgerKey(kind, key));
    return known !== undefined && known.expiresAt > now;
  }

  async releaseClaim(kind: string, key: string): Promise<void> {
    this.assertOpen();
    this.ledger.delete(ledgerKey(kind, key));
  }

  async advanceMark(kind: string, key: string, at: EpochMs): Promise<boolean> {
    this.assertOpen();
    const known = this.ledger.get(ledgerKey(kind, key));
    if (known !== undefined && known.at > at) return false;
    this.ledger.set(ledgerKey(kind, key), { at, expiresAt: Number.MAX_SAFE_INTEGER });
    return true;
  }

  async sweepClaims(before: EpochMs, limit: number): Promise<number> {
    this.assertOpen();
    assertBatchLimit(limit);
    const expired = [...this.ledger].filter(([, claim]) => claim.expiresAt < before).slice(0, limit);
    for (const [key] of expired) this.ledger.delete(key);
    return expired.length;
  }

  async linkInstallation(installationId: string, clientKey: string, _at: EpochMs): Promise<void> {
    this.assertOpen();
    this.installationLinks.set(installationId, clientKey);
  }

  async linkedTenant(installationId: string): Promise<string | null> {
    this.assertOpen();
    return this.installationLinks.get(installationId) ?? null;
  }

  async insertStream(stream: SsfStream): Promise<boolean> {
    this.assertOpen();
    const taken = [...this.streams.values()].some((known) => known.id === stream.id || (known.issuer === stream.issuer && known.audience === stream.audience));
    if (taken) return false;
    this.streams.set(stream.id, { ...stream });
    return true;
  }

  async listStreams(clientKey: string): Promise<SsfStream[]> {
    this.assertOpen();
    return this.sortedStreams((stream) => stream.clientKey === clientKey);
  }

  async streamsOfIssuer(issuer: string): Promise<SsfStream[]> {
    this.assertOpen();
    return this.sortedStreams((stream) => stream.issuer === issuer);
  }

  async deleteStream(clientKey: string, id: string): Promise<boolean> {
    this.assertOpen();
    if (this.streams.get(id)?.clientKey !== clientKey) return false;
    return this.streams.delete(id);
  }

  async markStreamVerified(id: string, at: EpochMs): Promise<void> {
    this.assertOpen();
    const stream = this.streams.get(id);
    if (stream !== undefined) stream.verifiedAt = at;
  }

  // Creation time, then id (in code-unit order), as the SQL store sorts them.
  private sortedStreams(keep: (stream: SsfStream) => boolean): SsfStream[] {
    return [...this.streams.values()]
      .filter(keep)
      .sort((a, b) => a.createdAt - b.createdAt || compareText(a.id, b.id))
      .map((stream) => ({ ...stream }));
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

  async appendAudit(records: readonly AuditRecord[]): Promise<void> {
    this.assertOpen();
    for (const record of records) {
      this.lastAuditId += 1;
      this.audit.push(copyAudit({ ...record, id: this.lastAuditId }));
    }
  }

  async listAudit(query: AuditQuery): Promise<AuditPage> {
    this.assertOpen();
    assertPageLimit(query.limit);
    // Newest first is append order reversed; one record past the limit tells whether another page exists.
    const matching: StoredAuditRecord[] = [];
    for (let i = this.audit.length - 1; i >= 0 && matching.length <= query.limit; i -= 1) {
      if (matchesAuditQuery(this.audit[i], query)) matching.push(this.audit[i]);
    }
    const records = matching.slice(0, query.limit).map(copyAudit);
    const last = records[records.length - 1];
    return { records, nextBefore: matching.length > query.limit && last ? last.id : null };
  }

  async deleteAuditBefore(before: EpochMs, limit: number): Promise<number> {
    this.assertOpen();
    assertBatchLimit(limit);
    // Oldest first, ties in append order, as the SQL store deletes them.
    const doomed = new Set(
      this.audit
        .filter((record) => record.at < before)
        .sort((a, b) => a.at - b.at || a.id - b.id)
        .slice(0, limit),
    );
    this.audit = this.audit.filter((record) => !doomed.has(record));
    return doomed.size;
  }

  async putReceiver(receiver: Receiver): Promise<{ receiver: Receiver; created: boolean }> {
    this.assertOpen();
    const existing = [...this.receivers.values()].find((r) => r.clientKey === receiver.clientKey && r.endpointUrl === receiver.endpointUrl);
    const stored: Receiver =
      existing === undefined
        ? { ...receiver }
        : { ...existing, audience: receiver.audience, authorization: receiver.authorization, updatedAt: receiver.updatedAt };
    this.receivers.set(stored.id, stored);
    return { receiver: { ...stored }, created: existing === undefined };
  }

  async listReceivers(clientKey: string): Promise<Receiver[]> {
    this.assertOpen();
    return [...this.receivers.values()]
      .filter((receiver) => receiver.clientKey === clientKey)
      .sort((a, b) => a.createdAt - b.createdAt || compareText(a.id, b.id))
      .map((receiver) => ({ ...receiver }));
  }

  async deleteReceiver(clientKey: string, id: string): Promise<boolean> {
    this.assertOpen();
    if (this.receivers.get(id)?.clientKey !== clientKey) return false;
    this.receivers.delete(id);
    for (const [key, row] of this.outbox) if (row.set.receiverId === id) this.outbox.delete(key);
    return true;
  }

  async claimSets(lease: string, now: EpochMs, until: EpochMs, limit: number): Promise<ClaimedSet[]> {
    this.assertOpen();
    assertBatchLimit(limit);
    const due = [...this.outbox.values()]
      .filter((row) => row.set.state === 'pending' && row.set.nextAttemptAt <= now && (row.leasedUntil === null || row.leasedUntil <= now))
      .sort((a, b) => a.set.nextAttemptAt - b.set.nextAttemptAt)
      .slice(0, limit);
    return due.map((row) => {
      row.leaseId = lease;
      row.leasedUntil = until;
      const receiver = this.receivers.get(row.set.receiverId);
      if (receiver === undefined) throw new Error('an outbox row outlived its receiver');
      return { set: { ...row.set }, receiver: { ...receiver } };
    });
  }

  async deliveredSet(key: SetKey): Promise<void> {
    this.assertOpen();
    this.outbox.delete(setKey(key));
  }

  async retrySet(key: SetKey, lease: string, nextAttemptAt: EpochMs, failure: PushFailure | null): Promise<boolean> {
    this.assertOpen();
    const row = this.outbox.get(setKey(key));
    if (row === undefined || row.leaseId !== lease || row.set.state !== 'pending') return false;
    row.set.nextAttemptAt = nextAttemptAt;
    if (failure !== null) this.countFailure(row.set, failure);
    row.leaseId = null;
    row.leasedUntil = null;
    return true;
  }

  async failSet(key: SetKey, lease: string, failure: PushFailure): Promise<boolean> {
    this.assertOpen();
    const row = this.outbox.get(setKey(key));
    if (row === undefined || row.leaseId !== lease || row.set.state !== 'pending') return false;
    row.set.state = 'failed';
    this.countFailure(row.set, failure);
    row.leaseId = null;
    row.leasedUntil = null;
    return true;
  }

  private countFailure(set: QueuedSet, failure: PushFailure): void {
    set.attempts += 1;
    set.lastAttemptAt = failure.at;
    set.lastError = failure.error;
  }

  async releaseSets(lease: string): Promise<number> {
    this.assertOpen();
    let released = 0;
    for (const row of this.outbox.values()) {
      if (row.leaseId !== lease) continue;
      row.leaseId = null;
      row.leasedUntil = null;
      released += 1;
    }
    return released;
  }

  async listSets(query: { clientKey: string; state?: SetState; limit: number }): Promise<QueuedSet[]> {
    this.assertOpen();
    assertPageLimit(query.limit);
    return [...this.outbox.values()]
      .map((row) => row.set)
      .filter((set) => set.clientKey === query.clientKey && (query.state === undefined || set.state === query.state))
      .sort(newestSetFirst)
      .slice(0, query.limit)
      .map((set) => ({ ...set }));
  }

  async countSets(clientKey?: string): Promise<Record<SetState, number>> {
    this.assertOpen();
    const counts: Record<SetState, number> = { pending: 0, failed: 0 };
    for (const { set } of this.outbox.values()) if (clientKey === undefined || set.clientKey === clientKey) counts[set.state] += 1;
    return counts;
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

function assertBatchLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit <= 0) throw new RangeError('limit must be a positive integer');
}
