/**
 * Leaked page tokens: reports of tokens found in breach data or infostealer logs, each naming a session by one of
 * its tokens, end every session of that session's user on its site, through the allowlist's revoke (durable,
 * announced to every node, audited).
 */
import type { Allowlist } from '../allowlist/allowlist';
import { ok, settleResult, type Settled, type StoreFailureReport } from '../base/result';
import type { AllowlistEntry, Clock, EpochMs } from '../allowlist/types';
import type { LeakReport } from './leak-reports';

/**
 * Finds sessions by any token of theirs a leak may have carried: the first (whose jti hashes to `idHash`), the
 * current one and the one before it (a rotated session's `chain.tokenHash` and `chain.previousHash`). Older tokens
 * of a chain are not kept; used, they would end their session as a fork anyway.
 */
export interface LeakLookup {
  /** Every entry, of any site, live or not, with one of `hashes` as its id hash, current or previous token hash; each once. */
  findByTokenHashes(hashes: readonly string[]): Promise<AllowlistEntry[]>;
}

/** What ends a leaked session's user, as the audit and the metrics name it. */
export const LEAK_REASON = 'credential_compromised';

/** A report source's label, as the audit names the actor (`intel:<source>`): a feed's name, a case number. */
export const SOURCE_LABEL = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,63}$/;

/** Reports matched at once at most; a caller feeding a file cuts it into batches of this many. */
export const LEAK_BATCH = 1000;

/** How many users' revocations run at once: each waits up to the confirmation bound for the cluster's nodes. */
const PARALLEL_REVOCATIONS = 8;

/**
 * What one run of reports found, each report counted once. `matched`: it named a live session, whose user's
 * sessions on that site were then ended (by it, or by an earlier report of the same run). `alreadyRevoked`: its
 * session had been ended before. `expired`: its session was past its expiry. `unknown`: no session of this site
 * (or any, across sites) has that token. `malformed`: neither a page token nor a hash. `users`: distinct users
 * (per site) whose sessions the run ended.
 */
export interface LeakCounts {
  reports: number;
  matched: number;
  alreadyRevoked: number;
  expired: number;
  unknown: number;
  malformed: number;
  users: number;
}

export interface LeakRun {
  /**
   * Matches a batch of at most LEAK_BATCH reports and ends the sessions of every user it names a live session of.
   * `store_unavailable` when the store fails: the batch is not counted, what earlier batches ended stays ended,
   * and `counts` says what they found.
   */
  apply(reports: readonly LeakReport[]): Promise<Settled<void>>;
  counts(): LeakCounts;
}

export interface LeakDeps {
  lookup: LeakLookup;
  allowlist: Pick<Allowlist, 'revoke'>;
  clock: Clock;
  /** Hears the lookup's store rejections (the core's report); a revocation's own are reported by the allowlist. */
  onStoreFailure: StoreFailureReport;
}

export interface LeakRunOptions {
  /** Who reported, a SOURCE_LABEL: the revocations' actor is `intel:<source>`. */
  source: string;
  /** Only this site's sessions; a token of another site's counts as unknown. Null: every site. */
  site: string | null;
}

type Finding = 'matched' | 'alreadyRevoked' | 'expired' | 'unknown' | 'malformed';

/**
 * Starts a run of reports. Only a live session ends its user's sessions: an expired or revoked one says nothing
 * the allowlist must act on now, and that is what makes a report idempotent. Sent again, its sessions are revoked,
 * and nothing more ends, not even the sessions the user opened since.
 */
export function startLeakRun(deps: LeakDeps, options: LeakRunOptions): LeakRun {
  if (!SOURCE_LABEL.test(options.source)) throw new RangeError('source must be a source label');
  const { lookup, allowlist, clock } = deps;
  const cause = { actor: `intel:${options.source}`, reason: LEAK_REASON };
  const counts: LeakCounts = { reports: 0, matched: 0, alreadyRevoked: 0, expired: 0, unknown: 0, malformed: 0, users: 0 };
  /** Users this run ended (by site), and when it began ending each: what it revoked since is its own doing. */
  const ended = new Map<string, EpochMs>();
  const userOf = (entry: AllowlistEntry) => JSON.stringify([entry.clientKey, entry.accountId]);

  function find(entry: AllowlistEntry | undefined, now: EpochMs): Exclude<Finding, 'malformed'> {
    if (entry === undefined) return 'unknown';
    if (entry.expiresAt <= now) return 'expired';
    if (entry.revokedAt === null) return 'matched';
    // A session of a user an earlier batch of this run ended: that report matched it, and so does this one.
    const since = ended.get(userOf(entry));
    return since !== undefined && entry.revokeReason === LEAK_REASON && entry.revokedAt >= since ? 'matched' : 'alreadyRevoked';
  }

  async function end(entry: AllowlistEntry): Promise<Settled<void>> {
    const user = userOf(entry);
    if (!ended.has(user)) ended.set(user, clock.now());
    const revocation = await allowlist.revoke({ kind: 'user', clientKey: entry.clientKey, accountId: entry.accountId }, cause);
    return revocation.ok ? ok(undefined) : revocation;
  }

  async function matchAndEnd(reports: readonly LeakReport[]): Promise<Settled<void>> {
    const hashes = new Set<string>();
    for (const report of reports) if (report.ok) hashes.add(report.value);
    const now = clock.now();
    const byHash = new Map<string, AllowlistEntry>();
    if (hashes.size > 0) {
      for (const entry of await lookup.findByTokenHashes([...hashes])) {
        if (options.site !== null && entry.clientKey !== options.site) continue;
        for (const hash of [entry.idHash, entry.chain?.tokenHash, entry.chain?.previousHash]) {
          if (hash !== undefined && hashes.has(hash)) byHash.set(hash, entry);
        }
      }
    }
    const findings: Finding[] = [];
    const live = new Map<string, AllowlistEntry>();
    for (const report of reports) {
      if (!report.ok) {
        findings.push('malformed');
        continue;
      }
      const entry = byHash.get(report.value);
      const finding = find(entry, now);
      findings.push(finding);
      // Live when found: its user's sessions end below, once however many of them the batch names.
      if (finding === 'matched' && entry?.revokedAt === null) live.set(userOf(entry), entry);
    }
    // Durable before counted: a batch whose revocations failed is not reported as done.
    const revoked = await inParallel([...live.values()], PARALLEL_REVOCATIONS, end);
    if (!revoked.ok) return revoked;
    for (const finding of findings) counts[finding] += 1;
    counts.reports += findings.length;
    counts.users = ended.size;
    return ok(undefined);
  }

  return {
    async apply(reports) {
      if (reports.length > LEAK_BATCH) throw new RangeError(`at most ${LEAK_BATCH} reports per batch`);
      return settleResult(deps.onStoreFailure, 'match leak reports', () => matchAndEnd(reports));
    },
    counts: () => ({ ...counts }),
  };
}

/**
 * Runs `work` on every item, at most `limit` at a time; once all are done, the first failure, if any. A worker
 * stops at its first failure: the batch is answered `store_unavailable` anyway, and its retry finishes the job.
 */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<Settled<void>>): Promise<Settled<void>> {
  let next = 0;
  const worker = async (): Promise<Settled<void>> => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      const done = await work(item);
      if (!done.ok) return done;
    }
    return ok(undefined);
  };
  const outcomes = await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return outcomes.find((outcome) => !outcome.ok) ?? ok(undefined);
}
