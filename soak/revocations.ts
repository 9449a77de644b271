/**
 * Revocations at random, as a site's life brings them: users deleted or deactivated (webhooks
 * from the simulated Jira), an operator ending a user's sessions (the admin API), issues
 * deleted, and removed users reactivated later. Each one is retried until it answers 2xx, as
 * the host retries a webhook; around it the victim's tokens are used (so every node holds them
 * cached) and, right after it answers, probed through the balancer.
 */
import type { IssueContext } from '../src/host-simulator';
import { soakClock, type Confirmation, type RevocationKind, type RevocationRecord } from './ledger';
import { REQUEST_TIMEOUT_MS, send, type Site, type User } from './site';

export interface RevocationOptions {
  /** Mean pause between the starts of two revocations or reactivations. */
  meanGapMs: number;
  /** Revocations and reactivations under way at once, at most. */
  maxInFlight: number;
  /** A removed user is reactivated this long after (min, max). */
  reactivateAfterMs: [number, number];
  /** How long one revocation or reactivation is retried before the soak gives up on it. */
  retryForMs: number;
  operatorToken: string;
  nodeNameOf: (target: string | null) => string | null;
}

type Action = 'user_deleted' | 'user_deactivated' | 'admin_user_sessions' | 'issue_deleted';
const WEIGHTS: [Action, number][] = [
  ['user_deleted', 0.3],
  ['user_deactivated', 0.25],
  ['admin_user_sessions', 0.35],
  ['issue_deleted', 0.1],
];
/** Fewer issues than this and none is deleted: the load needs somewhere to go. */
const MIN_ISSUES = 3;
/** Tokens of a victim warmed before and probed after a revocation. */
const TOKENS_PROBED = 4;

export interface RevocationCounts {
  started: Record<Action | 'reactivation', number>;
  /** Revocations and reactivations that never answered 2xx within the retry bound. */
  abandoned: number;
}

interface Attempted {
  status: number | null;
  code: string | null;
  servedBy: string | null;
  confirmation: Confirmation | null;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

export async function driveRevocations(site: Site, options: RevocationOptions, until: number): Promise<RevocationCounts> {
  const { random, ledger, sim } = site;
  const counts: RevocationCounts = {
    started: { user_deleted: 0, user_deactivated: 0, admin_user_sessions: 0, issue_deleted: 0, reactivation: 0 },
    abandoned: 0,
  };
  const inFlight = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  /** Repeats one request until it answers 2xx or a refusal that retrying cannot change; true when 2xx. */
  async function retried(request: () => Promise<Attempted>, record: (attempt: Attempted, sentAt: number, answeredAt: number) => void): Promise<boolean> {
    const giveUpAt = soakClock() + options.retryForMs;
    for (;;) {
      const sentAt = soakClock();
      const attempt = await request();
      record(attempt, sentAt, soakClock());
      if (attempt.status !== null && attempt.status < 300) return true;
      // 4xx: the request itself is the problem (404: no such user); another try is the same request.
      if (attempt.status !== null && attempt.status < 500) return false;
      if (soakClock() > giveUpAt) {
        counts.abandoned += 1;
        return false;
      }
      await sleep(random.between(250, 600));
    }
  }

  function revoke(kind: RevocationKind, subject: { accountId: string | null; issueId: string | null }, request: () => Promise<Attempted>): Promise<boolean> {
    return retried(request, (attempt, sentAt, answeredAt) => {
      const record: RevocationRecord = { ...attempt, kind, ...subject, sentAt, answeredAt };
      ledger.revocations.push(record);
    });
  }

  /** Uses each token once per round, all at once: through the round-robin balancer, every node sees some. */
  async function useAll(tokens: number[], rounds: number, kind: 'warm' | 'probe'): Promise<void> {
    const calls: Promise<void>[] = [];
    for (let round = 0; round < rounds; round += 1) for (const token of tokens) calls.push(site.call(token, kind));
    await Promise.all(calls);
  }

  /** Probes right after the answer, and again a little later, when a stale copy would still show. */
  async function probe(tokens: number[]): Promise<void> {
    await useAll(tokens, 3, 'probe');
    await sleep(300);
    await useAll(tokens, 1, 'probe');
  }

  const newestTokens = (tabs: { tokens: number[] }[]) =>
    tabs
      .flatMap((tab) => tab.tokens)
      .sort((a, b) => b - a)
      .slice(0, TOKENS_PROBED);

  async function revokeUser(user: User, kind: 'user_deleted' | 'user_deactivated' | 'admin_user_sessions'): Promise<void> {
    user.busy = true;
    counts.started[kind] += 1;
    try {
      const tokens = newestTokens(user.tabs);
      await useAll(tokens, 2, 'warm');
      // The user clicks around while being removed: pages render while the revocation is under way.
      const racing = random.chance(0.5)
        ? sleep(random.between(0, 30)).then(() => Promise.all(user.tabs.map((tab) => site.render(tab))))
        : Promise.resolve();
      const request = kind === 'admin_user_sessions' ? () => adminRevoke(user.accountId) : () => webhook(() => (kind === 'user_deleted' ? sim.removeUser(user.accountId) : sim.deactivateUser(user.accountId)));
      const done = await revoke(kind, { accountId: user.accountId, issueId: null }, request);
      if (done) await probe(newestTokens(user.tabs));
      await racing;
      if (kind !== 'admin_user_sessions') {
        user.removed = true;
        user.reactivateAt = soakClock() + random.between(...options.reactivateAfterMs);
      }
    } finally {
      user.busy = false;
    }
  }

  async function reactivate(user: User): Promise<void> {
    user.busy = true;
    counts.started.reactivation += 1;
    try {
      const done = await retried(
        () => webhook(() => sim.reactivateUser(user.accountId)),
        (attempt, sentAt, answeredAt) => ledger.lifts.push({ status: attempt.status, code: attempt.code, servedBy: attempt.servedBy, accountId: user.accountId, sentAt, answeredAt }),
      );
      if (done) {
        user.removed = false;
        // Back at work: the user reloads an open page at once, now and then.
        if (random.chance(0.3)) await site.render(random.pick(user.tabs));
      } else {
        user.reactivateAt = soakClock() + 5_000;
      }
    } finally {
      user.busy = false;
    }
  }

  async function deleteIssue(issue: IssueContext): Promise<void> {
    counts.started.issue_deleted += 1;
    site.deletedIssues.add(issue.issueId);
    site.issues.delete(issue.issueId);
    site.createIssue();
    const onIssue = site.tabs.filter((tab) => tab.issue.issueId === issue.issueId);
    const tokens = newestTokens(onIssue);
    await useAll(tokens, 2, 'warm');
    const done = await revoke('issue_deleted', { accountId: null, issueId: issue.issueId }, () => webhook(() => sim.deleteIssue(issue)));
    if (done) await probe(tokens);
  }

  async function adminRevoke(accountId: string): Promise<Attempted> {
    const url = `${sim.descriptor!.baseUrl}/api/admin/users/${encodeURIComponent(accountId)}/sessions`;
    const { answer, headers } = await send(url, { method: 'DELETE', headers: { authorization: `Bearer ${options.operatorToken}` } }, options.nodeNameOf, false);
    return { ...answer, confirmation: confirmationOf(headers) };
  }

  /** A webhook the simulated Jira sends; the simulator has no timeout of its own, so the soak stops waiting after its own. */
  async function webhook(deliver: () => Promise<Response | null>): Promise<Attempted> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), REQUEST_TIMEOUT_MS);
    });
    try {
      const response = await Promise.race([deliver(), timeout]);
      if (response === 'timeout') return { status: null, code: 'timeout', servedBy: null, confirmation: null };
      if (response === null) throw new Error('the simulator sent no webhook: is the app enabled?');
      const servedBy = options.nodeNameOf(response.headers.get('x-balancer-target'));
      const text = await response.text().catch(() => null);
      if (text === null) return { status: null, code: 'network', servedBy, confirmation: null };
      let code: string | null = null;
      if (response.status >= 400) {
        try {
          const parsed = JSON.parse(text) as { error?: { code?: unknown } };
          code = typeof parsed.error?.code === 'string' ? parsed.error.code : null;
        } catch {
          code = 'unparsable';
        }
      }
      return { status: response.status, code, servedBy, confirmation: confirmationOf(response.headers) };
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('the simulator')) throw error;
      return { status: null, code: 'network', servedBy: null, confirmation: null };
    } finally {
      clearTimeout(timer);
    }
  }

  function chooseAction(): Action {
    let roll = random.next();
    for (const [action, weight] of WEIGHTS) {
      roll -= weight;
      if (roll < 0) return action;
    }
    return 'admin_user_sessions';
  }

  while (soakClock() < until) {
    await sleep(random.between(0.5, 1.5) * options.meanGapMs);
    if (soakClock() >= until || inFlight.size >= options.maxInFlight) continue;
    const now = soakClock();
    const due = site.users.find((user) => user.removed && !user.busy && user.reactivateAt <= now);
    if (due !== undefined) {
      track(reactivate(due));
      continue;
    }
    const action = chooseAction();
    if (action === 'issue_deleted') {
      const candidates = [...site.issues.values()].filter((issue) => site.tabs.some((tab) => tab.issue.issueId === issue.issueId));
      if (site.issues.size > MIN_ISSUES && candidates.length > 0) track(deleteIssue(random.pick(candidates)));
      continue;
    }
    // Removing a removed user again is what a host's retry does; the soak removes users in good standing.
    const candidates = site.users.filter((user) => !user.busy && !user.removed && user.tabs.some((tab) => tab.tokens.length > 0));
    if (candidates.length > 0) track(revokeUser(random.pick(candidates), action));
  }
  await Promise.all([...inFlight]);
  return counts;
}

/** `Revocation-Confirmed: n/m`, or null when the answer did not carry it. */
function confirmationOf(headers: Headers | null): Confirmation | null {
  const match = /^(\d+)\/(\d+)$/.exec(headers?.get('revocation-confirmed') ?? '');
  return match === null ? null : { confirmed: Number(match[1]), expected: Number(match[2]) };
}
