/** Messages between the hot-path bench and its server and load-generator processes. */
import type { IssueContext } from '../../src/host-simulator';

/** The issue every bench token is bound to. */
export const BENCH_ISSUE: IssueContext = { issueId: '10001', issueKey: 'BENCH-1', projectId: '10000', projectKey: 'BENCH' };

/**
 * Connect: plain, guard (bearer page token), ace (ACE's checkValidToken). Forge: forge-plain (the plain route
 * with a Forge call's headers), forge (FIT + X-Page-Token through the guard), ace-forge (ACE's authenticateForge).
 * Theft detection, each sent by a page client (see PageRun) and against the plain route sent by the same client:
 * rotating-plain and rotating (a page that follows Page-Token-Next), bound-plain and bound (a page on the site
 * that binds tokens to keys, a DPoP proof per call).
 */
export type Route = 'plain' | 'guard' | 'ace' | 'forge-plain' | 'forge' | 'ace-forge' | 'rotating-plain' | 'rotating' | 'bound-plain' | 'bound';

const PATH: Record<Route, string> = {
  plain: 'plain',
  guard: 'guard',
  ace: 'ace',
  'forge-plain': 'plain',
  forge: 'forge',
  'ace-forge': 'ace-forge',
  'rotating-plain': 'plain',
  rotating: 'guard',
  'bound-plain': 'plain',
  bound: 'guard',
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
  /** A page token of a session of its own, for the page that follows Page-Token-Next (the server rotates every ROTATE_AFTER_SECONDS). */
  rotatingPageToken: string;
  /** A page token on the second site, the one whose policy binds tokens to keys; not yet bound to any key. */
  boundPageToken: string;
  /** The server's ROTATE_AFTER_SECONDS and ROTATION_GRACE_SECONDS, for the figure's notes. */
  rotation: { afterSeconds: number; graceSeconds: number };
}

/**
 * A page as the load drives it, its state kept in the load process from one run to the next: the token it holds
 * now and, when it signs its calls, its key. Every request is built for the moment it is sent, as a page's would be.
 */
export interface PageRun {
  /** Runs naming the same page share its current token and key. */
  name: string;
  /** The token the page holds before its first run. */
  token: string;
  /** Switch to the token an answer offers in Page-Token-Next, as a page does. */
  follow: boolean;
  /**
   * A DPoP proof in every call: 'fresh' takes each proof from a pool made before the run and uses it once (a
   * replayed jti is refused); 'cycled' takes them in turn from a pool of 1,000, for a route that reads none.
   */
  proofs: 'none' | 'fresh' | 'cycled';
}

/** One throughput run of autocannon against one URL: fixed headers taken in turn, or a page's own. */
export interface LoadRun {
  kind: 'load';
  url: string;
  send: { headers: Record<string, string>[] } | { page: PageRun };
  connections: number;
  seconds: number;
}

/** The page's key made, and its session bound to it by one call of `url` (a guarded route) with a proof. */
export interface BindPage {
  kind: 'bind-page';
  page: PageRun;
  url: string;
}

export interface LoadResult {
  /** 2xx answers per second over the run. */
  rps: number;
  ok: number;
  /** Answers other than 2xx, and socket errors or timeouts: a throughput run expects none. */
  failed: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** A page run's token switches (Page-Token-Next followed); 0 otherwise. */
  rotations: number;
  /** A page run's proofs made before it, outside its timing; 0 otherwise. */
  proofsMade: number;
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
