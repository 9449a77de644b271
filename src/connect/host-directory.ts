/**
 * Who is still active on a site, as Jira says: its bulk user API (`GET /rest/api/3/user/bulk`), asked as the app
 * through ACE's HTTP client with the tenant's credentials, as site-admins.ts asks for permissions. Anything but a
 * complete, well-formed answer is a failure: reconciliation ends no session on a guess.
 */
import { z } from 'zod';
import type { DirectoryResult, HostDirectory, UserStatus } from '../signals/reconcile';
import type { AddOn } from './addon';

/** Jira's `PageBeanUser`, as far as it is read. */
const userPage = z
  .object({
    startAt: z.number().int().nonnegative(),
    isLast: z.boolean(),
    values: z.array(z.object({ accountId: z.string().min(1), active: z.boolean() }).passthrough()),
  })
  .passthrough();

/** What the host answered: its status, the headers read, and the parsed body. */
export interface HostAnswer {
  status: number;
  /** The `Retry-After` header, when there was one. */
  retryAfter: string | null;
  /** The `Date` header, when there was one. */
  date: string | null;
  body: unknown;
}

/** How long to leave a host that answered 429 without saying for how long. */
export const DEFAULT_RETRY_AFTER_MS = 60_000;
/** The longest pause a Retry-After can ask for; a larger one is taken as this. */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;
/** A host that has not answered in this long has failed. */
const TIMEOUT_MS = 10_000;
/** A batch is asked for in one page (maxResults = its size); a host that pages anyway is followed this far. */
const MAX_PAGES = 5;

/** `Retry-After` in seconds or as an HTTP date, as ms from `now`; the default when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number {
  if (header === null) return DEFAULT_RETRY_AFTER_MS;
  const trimmed = header.trim();
  const ms = /^[0-9]{1,9}$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  if (!Number.isFinite(ms)) return DEFAULT_RETRY_AFTER_MS;
  return Math.min(Math.max(ms, 1_000), MAX_RETRY_AFTER_MS);
}

/** An HTTP date as epoch ms; null when absent or unreadable. */
export function hostTime(date: string | null): number | null {
  if (date === null) return null;
  const at = Date.parse(date);
  return Number.isFinite(at) ? at : null;
}

/**
 * Reads the pages of one batch's answers into each account's status. Accounts Jira left out are `gone`; but only
 * once the last page is in: an incomplete answer says nothing about whoever it did not reach.
 */
export function statusesFrom(accountIds: readonly string[], pages: readonly unknown[]): Map<string, UserStatus> | null {
  const active = new Map<string, boolean>();
  let complete = false;
  for (const body of pages) {
    const page = userPage.safeParse(body);
    if (!page.success) return null;
    for (const user of page.data.values) active.set(user.accountId, user.active);
    complete = page.data.isLast;
  }
  if (!complete) return null;
  return new Map(accountIds.map((id) => [id, active.has(id) ? (active.get(id) ? 'active' : 'inactive') : 'gone'] as const));
}

/** Asks over ACE's HTTP client; null when no answer came (the network, a timeout, or ACE's own refusal). */
function askHost(addon: AddOn, clientKey: string, url: string): Promise<HostAnswer | null> {
  return new Promise((resolve) => {
    const header = (headers: Record<string, unknown>, name: string) => (typeof headers[name] === 'string' ? (headers[name] as string) : null);
    void addon
      .httpClient({ clientKey })
      .get({ url, json: true, timeout: TIMEOUT_MS }, (error: unknown, response: { statusCode: number; headers: Record<string, unknown> }, body: unknown) => {
        if (error || response === undefined) return resolve(null);
        resolve({ status: response.statusCode, retryAfter: header(response.headers, 'retry-after'), date: header(response.headers, 'date'), body });
      })
      .catch(() => resolve(null));
  });
}

export interface HostDirectoryOptions {
  /** Whether the tenant has Connect credentials (ACE's clientInfo); a Forge installation has none. */
  hasCredentials(clientKey: string): Promise<boolean>;
  /** Epoch ms, for a Retry-After given as a date. */
  now(): number;
  /** Replaces the HTTP call (tests); ACE's client by default. */
  ask?: (clientKey: string, url: string) => Promise<HostAnswer | null>;
}

export function hostDirectory(addon: AddOn, options: HostDirectoryOptions): HostDirectory {
  const ask = options.ask ?? ((clientKey: string, url: string) => askHost(addon, clientKey, url));
  return {
    async usersActive(clientKey, accountIds): Promise<DirectoryResult> {
      if (!(await options.hasCredentials(clientKey))) return { ok: false, code: 'not_connect' };
      const query = new URLSearchParams(accountIds.map((id) => ['accountId', id]));
      query.set('maxResults', String(Math.max(accountIds.length, 1)));
      const bodies: unknown[] = [];
      let answeredAt: number | null = null;
      for (let startAt = 0, page = 0; page < MAX_PAGES; page += 1) {
        query.set('startAt', String(startAt));
        const answer = await ask(clientKey, `/rest/api/3/user/bulk?${query.toString()}`);
        if (answer === null) return { ok: false, code: 'host_unavailable' };
        if (answer.status === 429) return { ok: false, code: 'rate_limited', retryAfterMs: retryAfterMs(answer.retryAfter, options.now()) };
        if (answer.status !== 200) return { ok: false, code: 'host_unavailable' };
        answeredAt ??= hostTime(answer.date);
        bodies.push(answer.body);
        const parsed = userPage.safeParse(answer.body);
        if (!parsed.success || parsed.data.isLast || parsed.data.values.length === 0) break;
        startAt = parsed.data.startAt + parsed.data.values.length;
      }
      const statuses = statusesFrom(accountIds, bodies);
      return statuses === null ? { ok: false, code: 'host_unavailable' } : { ok: true, value: { statuses, answeredAt } };
    },
  };
}
