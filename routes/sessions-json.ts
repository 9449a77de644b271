/** How a session (an allowlist entry) reads in the admin and "my sessions" APIs. */
import Bowser from 'bowser';
import { agentOf, networkOf, type NetworkPrefixes } from '../src/allowlist/network';
import type { AllowlistEntry } from '../src/allowlist/types';
import type { Labels, Wanted } from '../src/names/names';
import { issueIdOf, projectIdOf } from './names';

export interface SessionJson {
  id: string;
  accountId: string;
  /** The user's display name as the host says it; null when it could not say in time. */
  displayName: string | null;
  resource: string;
  /** The issue's key (`DEMO-1`) for an issue's session; null for other resources and issues the host did not name. */
  issueKey: string | null;
  /** The project's key (`DEMO`) for a project page's session; null for other resources and projects the host did not name. */
  projectKey: string | null;
  device: string | null;
  ip: string | null;
  /** The device as sessions are grouped by it: browser family and OS without versions, and the IP's network prefix. */
  agent: string | null;
  network: string | null;
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

/** What a page of sessions needs named: their users, and the issues and projects they were opened on. */
export function namesOfSessions(entries: readonly AllowlistEntry[]): Wanted {
  return {
    accountIds: entries.map((entry) => entry.accountId),
    issueIds: entries.map((entry) => issueIdOf(entry.resource)),
    projectIds: entries.map((entry) => projectIdOf(entry.resource)),
  };
}

/**
 * `lastSeenAt`: the newest use known on this node, which may be newer than the store's until the next flush.
 * `device` and `ip`: where the session is now, i.e. whoever first used its current token (the page it was minted
 * for until it rotates).
 */
export function sessionJson(entry: AllowlistEntry, newestUse: number | undefined, labels: Labels, prefixes: NetworkPrefixes): SessionJson {
  const holder = entry.chain ?? entry;
  return {
    id: entry.idHash,
    accountId: entry.accountId,
    displayName: labels.displayName(entry.accountId),
    resource: entry.resource,
    issueKey: labels.issueKey(issueIdOf(entry.resource)),
    projectKey: labels.projectKey(projectIdOf(entry.resource)),
    device: describeDevice(holder.userAgent),
    ip: holder.ip,
    agent: agentOf(holder.userAgent),
    network: networkOf(holder.ip, prefixes),
    startedAt: entry.createdAt,
    lastSeenAt: Math.max(entry.lastSeenAt, newestUse ?? 0),
    expiresAt: entry.expiresAt,
  };
}
