/** Messages between the hot-path bench and its server and load-generator processes. */
import type { IssueContext } from '../../src/host-simulator';

/** The issue every bench token is bound to. */
export const BENCH_ISSUE: IssueContext = { issueId: '10001', issueKey: 'BENCH-1', projectId: '10000', projectKey: 'BENCH' };

/**
 * Connect: plain, guard (bearer page token), ace (ACE's checkValidToken). Forge: forge-plain (the plain route
 * with a Forge call's headers), forge (FIT + X-Page-Token through the guard), ace-forge (ACE's authenticateForge).
 */
export type Route = 'plain' | 'guard' | 'ace' | 'forge-plain' | 'forge' | 'ace-forge';

const PATH: Record<Route, string> = {
  plain: 'plain',
  guard: 'guard',
  ace: 'ace',
  'forge-plain': 'plain',
  forge: 'forge',
  'ace-forge': 'ace-forge',
};

export function routeUrl(baseUrl: string, route: Route): string {
  return `${baseUrl}/bench/${PATH[route]}/${BENCH_ISSUE.issueId}`;
}

export interface ServerStart {
  kind: 'start';
  /** How many users render a panel: each gets a page token and an ACE session token. */
  users: number;
}

export interface UserTokens {
  accountId: string;
  pageToken: string;
  aceToken: string;
}

export interface StartedServer {
  baseUrl: string;
  pid: number;
  /**
   * Forge UI calls for the bench issue: the page token minted, and FITs to send it with, one per call in turn
   * (Forge signs a fresh one for every call; these live an hour, for the bench only).
   */
  forge: { fits: string[]; pageToken: string };
  /** The operator token for the admin API of the bench site. */
  operatorToken: string;
  tokens: UserTokens[];
}

/** One throughput run of autocannon against one URL. */
export interface LoadRun {
  kind: 'load';
  url: string;
  /** The headers of each request, taken in turn. */
  headers: Record<string, string>[];
  connections: number;
  seconds: number;
}

export interface LoadResult {
  /** 2xx answers per second over the run. */
  rps: number;
  ok: number;
  /** Answers other than 2xx, and socket errors or timeouts: a throughput run expects none. */
  failed: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

/** Load on the guarded route with every user's token in turn, while users are revoked one after another. */
export interface RevokeUnderLoad {
  kind: 'revoke-under-load';
  baseUrl: string;
  operatorToken: string;
  tokens: { accountId: string; pageToken: string }[];
  /** The users to revoke, in order; the other users' tokens must stay live. */
  revoke: string[];
  connections: number;
  /** Load before the first revocation, so every token is cached. */
  warmupSeconds: number;
}

export interface RevokeUnderLoadResult {
  requests: number;
  /** Requests with a revoked user's token, sent after that user's revocation call returned, and answered 200. */
  servedAfterRevocation: number;
  /** Requests sent after the revocation returned (all of which must be refused). */
  sentAfterRevocation: number;
  /** Requests with a live token (a user never revoked, or one not yet being revoked) answered other than 200. */
  liveRefused: number;
  /** Revocation call durations, ms. */
  revokeMs: number[];
  /** Requests per second over the whole run. */
  rps: number;
}
