/**
 * The three Jira REST calls that name people, issues and projects, the same through either door: the bulk user API
 * (`GET /rest/api/3/user/bulk`), bulk issue fetch (`POST /rest/api/3/issue/bulkfetch`) and the paginated project
 * search (`GET /rest/api/3/project/search?id=...`), and how their answers are read.
 */
import { z } from 'zod';

/** Jira answers the bulk user API 200 at a time at most, and bulk fetch 100 issues at a time when fields are named. */
export const USERS_PER_CALL = 200;
export const ISSUES_PER_CALL = 100;
/** Jira Cloud answers project search 50 projects a page at most, so 50 ids fit one page and no call needs a second. */
export const PROJECTS_PER_CALL = 50;

/** Jira's `PageBeanUser`, as far as names are read. */
const userPage = z
  .object({ values: z.array(z.object({ accountId: z.string().min(1), displayName: z.string().optional() }).passthrough()) })
  .passthrough();

/** Jira's `BulkIssueResults`, as far as keys are read. */
const issueResults = z
  .object({ issues: z.array(z.object({ id: z.string().min(1), key: z.string().min(1) }).passthrough()).default([]) })
  .passthrough();

/** Jira's `PageBeanProject`, as far as keys are read. */
const projectPage = z
  .object({ values: z.array(z.object({ id: z.string().min(1), key: z.string().min(1) }).passthrough()) })
  .passthrough();

/** The path that asks for the users `accountIds` (at most USERS_PER_CALL) in one page. */
export function bulkUsersPath(accountIds: readonly string[]): string {
  const query = new URLSearchParams(accountIds.map((id) => ['accountId', id]));
  query.set('maxResults', String(Math.max(accountIds.length, 1)));
  return `/rest/api/3/user/bulk?${query.toString()}`;
}

export const BULK_FETCH_PATH = '/rest/api/3/issue/bulkfetch';

/** The body that asks for the issues `issueIds` (at most ISSUES_PER_CALL), with no field but the key, which every issue carries. */
export function bulkFetchBody(issueIds: readonly string[]): { issueIdsOrKeys: string[]; fields: string[] } {
  return { issueIdsOrKeys: [...issueIds], fields: ['issuekey'] };
}

/** The path that asks for the projects `projectIds` (at most PROJECTS_PER_CALL) in one page. */
export function projectSearchPath(projectIds: readonly string[]): string {
  const query = new URLSearchParams(projectIds.map((id) => ['id', id]));
  query.set('maxResults', String(Math.max(projectIds.length, 1)));
  return `/rest/api/3/project/search?${query.toString()}`;
}

/** Thrown for anything but a 200 with the documented shape: the caller shows ids. */
export class NamesUnavailable extends Error {
  constructor(readonly status: number | null) {
    super(status === null ? 'the host could not be reached' : `the host answered ${status}`);
    this.name = 'NamesUnavailable';
  }
}

/** Display names by account id from the bulk user API's answer; a user without one is left out. */
export function displayNamesFrom(status: number, body: unknown): Map<string, string> {
  if (status !== 200) throw new NamesUnavailable(status);
  const page = userPage.safeParse(body);
  if (!page.success) throw new NamesUnavailable(200);
  const names = new Map<string, string>();
  for (const user of page.data.values) if (user.displayName !== undefined && user.displayName.trim() !== '') names.set(user.accountId, user.displayName);
  return names;
}

/** Issue keys by issue id from bulk fetch's answer; issues Jira did not return (deleted, not visible) are left out. */
export function issueKeysFrom(status: number, body: unknown): Map<string, string> {
  if (status !== 200) throw new NamesUnavailable(status);
  const results = issueResults.safeParse(body);
  if (!results.success) throw new NamesUnavailable(200);
  return new Map(results.data.issues.map((issue) => [issue.id, issue.key] as const));
}

/**
 * Project keys by project id from project search's answer; projects Jira did not return (deleted, archived, not
 * visible to the app) are left out.
 */
export function projectKeysFrom(status: number, body: unknown): Map<string, string> {
  if (status !== 200) throw new NamesUnavailable(status);
  const page = projectPage.safeParse(body);
  if (!page.success) throw new NamesUnavailable(200);
  return new Map(page.data.values.map((project) => [project.id, project.key] as const));
}

/** `ids` in runs of `size`, each one call. */
export function inBatches<T>(ids: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < ids.length; start += size) batches.push(ids.slice(start, start + size));
  return batches;
}

/** Asks each batch in turn and merges the answers; the first failure rejects the whole. */
export async function askInBatches(ids: readonly string[], size: number, ask: (batch: string[]) => Promise<Map<string, string>>): Promise<Map<string, string>> {
  const merged = new Map<string, string>();
  for (const batch of inBatches(ids, size)) for (const [id, name] of await ask(batch)) merged.set(id, name);
  return merged;
}
