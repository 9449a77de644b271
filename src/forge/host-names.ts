/**
 * Names of a Forge installation's people, issues and projects: the same Jira calls the Connect side makes
 * (src/names/jira-answers.ts), sent to the FIT's `app.apiBaseUrl` with the app system token Forge put on the call.
 * The token serves this one request and is never logged or kept.
 */
import type { HostNames } from '../names/names';
import {
  askInBatches,
  BULK_FETCH_PATH,
  bulkFetchBody,
  bulkUsersPath,
  displayNamesFrom,
  issueKeysFrom,
  ISSUES_PER_CALL,
  NamesUnavailable,
  projectKeysFrom,
  PROJECTS_PER_CALL,
  projectSearchPath,
  USERS_PER_CALL,
} from '../names/jira-answers';

/** fetch's own bound on one call; the resolver gives up on a page's behalf sooner. */
const TIMEOUT_MS = 5_000;

/** Where and as whom a Forge call may ask Jira: the verified FIT's `app.apiBaseUrl` and the call's system token. */
export interface ForgeProductApi {
  apiBaseUrl: string;
  systemToken: string;
}

async function askJira(api: ForgeProductApi, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(`${api.apiBaseUrl.replace(/\/+$/, '')}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${api.systemToken}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'error',
    });
  } catch {
    throw new NamesUnavailable(null);
  }
  return { status: response.status, body: response.status === 200 ? await response.json().catch(() => null) : null };
}

export function forgeHostNames(api: ForgeProductApi): HostNames {
  return {
    displayNames: (accountIds) =>
      askInBatches(accountIds, USERS_PER_CALL, async (batch) => {
        const answer = await askJira(api, bulkUsersPath(batch));
        return displayNamesFrom(answer.status, answer.body);
      }),
    issueKeys: (issueIds) =>
      askInBatches(issueIds, ISSUES_PER_CALL, async (batch) => {
        const answer = await askJira(api, BULK_FETCH_PATH, bulkFetchBody(batch));
        return issueKeysFrom(answer.status, answer.body);
      }),
    projectKeys: (projectIds) =>
      askInBatches(projectIds, PROJECTS_PER_CALL, async (batch) => {
        const answer = await askJira(api, projectSearchPath(batch));
        return projectKeysFrom(answer.status, answer.body);
      }),
  };
}
