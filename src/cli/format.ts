/** How the operator CLI prints: aligned plain-text tables for people, with times in ISO 8601 UTC. */
import type { AllowlistEntry, EpochMs, StoredAuditRecord } from '../allowlist/types';

const ID_CHARS = 12;
const USER_AGENT_CHARS = 40;

export function sessionsTable(entries: AllowlistEntry[]): string {
  return table(
    ['id', 'user', 'resource', 'ip', 'started', 'last seen', 'user agent'],
    entries.map((entry) => [
      entry.idHash.slice(0, ID_CHARS),
      entry.accountId,
      entry.resource,
      entry.ip ?? '-',
      isoTime(entry.createdAt),
      isoTime(entry.lastSeenAt),
      shorten(entry.userAgent ?? '-', USER_AGENT_CHARS),
    ]),
  );
}

export function auditTable(records: StoredAuditRecord[]): string {
  return table(
    ['time', 'kind', 'user', 'actor', 'reason', 'resource', 'count', 'confirmed'],
    records.map((record) => [
      isoTime(record.at),
      record.kind,
      record.accountId ?? '-',
      record.actor ?? '-',
      record.reason ?? '-',
      record.resource ?? '-',
      record.count === null ? '-' : String(record.count),
      record.confirmation === null ? '-' : `${record.confirmation.confirmed}/${record.confirmation.expected}`,
    ]),
  );
}

/** Seconds are precise enough for an operator, and the column stays narrow. */
export function isoTime(at: EpochMs): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
