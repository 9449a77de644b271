/** How a session (an allowlist entry) reads in the admin and "my sessions" APIs. */
import Bowser from 'bowser';
import type { AllowlistEntry } from '../src/allowlist/types';

export interface SessionJson {
  id: string;
  accountId: string;
  resource: string;
  device: string | null;
  ip: string | null;
  startedAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

/** "Chrome 120 on Linux" from a user agent; null when there is none or it names nothing. */
export function describeDevice(userAgent: string | null): string | null {
  if (userAgent === null || userAgent.trim() === '') return null;
  const parsed = Bowser.parse(userAgent);
  const browser = [parsed.browser.name, parsed.browser.version?.split('.')[0]].filter(Boolean).join(' ');
  const os = parsed.os.name ?? '';
  if (browser === '' && os === '') return null;
  return browser !== '' && os !== '' ? `${browser} on ${os}` : browser || os;
}

/**
 * `lastSeenAt`: the newest use known on this node, which may be newer than the store's until the next flush.
 * `device` and `ip`: where the session is now, i.e. whoever first used its current token (the page it was minted
 * for until it rotates).
 */
export function sessionJson(entry: AllowlistEntry, newestUse: number | undefined): SessionJson {
  const holder = entry.chain ?? entry;
  return {
    id: entry.idHash,
    accountId: entry.accountId,
    resource: entry.resource,
    device: describeDevice(holder.userAgent),
    ip: holder.ip,
    startedAt: entry.createdAt,
    lastSeenAt: Math.max(entry.lastSeenAt, newestUse ?? 0),
    expiresAt: entry.expiresAt,
  };
}
