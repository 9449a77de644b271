/**
 * Rows as the drivers hand them back, and their mapping into the core's records: numbers from either dialect's
 * integers, the chain and the confirmation from their columns, and each stored union checked, refusing anything
 * a bug may have written.
 */
import { AUDIT_KINDS, type AuditKind } from '../../allowlist/types';
import type {
  AllowlistEntry,
  ChainPosition,
  Confirmation,
  EntryState,
  MintState,
  Policy,
  StoredAuditRecord,
  Tenant,
  TenantStatus,
  TheftResponse,
  Tombstone,
  TombstoneKind,
} from '../../allowlist/types';
import { THEFT_RESPONSES } from '../../allowlist/policy-rules';
import type { Note } from '../../notes/notes';
import type { SsfStream } from '../../signals/ssf-receiver/streams';
import { SUBJECT_MAPPINGS, type SubjectMapping } from '../../signals/ssf-receiver/subjects';
import { SET_STATES, type QueuedSet, type Receiver, type SetState } from '../../signals/ssf-transmitter/outbox';
import { decodeSignalDetail } from '../signal-detail';

/** BIGINT arrives as a number from SQLite and as a string from PostgreSQL. */
export type DbInteger = number | string;

/** BOOLEAN is a TINYINT(1) on SQLite, so it arrives as 0 or 1 there, and as a boolean from PostgreSQL. */
type DbBoolean = boolean | number;

export interface EntryRow {
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

export interface PolicyRow {
  idle_timeout_seconds: DbInteger;
  absolute_lifetime_seconds: DbInteger;
  theft_response: string;
  agent_change_response: string;
  key_binding: DbBoolean;
}

/** A policy's columns read through a LEFT JOIN or a subquery: all null when the tenant has no policy row. */
type OptionalPolicyRow = { [Column in keyof PolicyRow]: PolicyRow[Column] | null };

export interface EntryStateRow extends EntryRow, OptionalPolicyRow {
  tenant_status: string | null;
  newest_removal_at: DbInteger | null;
}

export interface MintStateRow extends OptionalPolicyRow {
  tenant_status: string | null;
  user_removed: DbInteger;
  user_removed_event_at: DbInteger | null;
  user_lifted_at: DbInteger | null;
  resources_removed: DbInteger;
}

export interface CountRow {
  count: DbInteger;
}

export interface TombstoneRow {
  client_key: string;
  kind: string;
  subject: string;
  removed_at: DbInteger;
  removed_event_at: DbInteger;
  lifted_at: DbInteger | null;
  last_event_at: DbInteger;
}

export interface TenantRow {
  client_key: string;
  base_url: string;
  status: string;
  updated_at: DbInteger;
}

export interface ValueRow {
  value: string;
}

export interface NoteRow {
  id: string;
  client_key: string;
  issue_id: string;
  account_id: string;
  text: string;
  created_at: DbInteger;
}

export interface AuditRow {
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

export interface StreamRow {
  id: string;
  client_key: string;
  issuer: string;
  audience: string;
  subjects: string;
  created_at: DbInteger;
  verified_at: DbInteger | null;
}

export function toEntry(row: EntryRow): AllowlistEntry {
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

export function toEntryState(row: EntryStateRow): EntryState {
  return {
    entry: toEntry(row),
    tenantStatus: row.tenant_status === null ? null : toTenantStatus(row.tenant_status),
    policy: toOptionalPolicy(row),
    newestRemovalAt: toNullableNumber(row.newest_removal_at),
  };
}

export function toMintState(row: MintStateRow): MintState {
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

export function toTombstone(row: TombstoneRow): Tombstone {
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

export function toTenant(row: TenantRow): Tenant {
  return {
    clientKey: row.client_key,
    baseUrl: row.base_url,
    status: toTenantStatus(row.status),
    updatedAt: toNumber(row.updated_at),
  };
}

export function toNote(row: NoteRow): Note {
  return {
    id: row.id,
    clientKey: row.client_key,
    issueId: row.issue_id,
    accountId: row.account_id,
    text: row.text,
    createdAt: toNumber(row.created_at),
  };
}

export function toStream(row: StreamRow): SsfStream {
  return {
    id: row.id,
    clientKey: row.client_key,
    issuer: row.issuer,
    audience: row.audience,
    subjects: toSubjectMapping(row.subjects),
    createdAt: toNumber(row.created_at),
    verifiedAt: toNullableNumber(row.verified_at),
  };
}

export function toStoredAudit(row: AuditRow): StoredAuditRecord {
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

export function toPolicy(row: PolicyRow): Policy {
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

// The two columns are written together; one without the other can only be a bug, refused like an unknown kind.
function toConfirmation(confirmed: DbInteger | null, expected: DbInteger | null): Confirmation | null {
  if (confirmed === null && expected === null) return null;
  if (confirmed === null || expected === null) throw new Error('audit record in store has half a confirmation');
  return { confirmed: toNumber(confirmed), expected: toNumber(expected) };
}

export function toNumber(value: DbInteger): number {
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

function toSubjectMapping(value: string): SubjectMapping {
  return oneOf(SUBJECT_MAPPINGS, value, 'subject mapping');
}

// Shared Signals: receivers and the outbox.

export interface ReceiverRow {
  id: string;
  client_key: string;
  endpoint_url: string;
  audience: string;
  authorization_header: string | null;
  created_at: DbInteger;
  updated_at: DbInteger;
}

export interface OutboxRow {
  notice_id: string;
  receiver_id: string;
  client_key: string;
  base_url: string | null;
  account_id: string | null;
  session_id: string | null;
  actor: string;
  reason: string;
  event_at: DbInteger;
  state: string;
  attempts: DbInteger;
  next_attempt_at: DbInteger;
  last_attempt_at: DbInteger | null;
  last_error: string | null;
}

export function toReceiver(row: ReceiverRow): Receiver {
  return {
    id: row.id,
    clientKey: row.client_key,
    endpointUrl: row.endpoint_url,
    audience: row.audience,
    authorization: row.authorization_header,
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}

export function toQueuedSet(row: OutboxRow): QueuedSet {
  return {
    noticeId: row.notice_id,
    receiverId: row.receiver_id,
    clientKey: row.client_key,
    baseUrl: row.base_url,
    accountId: row.account_id,
    session: row.session_id,
    actor: row.actor,
    reason: row.reason,
    eventAt: toNumber(row.event_at),
    state: toSetState(row.state),
    attempts: toNumber(row.attempts),
    nextAttemptAt: toNumber(row.next_attempt_at),
    lastAttemptAt: toNullableNumber(row.last_attempt_at),
    lastError: row.last_error,
  };
}

export function toSetState(value: string): SetState {
  return oneOf(SET_STATES, value, 'SET state');
}
