/**
 * The soak's oracle: reads the ledger after the run and counts what the product contract
 * forbids. It counts only what is a violation on any reading of the recorded times: where
 * an answer could be explained by a revocation still in flight, by the declared staleness
 * bound or by a fault the soak injected, it is not counted. Every time compared is on the
 * soak's clock, stamped before a request is sent and after its answer arrived, so the
 * soak's own delays only ever widen what is excused.
 *
 * What a revocation promises (DESIGN.md guarantees 2, 3 and 5; README `Revocation-Confirmed`):
 * - answered 2xx with `n/m`, n = m: every node refuses the revoked tokens on any request sent
 *   after the answer arrived. No grace at all.
 * - answered 2xx with n < m (or no header): a node that did not confirm may still serve a
 *   cached copy, read before the revocation was written, for at most CACHE_TTL_SECONDS. So a
 *   request sent later than the answer plus the TTL (plus a clock slack) must be refused.
 * - answered anything else, or not at all: it may or may not have happened. Its tokens are
 *   neither counted as revoked nor as live; the soak retries it as the host would.
 *
 * Which tokens a revocation ends:
 * - the admin API (`DELETE /api/admin/users/:id/sessions`) ends the sessions that existed:
 *   tokens whose mint was answered before the revocation was sent. A mint that overlapped it
 *   may go either way.
 * - a removal (user deleted or deactivated, issue deleted) writes a tombstone: every older
 *   token is dead and nothing is minted while it stands (removals.ts: "a page token minted
 *   concurrently is dead either way"). So every token of the user minted before the next
 *   reactivation was sent (of the issue: ever) is dead once both the removal and its own
 *   mint have answered; and a page rendered after the removal answered, before any
 *   reactivation was sent, must not mint at all.
 */
import {
  TOMBSTONE_KINDS,
  type Answer,
  type Ledger,
  type LiftRecord,
  type MintRecord,
  type Ms,
  type RevocationRecord,
  type TokenRecord,
} from './ledger';

export interface OracleSettings {
  /** CACHE_TTL_SECONDS in ms: how long a node that did not confirm may answer from a cached copy. */
  cacheTtlMs: number;
  /**
   * Added to the staleness bound and to token expiry: how far the soak's clock (monotonic) and the
   * nodes' Date.now() may stand apart. Bounds that rest on causality (n = m) get none.
   */
  clockSlackMs: number;
}

/** Each one must be 0. */
export interface OracleCounts {
  /** (a) a revoked token answered 2xx to a request sent after its revocation's 2xx, beyond the staleness the answer declared. */
  revokedServed: number;
  /** (a) a page rendered for a removed user or a deleted issue, after the removal answered and before any reactivation, that minted a token. */
  mintedWhileRemoved: number;
  /** (b) a token no revocation could have touched, not expired, refused with a 4xx. */
  liveRefused: number;
  /** (b) a page render refused (4xx) to a user in good standing on an issue never deleted. */
  pagesRefused: number;
  /** (c) a 5xx other than 503 `store_unavailable`, or a lost connection, outside any window in which a node was down; or no answer within the soak's timeout. */
  serverErrors: number;
  /** (c) a node process that exited without the soak killing it (other than failing to start while its store link was cut). */
  unexpectedExits: number;
  /** (d) at the final re-check, a revoked token answered 2xx by a node asked directly. */
  revokedLiveAtEnd: number;
}

export const COUNT_NAMES: Record<keyof OracleCounts, string> = {
  revokedServed: '(a) revoked tokens served after the revocation answered',
  mintedWhileRemoved: '(a) pages minted for a removed user or deleted issue',
  liveRefused: '(b) live tokens refused (4xx)',
  pagesRefused: '(b) pages refused to users in good standing',
  serverErrors: '(c) 5xx other than 503 store_unavailable, or no answer',
  unexpectedExits: '(c) node exits the soak did not cause',
  revokedLiveAtEnd: '(d) revoked tokens served at the final re-check',
};

export interface Verdict {
  counts: OracleCounts;
  /** The first few cases of each count, described for a person to investigate. */
  examples: Record<keyof OracleCounts, string[]>;
  /** Not violations: what the contract allowed, for context. */
  allowed: {
    /** Revoked tokens served after a revocation answered n < m, within the staleness bound. */
    staleServesWithinBound: number;
    /** Refusals of tokens a revocation had reached, or might have (in flight, or of unknown outcome). */
    refusalsDuringRevocation: number;
    /** 503 store_unavailable answers. */
    storeUnavailable: number;
    /** 502 or a lost connection while a node was down. */
    nodeDownErrors: number;
  };
  /** Tokens a 2xx revocation ended, and when the last of them had to be refused everywhere. */
  revokedTokens: number;
  lastDeadline: Ms | null;
}

const EXAMPLES_KEPT = 5;
const NEVER = Number.POSITIVE_INFINITY;

/** Everything the oracle needs from the ledger, indexed once. */
class Index {
  readonly revocationsByUser = new Map<string, RevocationRecord[]>();
  readonly revocationsByIssue = new Map<string, RevocationRecord[]>();
  readonly liftsByUser = new Map<string, LiftRecord[]>();

  constructor(readonly ledger: Ledger) {
    for (const revocation of ledger.revocations) {
      if (revocation.accountId !== null) push(this.revocationsByUser, revocation.accountId, revocation);
      if (revocation.issueId !== null) push(this.revocationsByIssue, revocation.issueId, revocation);
    }
    for (const lift of ledger.lifts) push(this.liftsByUser, lift.accountId, lift);
  }

  /** Revocation attempts whose subject covers the token: its user's, and its issue's. */
  covering(accountId: string, issueId: string): RevocationRecord[] {
    return [...(this.revocationsByUser.get(accountId) ?? []), ...(this.revocationsByIssue.get(issueId) ?? [])];
  }

  /** When the first reactivation of the user sent at or after `after` was sent (any outcome: it may have applied). */
  nextLiftSent(accountId: string, after: Ms): Ms {
    let next = NEVER;
    for (const lift of this.liftsByUser.get(accountId) ?? []) if (lift.sentAt >= after && lift.sentAt < next) next = lift.sentAt;
    return next;
  }

  /** When the first successful reactivation sent at or after `after` answered: the tombstone is certainly lifted from then on. */
  liftAnswered(accountId: string, after: Ms): Ms {
    let answered = NEVER;
    for (const lift of this.liftsByUser.get(accountId) ?? []) {
      if (lift.sentAt >= after && isSuccess(lift) && lift.answeredAt < answered) answered = lift.answeredAt;
    }
    return answered;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function isSuccess(answer: Answer): boolean {
  return answer.status !== null && answer.status >= 200 && answer.status < 300;
}

function isRefusal(answer: Answer): boolean {
  return answer.status !== null && answer.status >= 400 && answer.status < 500;
}

/**
 * When an attempt's request can no longer change anything: its answer, except for a request the soak gave up
 * waiting for, which a node may still be working on.
 */
function settledAt(record: Answer & { answeredAt: Ms }): Ms {
  return record.status === null && record.code === 'timeout' ? NEVER : record.answeredAt;
}

function isTombstone(revocation: RevocationRecord): boolean {
  return TOMBSTONE_KINDS.has(revocation.kind);
}

function fullyConfirmed(revocation: RevocationRecord): boolean {
  const confirmation = revocation.confirmation;
  return confirmation !== null && confirmation.confirmed >= confirmation.expected;
}

/**
 * Until when a revocation attempt (any outcome) may affect tokens minted later: an admin revocation only those
 * whose mint began before it was settled; a user's tombstone those minted until a reactivation certainly lifted
 * it; an issue's, all of them.
 */
function reachEnd(index: Index, revocation: RevocationRecord): Ms {
  const settled = settledAt(revocation);
  if (!isTombstone(revocation)) return settled;
  if (revocation.accountId === null || settled === NEVER) return NEVER;
  return index.liftAnswered(revocation.accountId, settled);
}

/** The earliest time a revocation attempt that could touch the token was sent; Infinity when none could. */
function exposure(index: Index, token: TokenRecord): Ms {
  let earliest = NEVER;
  for (const revocation of index.covering(token.accountId, token.issueId)) {
    if (token.mintSentAt < reachEnd(index, revocation) && revocation.sentAt < earliest) earliest = revocation.sentAt;
  }
  return earliest;
}

export interface Kill {
  revocation: RevocationRecord;
  /** When the revocation (and the token's own mint) had both answered. */
  answeredAt: Ms;
  /** From when any request must be refused: `answeredAt`, plus the staleness bound when n < m. */
  deadline: Ms;
}

/** The 2xx revocation that ends the token soonest, or null when none ended it for certain. */
function killOf(index: Index, token: TokenRecord, settings: OracleSettings): Kill | null {
  let best: Kill | null = null;
  for (const revocation of index.covering(token.accountId, token.issueId)) {
    if (!isSuccess(revocation)) continue;
    let answeredAt: Ms;
    if (!isTombstone(revocation)) {
      // Sessions that existed when the admin acted; a mint overlapping the call may go either way.
      if (!(token.mintAnsweredAt < revocation.sentAt)) continue;
      answeredAt = revocation.answeredAt;
    } else if (revocation.accountId !== null) {
      // A user's tombstone ends every token minted before a reactivation could have lifted it.
      if (!(token.mintAnsweredAt < index.nextLiftSent(revocation.accountId, revocation.sentAt))) continue;
      answeredAt = Math.max(revocation.answeredAt, token.mintAnsweredAt);
    } else {
      // An issue's tombstone is never lifted.
      answeredAt = Math.max(revocation.answeredAt, token.mintAnsweredAt);
    }
    const grace = fullyConfirmed(revocation) ? 0 : settings.cacheTtlMs + settings.clockSlackMs;
    const deadline = Math.max(revocation.answeredAt + grace, answeredAt);
    if (best === null || deadline < best.deadline) best = { revocation, answeredAt, deadline };
  }
  return best;
}

/** Every token a 2xx revocation ended, with when it had to be refused everywhere. */
export function kills(ledger: Ledger, settings: OracleSettings): Map<number, Kill> {
  const index = new Index(ledger);
  const killed = new Map<number, Kill>();
  ledger.tokens.forEach((token, id) => {
    const kill = killOf(index, token, settings);
    if (kill !== null) killed.set(id, kill);
  });
  return killed;
}

/** Tokens no revocation attempt could have touched, not expiring within `marginMs` of `at`: the final check serves them. */
export function untouchedTokens(ledger: Ledger, at: Ms, marginMs: number): number[] {
  const index = new Index(ledger);
  const ids: number[] = [];
  ledger.tokens.forEach((token, id) => {
    if (exposure(index, token) === NEVER && token.expiresAt - marginMs > at) ids.push(id);
  });
  return ids;
}

/** A node was down (killed, not yet answering again) at some moment between `from` and `to`. */
function nodeDownDuring(ledger: Ledger, from: Ms, to: Ms): boolean {
  return ledger.faults.some((fault) => fault.kind === 'node_kill' && fault.from <= to && (fault.to ?? NEVER) >= from);
}

export function judge(ledger: Ledger, settings: OracleSettings): Verdict {
  const index = new Index(ledger);
  const counts: OracleCounts = {
    revokedServed: 0,
    mintedWhileRemoved: 0,
    liveRefused: 0,
    pagesRefused: 0,
    serverErrors: 0,
    unexpectedExits: 0,
    revokedLiveAtEnd: 0,
  };
  const examples = Object.fromEntries(Object.keys(counts).map((key) => [key, [] as string[]])) as unknown as Verdict['examples'];
  const allowed: Verdict['allowed'] = { staleServesWithinBound: 0, refusalsDuringRevocation: 0, storeUnavailable: 0, nodeDownErrors: 0 };
  const at = (ms: Ms) => (ms === NEVER ? 'never' : `${((ms - ledger.startedAt) / 1000).toFixed(3)} s`);
  const found = (count: keyof OracleCounts, describe: () => string) => {
    counts[count] += 1;
    if (examples[count].length < EXAMPLES_KEPT) examples[count].push(describe());
  };
  const describeRevocation = (r: RevocationRecord) =>
    `${r.kind} of ${r.accountId ?? `issue ${r.issueId}`} sent ${at(r.sentAt)}, answered ${r.status} at ${at(r.answeredAt)} by ${r.servedBy ?? '?'}, confirmed ${r.confirmation === null ? 'none' : `${r.confirmation.confirmed}/${r.confirmation.expected}`}`;
  const describeToken = (id: number) => {
    const token = ledger.tokens[id]!;
    return `token #${id} of ${token.accountId} on issue ${token.issueId} (mint sent ${at(token.mintSentAt)}, answered ${at(token.mintAnsweredAt)})`;
  };
  const describeAnswer = (record: Answer & { sentAt: Ms; answeredAt: Ms }) =>
    `sent ${at(record.sentAt)}, answered ${record.status ?? 'nothing'}${record.code === null ? '' : ` ${record.code}`} at ${at(record.answeredAt)} by ${record.servedBy ?? '?'}`;

  const killByToken = new Map<number, Kill>();
  const exposureByToken: Ms[] = [];
  ledger.tokens.forEach((token, id) => {
    const kill = killOf(index, token, settings);
    if (kill !== null) killByToken.set(id, kill);
    exposureByToken.push(exposure(index, token));
  });

  // (a) and (b) on every guarded call.
  for (const use of ledger.uses) {
    const token = ledger.tokens[use.token]!;
    const kill = killByToken.get(use.token);
    if (isSuccess(use) && kill !== undefined && use.sentAt > kill.answeredAt) {
      if (use.sentAt > kill.deadline) {
        found('revokedServed', () => `${describeToken(use.token)}: ${use.method} ${describeAnswer(use)}; revoked by ${describeRevocation(kill.revocation)}; had to be refused from ${at(kill.deadline)}`);
      } else {
        allowed.staleServesWithinBound += 1;
      }
    }
    if (isRefusal(use)) {
      if (exposureByToken[use.token]! < use.answeredAt) allowed.refusalsDuringRevocation += 1;
      else if (use.answeredAt < token.expiresAt - settings.clockSlackMs) {
        found('liveRefused', () => `${describeToken(use.token)}: ${use.method} (${use.kind}) ${describeAnswer(use)}; no revocation could touch it`);
      }
    }
  }

  // (a) and (b) on every page render.
  for (const mint of ledger.mints) {
    if (mint.token !== null) {
      const removal = standingRemoval(index, mint);
      if (removal !== null) found('mintedWhileRemoved', () => `page for ${mint.accountId} on issue ${mint.issueId} ${describeAnswer(mint)} minted ${describeToken(mint.token!)}; removed by ${describeRevocation(removal)}`);
    } else if (isRefusal(mint) && inGoodStanding(index, mint, settings.clockSlackMs)) {
      found('pagesRefused', () => `page for ${mint.accountId} on issue ${mint.issueId} ${describeAnswer(mint)}; the user and the issue were in good standing`);
    }
  }

  // (c) on everything sent through the balancer.
  const through: { what: string; record: Answer & { sentAt: Ms; answeredAt: Ms } }[] = [
    ...ledger.uses.map((record) => ({ what: `${record.method} notes (${record.kind})`, record })),
    ...ledger.mints.map((record) => ({ what: 'page render', record })),
    ...ledger.revocations.map((record) => ({ what: record.kind, record })),
    ...ledger.lifts.map((record) => ({ what: 'reactivation', record })),
  ];
  for (const { what, record } of through) {
    if (record.status !== null && record.status < 500) continue;
    if (record.status === 503 && (record.code === 'store_unavailable' || what === 'page render')) {
      allowed.storeUnavailable += 1;
    } else if (((record.status === null && record.code === 'network') || (record.status === 502 && record.code === 'bad_gateway')) && nodeDownDuring(ledger, record.sentAt, record.answeredAt)) {
      // A killed node resets its connections: the balancer answers 502, or the connection drops. It never hangs.
      allowed.nodeDownErrors += 1;
    } else {
      found('serverErrors', () => `${what} ${describeAnswer(record)}`);
    }
  }
  for (const exit of ledger.exits) {
    if (!exit.duringStartWithoutStore) found('unexpectedExits', () => `${exit.node} exited at ${at(exit.at)}: ${exit.detail}`);
  }

  // (d), and the untouched tokens checked beside them, after the run.
  for (const check of ledger.finalChecks) {
    const token = ledger.tokens[check.token]!;
    const what = `final check of ${describeToken(check.token)} on ${check.node} at ${at(check.at)}: ${check.status ?? 'nothing'}${check.code === null ? '' : ` ${check.code}`}`;
    if (check.revoked && isSuccess(check)) {
      const kill = killByToken.get(check.token);
      found('revokedLiveAtEnd', () => `${what}; revoked by ${kill === undefined ? '?' : describeRevocation(kill.revocation)}`);
    } else if (!check.revoked && isRefusal(check) && check.at < token.expiresAt - settings.clockSlackMs) {
      found('liveRefused', () => `${what}; no revocation could touch it`);
    } else if (check.status === null || check.status >= 500) {
      found('serverErrors', () => what);
    }
  }

  let lastDeadline: Ms | null = null;
  for (const kill of killByToken.values()) if (lastDeadline === null || kill.deadline > lastDeadline) lastDeadline = kill.deadline;
  return { counts, examples, allowed, revokedTokens: killByToken.size, lastDeadline };
}

/** A 2xx removal of the mint's user or issue that had answered before the page was requested and was not lifted before it was answered. */
function standingRemoval(index: Index, mint: MintRecord): RevocationRecord | null {
  for (const revocation of index.covering(mint.accountId, mint.issueId)) {
    if (!isTombstone(revocation) || !isSuccess(revocation) || !(revocation.answeredAt < mint.sentAt)) continue;
    if (revocation.accountId !== null && !(mint.answeredAt < index.nextLiftSent(revocation.accountId, revocation.sentAt))) continue;
    return revocation;
  }
  return null;
}

/**
 * The page had to be served: its issue was never up for deletion, and every removal of its user had been lifted by a
 * reactivation answered before the page was requested, in a later second than the removal (the host's Connect JWT
 * carries `iat` in whole seconds, and one issued no later than a removal never mints: guarantee 3).
 */
function inGoodStanding(index: Index, mint: MintRecord, clockSlackMs: number): boolean {
  const candidates = index.covering(mint.accountId, mint.issueId).filter((r) => r.sentAt < mint.answeredAt);
  if (candidates.some((r) => r.kind === 'issue_deleted' && r.issueId === mint.issueId)) return false;
  const removals = candidates.filter((r) => r.accountId === mint.accountId && isTombstone(r));
  if (removals.length === 0) return true;
  const lastSettled = Math.max(...removals.map(settledAt));
  if (lastSettled === NEVER || Math.floor(mint.sentAt / 1000) * 1000 <= lastSettled + clockSlackMs) return false;
  const lifted = index.liftAnswered(mint.accountId, lastSettled);
  return lifted < mint.sentAt;
}
