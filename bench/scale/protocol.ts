/** Messages between figure 3 and its two processes: the seeder, and the app node whose figures are reported. */
import type { Distribution } from '../lib/stats';
import type { ScalePlan, ScaleStore } from './plan';

/**
 * Token files hold one checkable token a line: `<page token> <resource> <id hash>`. Only these samples are kept
 * as strings; the other seeded tokens exist as their entries alone.
 */
export interface TokenLine {
  token: string;
  resource: string;
  idHash: string;
}

export function formatTokenLine(line: TokenLine): string {
  return `${line.token} ${line.resource} ${line.idHash}`;
}

export function parseTokenLine(text: string): TokenLine {
  const [token, resource, idHash] = text.split(' ');
  if (token === undefined || resource === undefined || idHash === undefined) throw new Error('malformed token line');
  return { token, resource, idHash };
}

// ---- seeder -------------------------------------------------------------------

export interface SeedOpen {
  kind: 'open';
  store: ScaleStore;
  databaseUrl: string;
  pageTokenSecret: string;
  appKey: string;
  plan: ScalePlan;
  /**
   * The site the host simulator installs, as its install will name it: seeded so, since an install at another base
   * URL ends every session of the site (tenant_base_url_changed), which would refuse its seeded tokens.
   */
  simulatedBaseUrl: string;
  /** Where the token files go. */
  dir: string;
}

/** Seeds the next `rows` rows; answers how many are seeded so far, of how many. */
export interface SeedRows {
  kind: 'seed';
  rows: number;
}

export interface SeedProgress {
  seeded: number;
  total: number;
}

/** Writes the token files and brings the database to its steady state (statistics, WAL checkpoint). */
export interface SeedFinish {
  kind: 'finish';
}

export interface SeededFiles {
  miss: string;
  fill: string;
  sweep: string;
  revoked: { clientKey: string; accountId: string; file: string }[];
  /** Rows written, tenants included. */
  entries: number;
  tenants: number;
  seconds: number;
}

/** Makes every seeded population row expired more than an hour ago; answers how many rows changed. */
export interface SeedExpire {
  kind: 'expire';
}

/** How many rows of the seeded population are still stored (after the sweep: none). */
export interface SeedCountPopulation {
  kind: 'count-population';
}

export type SeederRequest = SeedOpen | SeedRows | SeedFinish | SeedExpire | SeedCountPopulation | { kind: 'close' };

// ---- app node -------------------------------------------------------------------

export interface AppStart {
  kind: 'start';
  /** The whole environment the app's configuration is read from. */
  env: Record<string, string>;
}

export interface StartedApp {
  baseUrl: string;
  appKey: string;
  cacheMaxEntries: number;
  cacheTtlSeconds: number;
}

/** The entry-state lookups the app's metrics counted so far, and how long the scrape took. */
export interface CacheLookups {
  hit: number;
  miss: number;
  bypass: number;
  scrapeMs: number;
}

export interface CheckMiss {
  kind: 'check-miss';
  file: string;
  warmup: number;
}

export interface CheckMissResult {
  /** Per-call ms of the timed checks. */
  samples: number[];
  /** Per-call ms of the warm-up checks. */
  warmupSamples: number[];
  /** Checks (warm-up included) that did not answer ok, by code. */
  refused: Record<string, number>;
  lookups: { before: CacheLookups; after: CacheLookups };
  /** Garbage collections during the timed checks, and how many of the slowest 1% of checks overlapped one. */
  gc: GcPauses;
  /** The slowest 1% of the timed checks: each one's ms, and the ms of the store read inside it. */
  slowest: { ms: number; readMs: number }[];
}

export interface GcPauses {
  count: number;
  totalMs: number;
  maxMs: number;
  /** Of the slowest 1% of the calls timed, how many overlapped a collection. */
  slowestOverlapping: number;
  slowest: number;
}

/** Checks each token once, in order; answers each outcome ('ok' or the deny code). */
export interface CheckTokens {
  kind: 'check';
  tokens: { token: string; resource: string }[];
}

export interface RevokeUser {
  kind: 'revoke-user';
  clientKey: string;
  accountId: string;
  /** A sample of the user's tokens, checked (and so cached) before and refused after. */
  file: string;
}

export interface RevokeUserResult {
  ms: number;
  count: number;
  okBefore: number;
  refusedAfter: number;
  sampled: number;
}

export interface FillCache {
  kind: 'fill-cache';
  file: string;
  concurrency: number;
  /** How many of the first and of the last tokens are checked again to prove the cache is at its cap. */
  probe: number;
}

export interface FillCacheResult {
  checked: number;
  refused: Record<string, number>;
  seconds: number;
  /** Of the first tokens checked again: found in the cache. */
  firstHits: number;
  /** Of the last tokens checked again: not in the cache (it was full when they came). */
  lastMisses: number;
  /** The last-seen flush the fill caused, waited for before memory is read. */
  flushMs: number | null;
  rssMb: number;
  heapUsedMb: number;
  /** The process's memory before the fill: resident, V8's heap total and used, external. */
  memoryBeforeMb: Record<string, number>;
}

export interface Sweep {
  kind: 'sweep';
  /** Live tokens the concurrent check loop goes round, each forgotten from the cache before its check. */
  file: string;
}

export interface SweepResult {
  ms: number;
  deleted: number;
  batches: number;
  /** Per-batch ms of the sweep's DELETE statements. */
  batchMs: Distribution;
  /** Per-call ms of the checks made while the sweep ran. */
  checkMs: Distribution;
  refused: Record<string, number>;
  /** The longest checks, with when they started (ms after the sweep began). */
  longest: { atMs: number; ms: number }[];
  eventLoopDelayMaxMs: number;
  /** Last-seen writes that overlapped the sweep (they compete with it and with the checks for the store), ms each. */
  flushesMs: number[];
  lookups: { before: CacheLookups; after: CacheLookups };
  gc: GcPauses;
  /** The app process's memory when the sweep was over: resident, V8's heap total and used, external. */
  memoryAfterMb: Record<string, number>;
}

export interface Memory {
  kind: 'memory';
}

export interface MemoryResult {
  rssMb: number;
  /** The process's peak resident set since it started. */
  maxRssMb: number;
}

export interface CountLive {
  kind: 'count-live';
  clientKey: string;
}

/** CPU time the app process has used so far (user and system), in ms. */
export interface CpuTime {
  kind: 'cpu-time';
}

/** The app's store calls so far, by method. */
export interface StoreCalls {
  kind: 'store-calls';
}

/** Starts, or stops and writes to `file`, a CPU profile of the app process (Chrome DevTools' .cpuprofile). */
export interface Profile {
  kind: 'profile';
  action: 'start' | 'stop';
  file?: string;
}

export type AppRequest =
  | AppStart
  | CheckMiss
  | CheckTokens
  | RevokeUser
  | FillCache
  | Sweep
  | Memory
  | CountLive
  | CpuTime
  | StoreCalls
  | Profile
  | { kind: 'stop' };
