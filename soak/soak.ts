/**
 * One chaos soak: a three-node cluster under steady load from many users, revocations and
 * faults at random for a fixed time, then every revoked token re-checked on every node, and
 * the oracle's verdict over everything that was sent and answered.
 */
import type { BusKind } from '../test/integration/cluster-harness';
import { startSoakCluster } from './cluster';
import { driveFaults, type FaultOptions } from './faults';
import { Ledger, soakClock, type Ms } from './ledger';
import { judge, kills, untouchedTokens, type OracleSettings, type Verdict } from './oracle';
import { seededRandom } from './random';
import { driveRevocations, type RevocationCounts } from './revocations';
import { send, Site, type Tab } from './site';

export interface SoakOptions {
  durationMs: number;
  bus: BusKind;
  users: number;
  issues: number;
  /** Guarded API calls per second the load aims at, across all its loops. */
  apiRate: number;
  /** Loops the API calls are spread over: the most calls in flight at once. */
  apiConcurrency: number;
  /** Page renders (mints) per second. */
  renderRate: number;
  revocationGapMs: number;
  reactivateAfterMs: [number, number];
  faults: FaultOptions;
  cacheTtlSeconds: number;
  tokenTtlSeconds: number;
  seed: number;
  /** Progress lines, for a person watching. */
  log: (message: string) => void;
}

export interface SoakResult {
  options: Omit<SoakOptions, 'log'>;
  startedAt: string;
  /** Seconds of load, revocations and faults (setup and the final re-check not included). */
  seconds: number;
  verdict: Verdict;
  ledger: Ledger;
  revocations: RevocationCounts;
  oracle: OracleSettings;
  /** Where the nodes' logs are, for investigating a violation. */
  logDir: string;
}

export type SoakChoices = Pick<SoakOptions, 'durationMs' | 'bus' | 'log'> & Partial<Omit<SoakOptions, 'durationMs' | 'bus' | 'log'>>;

/**
 * A soak's settings from what its caller chose. Short runs (under two minutes: the test suite's) revoke and fault
 * more often, so that every kind of fault happens at least once and each revocation meets one.
 */
export function soakOptions(choices: SoakChoices): SoakOptions {
  const short = choices.durationMs < 120_000;
  const users = choices.users ?? 300;
  return {
    users,
    issues: 6,
    apiRate: 120,
    apiConcurrency: 12,
    renderRate: Math.max(2, users / 40),
    revocationGapMs: short ? 700 : 2_000,
    reactivateAfterMs: short ? [2_000, 6_000] : [5_000, 25_000],
    faults: short ? { meanGapMs: 2_500, holdMs: [1_500, 3_000], maxConcurrent: 2 } : { meanGapMs: 8_000, holdMs: [2_000, 10_000], maxConcurrent: 2 },
    cacheTtlSeconds: 30,
    // The longest lifetime PanelGuard allows: the final re-check must find revoked tokens refused for being revoked, not expired.
    tokenTtlSeconds: 3_600,
    seed: 1,
    ...choices,
  };
}

/** How far the soak's clock and the nodes' may stand apart, and how late a node may apply an expiry; see oracle.ts. */
const CLOCK_SLACK_MS = 1_000;
/** Untouched tokens re-checked at the end beside the revoked ones: the re-check must also serve what is live. */
const UNTOUCHED_CHECKED = 100;
const RENDER_LOOPS = 2;
const FINAL_CHECK_CONCURRENCY = 8;
const HEAL_TIMEOUT_MS = 90_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { log } = options;
  const random = seededRandom(options.seed);
  const ledger = new Ledger();
  const oracle: OracleSettings = { cacheTtlMs: options.cacheTtlSeconds * 1000, clockSlackMs: CLOCK_SLACK_MS };
  log(`starting three nodes on a fresh PostgreSQL database, ${options.bus} bus, links through relays`);
  const cluster = await startSoakCluster({ bus: options.bus, cacheTtlSeconds: options.cacheTtlSeconds, tokenTtlSeconds: options.tokenTtlSeconds }, ledger);
  try {
    log(`nodes up; their logs: ${cluster.logDir}`);
    const site = new Site(cluster.stack.sim, ledger, random, { users: options.users, issues: options.issues, postShare: 0.05 }, cluster.nodeNameOf);
    await inParallel(site.tabs, FINAL_CHECK_CONCURRENCY, async (tab) => {
      await site.render(tab);
    });
    log(`${site.users.length} users with ${site.tabs.length} open panels on ${site.issues.size} issues; load, revocations and faults for ${Math.round(options.durationMs / 1000)} s (seed ${options.seed})`);

    ledger.startedAt = soakClock();
    const until = ledger.startedAt + options.durationMs;
    const progress = setInterval(() => log(progressLine(ledger)), 30_000);
    let revocations: RevocationCounts;
    try {
      const loops: Promise<unknown>[] = [];
      for (let i = 0; i < options.apiConcurrency; i += 1) loops.push(apiLoop(site, options.apiRate / options.apiConcurrency, until));
      for (let i = 0; i < RENDER_LOOPS; i += 1) loops.push(renderLoop(site, options.renderRate / RENDER_LOOPS, until));
      loops.push(driveFaults(cluster, random, options.faults, until));
      const revoking = driveRevocations(
        site,
        {
          meanGapMs: options.revocationGapMs,
          maxInFlight: 3,
          reactivateAfterMs: options.reactivateAfterMs,
          retryForMs: 30_000,
          operatorToken: cluster.operatorToken,
          nodeNameOf: cluster.nodeNameOf,
        },
        until,
      );
      await Promise.all(loops);
      revocations = await revoking;
    } finally {
      clearInterval(progress);
    }
    const seconds = (soakClock() - ledger.startedAt) / 1000;
    log(`${progressLine(ledger)}; healing every link and node`);

    await cluster.heal(HEAL_TIMEOUT_MS);
    const killed = kills(ledger, oracle);
    const lastDeadline = Math.max(0, ...[...killed.values()].map((kill) => kill.deadline));
    if (lastDeadline > soakClock()) {
      log(`waiting ${((lastDeadline - soakClock()) / 1000).toFixed(1)} s for the last revocation's staleness bound to pass`);
      await sleep(lastDeadline - soakClock() + 100);
    }
    const untouched = untouchedTokens(ledger, soakClock(), 60_000);
    const sample = untouched.filter((_, i) => i % Math.max(1, Math.floor(untouched.length / UNTOUCHED_CHECKED)) === 0).slice(0, UNTOUCHED_CHECKED);
    log(`final re-check: ${killed.size} revoked and ${sample.length} untouched tokens on each of ${cluster.nodes.length} nodes`);
    const checks = [...[...killed.keys()].map((token) => ({ token, revoked: true })), ...sample.map((token) => ({ token, revoked: false }))];
    await inParallel(
      checks.flatMap((check) => cluster.nodes.map((node) => ({ ...check, node }))),
      FINAL_CHECK_CONCURRENCY,
      async ({ token, revoked, node }) => {
        const record = ledger.tokens[token]!;
        const { answer } = await send(`${node.url}/api/issues/${record.issueId}/notes`, { headers: { authorization: `Bearer ${record.value}` } }, () => node.name, false);
        ledger.finalChecks.push({ ...answer, servedBy: node.name, token, node: node.name, at: soakClock(), revoked });
      },
    );

    const { log: _progress, ...recorded } = options;
    return {
      options: recorded,
      startedAt: new Date(ledger.startedAt).toISOString(),
      seconds,
      verdict: judge(ledger, oracle),
      ledger,
      revocations,
      oracle,
      logDir: cluster.logDir,
    };
  } finally {
    await cluster.close();
  }
}

/** Guarded API calls at about `rate` per second from one loop, until `until`. */
async function apiLoop(site: Site, rate: number, until: Ms): Promise<void> {
  const interval = 1000 / rate;
  let next = soakClock();
  while (soakClock() < until) {
    const tabs = site.tabs.filter((tab) => tab.tokens.length > 0);
    if (tabs.length > 0) await site.use(site.random.pick(tabs), 'load');
    next += interval;
    // A loop that fell behind does not burst to catch up.
    next = Math.max(next, soakClock() - interval);
    await sleep(next - soakClock());
  }
}

/** Pages re-rendered at about `rate` per second from one loop: each render mints a new page token. */
async function renderLoop(site: Site, rate: number, until: Ms): Promise<void> {
  const interval = 1000 / rate;
  let next = soakClock();
  while (soakClock() < until) {
    const tab: Tab = site.random.pick(site.tabs);
    await site.render(tab);
    next = Math.max(next + interval, soakClock() - interval);
    await sleep(next - soakClock());
  }
}

async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

function progressLine(ledger: Ledger): string {
  const seconds = Math.round((soakClock() - ledger.startedAt) / 1000);
  const served = ledger.uses.filter((use) => use.status !== null && use.status < 300).length;
  const faults = ledger.faults.length;
  return `${seconds} s: ${ledger.uses.length} API calls (${served} served), ${ledger.mints.length} renders, ${ledger.revocations.length} revocation attempts, ${faults} faults`;
}
