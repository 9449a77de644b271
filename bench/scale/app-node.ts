/**
 * Figure 3's app node: the real app (store, cache, ACE, routes) in a process of its own, on the seeded
 * database. Its checks, revocations, sweep and resident memory are what the figure reports; the page
 * renders it serves are driven from the figure's own process.
 */
import '../lib/as-deployed';
import { createReadStream, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { systemClock } from '../../src/base/clock';
import { createSweeper } from '../../src/allowlist/sweeper';
import type { EntryStore, LastSeen } from '../../src/allowlist/types';
import { startApp, type AppStore, type RunningApp } from '../../src/app/app';
import { loadConfig, type Config } from '../../src/app/config';
import { createLogger } from '../../src/observability/logger';
import { openSequelizeStore } from '../../src/store/sequelize-store';
import { serveRequests } from '../lib/process';
import { distribution } from '../lib/stats';
import {
  parseTokenLine,
  type AppRequest,
  type AppStart,
  type CacheLookups,
  type CheckMiss,
  type CheckMissResult,
  type FillCache,
  type FillCacheResult,
  type GcPauses,
  type MemoryResult,
  type Profile,
  type RevokeUser,
  type RevokeUserResult,
  type StartedApp,
  type Sweep,
  type SweepResult,
  type TokenLine,
} from './protocol';

const DAY_MS = 24 * 60 * 60 * 1000;
const MB = 1024 * 1024;
const LONGEST_KEPT = 10;

interface Flush {
  startedAt: number;
  ms: number | null;
}

/**
 * Watches the app's store: counts its calls by method (how many round trips a page render costs), and times
 * its last-seen writes (a big one, after the cache fill, must be over before the sweep is timed).
 */
class StoreWatch {
  private readonly flushes: Flush[] = [];
  private readonly calls = new Map<string, number>();
  /** The checks' store reads, timed while a phase asks for them. */
  private reads: { start: number; ms: number }[] | null = null;

  /** The store with every call counted and `touchEntries` timed; the calls themselves go straight through. */
  observe<S extends AppStore>(store: S): S {
    return new Proxy(store, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || typeof property !== 'string' || !STORE_METHODS.has(property)) return value;
        this.calls.set(property, (this.calls.get(property) ?? 0) + 1);
        if (property === 'touchEntries') return (seen: LastSeen[]) => this.timed(target, seen);
        if (property === 'loadEntryState' && this.reads !== null) return (idHash: string) => this.timedRead(target, idHash);
        return value;
      },
    });
  }

  /** Starts timing the checks' store reads (`loadEntryState`). */
  timeReads(): void {
    this.reads = [];
  }

  /** Stops timing reads; answers those made so far. */
  takeReads(): { start: number; ms: number }[] {
    const reads = this.reads ?? [];
    this.reads = null;
    return reads;
  }

  private async timedRead(store: EntryStore, idHash: string) {
    const start = performance.now();
    try {
      return await store.loadEntryState(idHash);
    } finally {
      this.reads?.push({ start, ms: performance.now() - start });
    }
  }

  /** Calls so far, by method. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.calls);
  }

  /** Resolves with the duration of the first flush that started after `since` once it is done; null if none came in time. */
  async settledAfter(since: number, timeoutMs: number): Promise<number | null> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const done = this.flushes.find((flush) => flush.startedAt >= since && flush.ms !== null);
      if (done !== undefined) return done.ms;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return null;
  }

  /** Durations of the flushes that overlapped [from, to]. */
  during(from: number, to: number): number[] {
    return this.flushes
      .filter((flush) => flush.startedAt <= to && (flush.ms === null || flush.startedAt + flush.ms >= from))
      .map((flush) => flush.ms ?? to - flush.startedAt);
  }

  private async timed(store: EntryStore, seen: LastSeen[]): Promise<void> {
    const flush: Flush = { startedAt: performance.now(), ms: null };
    this.flushes.push(flush);
    try {
      await store.touchEntries(seen);
    } finally {
      flush.ms = performance.now() - flush.startedAt;
    }
  }
}

/**
 * The store calls the figure counts: entries (but the mint's state read), listing, tombstones, tenants and policy,
 * settings, notes, audit, ping and close; not the replay ledger, token chains or installation links, nor the store's own helpers.
 */
const STORE_METHODS = new Set<string>([
  'insertEntry', 'loadEntryState', 'revokeEntries', 'sweepExpired', 'getTombstone', 'putTombstone', 'putTombstoneAndRevoke', 'touchEntries',
  'listEntries', 'countLiveEntries', 'isKnownUser', 'getPolicy', 'putPolicy', 'getTenant', 'putTenant', 'getSetting',
  'setSetting', 'deleteSetting', 'listSettings', 'listNotes', 'addNote', 'appendAudit', 'listAudit', 'deleteAuditBefore',
  'ping', 'close',
] satisfies (keyof AppStore)[]);

let node: { app: RunningApp; config: Config; watch: StoreWatch } | null = null;

function running(): { app: RunningApp; config: Config; watch: StoreWatch } {
  if (node === null) throw new Error('the app node is not started');
  return node;
}

/** The token lines of a file, read a chunk at a time: a million-line file never sits in this process's memory. */
async function* tokenLines(file: string): AsyncGenerator<TokenLine> {
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 })) {
    const lines = (rest + String(chunk)).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line !== '') yield parseTokenLine(line);
  }
  if (rest !== '') yield parseTokenLine(rest);
}

async function readTokenLines(file: string): Promise<TokenLine[]> {
  const lines: TokenLine[] = [];
  for await (const line of tokenLines(file)) lines.push(line);
  return lines;
}

function tally(counts: Record<string, number>, code: string): void {
  counts[code] = (counts[code] ?? 0) + 1;
}

/** The cache lookups the app's own metrics counted (hit, miss, bypass), read from its /metrics as an operator would. */
async function cacheLookups(): Promise<CacheLookups> {
  const started = performance.now();
  const text = await (await fetch(`${running().app.baseUrl}/metrics`)).text();
  const scrapeMs = performance.now() - started;
  const count = (outcome: string) =>
    Number(new RegExp(`^panelguard_entry_cache_lookups_total\\{outcome="${outcome}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { hit: count('hit'), miss: count('miss'), bypass: count('bypass'), scrapeMs };
}

async function start(request: AppStart): Promise<StartedApp> {
  const config = loadConfig(request.env);
  const watch = new StoreWatch();
  const store = await openSequelizeStore(config.databaseUrl);
  // Logs go to stderr, so that a figure run's stdout stays the report's.
  const app = await startApp(config, { store: watch.observe(store), logger: createLogger(config.logLevel, process.stderr) });
  node = { app, config, watch };
  return { baseUrl: app.baseUrl, appKey: app.addon.key, cacheMaxEntries: config.cacheMaxEntries, cacheTtlSeconds: config.cacheTtlSeconds };
}

/** Garbage collections while it is open, to tell a slow call that waited on one from one that waited on the store. */
class GcWatch {
  private readonly pauses: { start: number; end: number }[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) this.pauses.push({ start: entry.startTime, end: entry.startTime + entry.duration });
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Stops watching; says how the slowest 1% of the calls (start, ms) relate to the collections seen. */
  close(calls: { start: number; ms: number }[]): GcPauses {
    this.observer.disconnect();
    const slowest = [...calls].sort((a, b) => b.ms - a.ms).slice(0, Math.ceil(calls.length / 100));
    const overlaps = (call: { start: number; ms: number }) => this.pauses.some((gc) => gc.start < call.start + call.ms && gc.end > call.start);
    const durations = this.pauses.map((gc) => gc.end - gc.start);
    return {
      count: durations.length,
      totalMs: durations.reduce((sum, ms) => sum + ms, 0),
      maxMs: durations.length === 0 ? 0 : Math.max(...durations),
      slowestOverlapping: slowest.filter(overlaps).length,
      slowest: slowest.length,
    };
  }
}

/** Each token's first check: nothing is cached for it, so the store is read. */
async function checkMiss(request: CheckMiss): Promise<CheckMissResult> {
  const { app, watch } = running();
  const { allowlist } = app;
  const lines = await readTokenLines(request.file);
  const refused: Record<string, number> = {};
  const calls: { start: number; ms: number }[] = [];
  const warmupSamples: number[] = [];
  const before = await cacheLookups();
  let gc: GcWatch | null = null;
  for (const [index, { token, resource }] of lines.entries()) {
    if (index === request.warmup) {
      gc = new GcWatch();
      watch.timeReads();
    }
    const started = performance.now();
    const result = await allowlist.check(token, resource);
    const ms = performance.now() - started;
    if (index >= request.warmup) calls.push({ start: started, ms });
    else warmupSamples.push(ms);
    if (!result.ok) tally(refused, result.code);
  }
  const reads = watch.takeReads();
  const gcPauses = (gc ?? new GcWatch()).close(calls);
  // The store read inside each of the slowest checks (reads and checks pair up in order: one read per check).
  const slowest = calls
    .map((call, index) => ({ ...call, readMs: reads[index]?.ms ?? Number.NaN }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, gcPauses.slowest);
  return {
    samples: calls.map((call) => call.ms),
    warmupSamples,
    refused,
    lookups: { before, after: await cacheLookups() },
    gc: gcPauses,
    slowest: slowest.map(({ ms, readMs }) => ({ ms, readMs })),
  };
}

async function checkTokens(tokens: { token: string; resource: string }[]): Promise<string[]> {
  const { allowlist } = running().app;
  const outcomes: string[] = [];
  for (const { token, resource } of tokens) {
    const result = await allowlist.check(token, resource);
    outcomes.push(result.ok ? 'ok' : result.code);
  }
  return outcomes;
}

async function revokeUser(request: RevokeUser): Promise<RevokeUserResult> {
  const { allowlist } = running().app;
  const sample = await readTokenLines(request.file);
  const before = await checkTokens(sample);
  const started = performance.now();
  const revocation = await allowlist.revoke(
    { kind: 'user', clientKey: request.clientKey, accountId: request.accountId },
    { actor: 'bench', reason: 'bench' },
  );
  const ms = performance.now() - started;
  if (!revocation.ok) throw new Error(`the bench's revocation failed: ${revocation.code}`);
  const after = await checkTokens(sample);
  return {
    ms,
    count: revocation.value.count,
    okBefore: before.filter((outcome) => outcome === 'ok').length,
    refusedAfter: after.filter((outcome) => outcome === 'token_revoked').length,
    sampled: sample.length,
  };
}

async function fillCache(request: FillCache): Promise<FillCacheResult> {
  const { app, config, watch } = running();
  const before = memoryBreakdown();
  const started = performance.now();
  const refused: Record<string, number> = {};
  const first: TokenLine[] = [];
  const last: TokenLine[] = [];
  let batch: TokenLine[] = [];
  let checked = 0;
  const checkBatch = async () => {
    const results = await Promise.all(batch.map((line) => app.allowlist.check(line.token, line.resource)));
    for (const result of results) if (!result.ok) tally(refused, result.code);
    checked += batch.length;
    batch = [];
  };
  for await (const line of tokenLines(request.file)) {
    if (first.length < request.probe) first.push(line);
    last.push(line);
    if (last.length > request.probe) last.shift();
    batch.push(line);
    if (batch.length === request.concurrency) await checkBatch();
  }
  if (batch.length > 0) await checkBatch();
  const filledAt = performance.now();

  // The first tokens checked were cached; the last ones came when the cache was at its cap, so they were not.
  const beforeProbe = await cacheLookups();
  await checkTokens(first);
  const afterFirst = await cacheLookups();
  await checkTokens(last);
  const afterLast = await cacheLookups();

  // The fill left a last-seen write per token behind; memory is read once it is written.
  const flushMs = await watch.settledAfter(filledAt, (2 * config.lastSeenFlushSeconds + 60) * 1000);
  const memory = process.memoryUsage();
  return {
    checked,
    refused,
    seconds: (filledAt - started) / 1000,
    firstHits: afterFirst.hit - beforeProbe.hit,
    lastMisses: afterLast.miss - afterFirst.miss,
    flushMs,
    rssMb: memory.rss / MB,
    heapUsedMb: memory.heapUsed / MB,
    memoryBeforeMb: before,
  };
}

/**
 * The real sweeper, wired as the app wires it, run to completion while a check loop goes round live tokens,
 * each forgotten from the cache first so that every check reads the store.
 */
async function sweep(request: Sweep): Promise<SweepResult> {
  const { app, config, watch } = running();
  const tokens = await readTokenLines(request.file);
  if (tokens.length === 0) throw new Error('no live tokens to check during the sweep');
  const batchMs: number[] = [];
  let sweepFailure: unknown = null;
  const sweeper = createSweeper({
    // The bench's sweep must not fail quietly: its store failure ends the figure, below.
    onStoreFailure: (_verb, error) => {
      sweepFailure = error;
    },
    store: {
      async sweepExpired(before, limit) {
        const started = performance.now();
        const deleted = await app.store.sweepExpired(before, limit);
        batchMs.push(performance.now() - started);
        return deleted;
      },
      deleteAuditBefore: (before, limit) => app.store.deleteAuditBefore(before, limit),
      sweepClaims: (before, limit) => app.store.sweepClaims(before, limit),
    },
    clock: systemClock,
    auditRetentionMs: config.auditRetentionDays * DAY_MS,
  });

  const before = await cacheLookups();
  const checkMs: number[] = [];
  const checkAt: number[] = [];
  const refused: Record<string, number> = {};
  const delay = monitorEventLoopDelay({ resolution: 10 });
  const gc = new GcWatch();
  let sweeping = true;
  const sweepStarted = performance.now();
  const loop = (async () => {
    for (let i = 0; sweeping; i++) {
      const { token, resource, idHash } = tokens[i % tokens.length];
      app.states.forget({ kind: 'token', idHash });
      const started = performance.now();
      const result = await app.allowlist.check(token, resource);
      checkMs.push(performance.now() - started);
      checkAt.push(started - sweepStarted);
      if (!result.ok) tally(refused, result.code);
    }
  })();
  delay.enable();
  let sweepEnded = sweepStarted;
  const swept = await sweeper.sweep().finally(async () => {
    sweepEnded = performance.now();
    sweeping = false;
    await loop;
    delay.disable();
  });
  if (!swept.ok) throw sweepFailure instanceof Error ? sweepFailure : new Error(`the sweep failed: ${swept.code}`);

  const calls = checkMs.map((ms, index) => ({ start: sweepStarted + checkAt[index], ms }));
  const gcPauses = gc.close(calls);
  const longest = checkMs
    .map((ms, index) => ({ atMs: checkAt[index], ms }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, LONGEST_KEPT);
  return {
    ms: sweepEnded - sweepStarted,
    deleted: swept.value.entries,
    batches: batchMs.length,
    batchMs: distribution(batchMs),
    checkMs: distribution(checkMs),
    refused,
    longest,
    eventLoopDelayMaxMs: delay.max / 1e6,
    flushesMs: watch.during(sweepStarted, sweepEnded),
    lookups: { before, after: await cacheLookups() },
    gc: gcPauses,
    memoryAfterMb: memoryBreakdown(),
  };
}

/** Where the resident set is: V8's heap (used of total), and what lives outside it. */
function memoryBreakdown(): Record<string, number> {
  const usage = process.memoryUsage();
  const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;
  return { rss: mb(usage.rss), heapTotal: mb(usage.heapTotal), heapUsed: mb(usage.heapUsed), external: mb(usage.external) };
}

function memory(): MemoryResult {
  // maxRSS is in kilobytes.
  return { rssMb: process.memoryUsage().rss / MB, maxRssMb: (process.resourceUsage().maxRSS * 1024) / MB };
}

let profiler: Session | null = null;

/** A CPU profile of this process, for finding where a missed target's time goes. */
async function profile(request: Profile): Promise<void> {
  if (request.action === 'start') {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
    return;
  }
  if (profiler === null) throw new Error('no profile is running');
  const { profile: recorded } = await profiler.post('Profiler.stop');
  profiler.disconnect();
  profiler = null;
  if (request.file !== undefined) writeFileSync(request.file, JSON.stringify(recorded));
}

function cpuTimeMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function stop(): Promise<void> {
  const stopping = node;
  node = null;
  await stopping?.app.close();
}

serveRequests(async (request: AppRequest) => {
  switch (request.kind) {
    case 'start':
      return start(request);
    case 'check-miss':
      return checkMiss(request);
    case 'check':
      return checkTokens(request.tokens);
    case 'revoke-user':
      return revokeUser(request);
    case 'fill-cache':
      return fillCache(request);
    case 'sweep':
      return sweep(request);
    case 'memory':
      return memory();
    case 'count-live':
      return running().app.store.countLiveEntries(systemClock.now(), request.clientKey);
    case 'cpu-time':
      return cpuTimeMs();
    case 'store-calls':
      return running().watch.counts();
    case 'profile':
      return profile(request);
    case 'stop':
      return stop();
  }
});
process.on('SIGTERM', () => {
  stop().finally(() => process.exit(0));
});
