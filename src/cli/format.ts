/** How the operator CLI prints: aligned plain-text tables for people, with times in ISO 8601 UTC. */
import type { AllowlistEntry, EpochMs, SignalDetail, Sighting, StoredAuditRecord } from '../allowlist/types';

const ID_CHARS = 12;
const USER_AGENT_CHARS = 40;

export function sessionsTable(entries: AllowlistEntry[]): string {
  return table(
    ['id', 'user', 'resource', 'ip', 'started', 'last seen', 'user agent'],
    // Where the session is now: whoever first used its current token, or the page it was minted for.
    entries.map((entry) => [
      entry.idHash.slice(0, ID_CHARS),
      entry.accountId,
      entry.resource,
      (entry.chain === null ? entry.ip : entry.chain.ip) ?? '-',
      isoTime(entry.createdAt),
      isoTime(entry.lastSeenAt),
      shorten((entry.chain === null ? entry.userAgent : entry.chain.userAgent) ?? '-', USER_AGENT_CHARS),
    ]),
  );
}

export function auditTable(records: StoredAuditRecord[]): string {
  return table(
    ['time', 'kind', 'user', 'actor', 'reason', 'resource', 'count', 'confirmed', 'detail'],
    records.map((record) => [
      isoTime(record.at),
      record.kind,
      record.accountId ?? '-',
      record.actor ?? '-',
      record.reason ?? '-',
      record.resource ?? '-',
      record.count === null ? '-' : String(record.count),
      record.confirmation === null ? '-' : `${record.confirmation.confirmed}/${record.confirmation.expected}`,
      record.detail === undefined ? '-' : describeSignal(record.detail),
    ]),
  );
}

/** A theft signal's two sides in one line: `reported: 198.51.100.0/24 Firefox on Windows, holder 203.0.113.0/24 Chrome on Linux`. */
export function describeSignal(detail: SignalDetail): string {
  const side = (sighting: Sighting) => `${sighting.network ?? sighting.ip ?? 'unknown network'} ${sighting.agent ?? 'unknown browser'}`;
  return `${detail.action}: ${side(detail.presented)}, holder ${side(detail.holder)}`;
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
