/**
 * Names of a Connect site's people, issues and projects, asked as the app through ACE's HTTP client (JWT-signed
 * with the site's shared secret): the bulk user API, bulk issue fetch and project search (src/names/jira-answers.ts).
 */
import { NoWayToAsk, type HostNames } from '../names/names';
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
import type { AddOn } from './addon';

/** ACE's own bound on one call; the resolver gives up on a page's behalf sooner. */
const TIMEOUT_MS = 5_000;

export type Answer = { status: number; body: unknown };
/** One call to the host as the app. */
export type Ask = (request: { method: 'get' | 'post'; url: string; json: unknown }) => Promise<Answer>;

function askThroughAce(addon: AddOn, clientKey: string): Ask {
  return ({ method, url, json }) =>
    new Promise<Answer>((resolve, reject) => {
      const answered = (error: unknown, response: { statusCode: number } | undefined, body: unknown): void => {
        if (error || response === undefined) return reject(new NamesUnavailable(null));
        resolve({ status: response.statusCode, body });
      };
      const client = addon.httpClient({ clientKey });
      const options = { url, json, timeout: TIMEOUT_MS };
      const sent: Promise<unknown> = method === 'get' ? client.get(options, answered) : client.post(options, answered);
      void sent.catch(() => reject(new NamesUnavailable(null)));
    });
}

export interface ConnectNamesOptions {
  /** Whether the site has Connect credentials (ACE's clientInfo); a Forge-only installation has none to ask with. */
  hasCredentials(clientKey: string): Promise<boolean>;
  /** Replaces ACE's client (tests). */
  ask?: Ask;
}

/** How to ask one site's host, as the app; a site without Connect credentials cannot be asked this way (NoWayToAsk). */
export function connectHostNames(addon: AddOn, clientKey: string, options: ConnectNamesOptions): HostNames {
  const ask = options.ask ?? askThroughAce(addon, clientKey);
  const withCredentials =
    (lookUp: (ids: readonly string[]) => Promise<Map<string, string>>) =>
    async (ids: readonly string[]): Promise<Map<string, string>> => {
      if (!(await options.hasCredentials(clientKey))) throw new NoWayToAsk();
      return lookUp(ids);
    };
  return {
    displayNames: withCredentials((accountIds) =>
      askInBatches(accountIds, USERS_PER_CALL, async (batch) => {
        const answer = await ask({ method: 'get', url: bulkUsersPath(batch), json: true });
        return displayNamesFrom(answer.status, answer.body);
      }),
    ),
    issueKeys: withCredentials((issueIds) =>
      askInBatches(issueIds, ISSUES_PER_CALL, async (batch) => {
        const answer = await ask({ method: 'post', url: BULK_FETCH_PATH, json: bulkFetchBody(batch) });
        return issueKeysFrom(answer.status, answer.body);
      }),
    ),
    projectKeys: withCredentials((projectIds) =>
      askInBatches(projectIds, PROJECTS_PER_CALL, async (batch) => {
        const answer = await ask({ method: 'get', url: projectSearchPath(batch), json: true });
        return projectKeysFrom(answer.status, answer.body);
      }),
    ),
  };
}
