/**
 * The soak's record of everything it did and saw, stamped on one clock: each page render
 * (mint), each guarded API call, each revocation and reactivation, each fault, and the
 * final re-check. The oracle judges this record after the run; nothing here judges.
 */

/** Milliseconds on the soak's clock: wall-clock time with sub-millisecond resolution, as the nodes' Date.now() reads it. */
export type Ms = number;

export function soakClock(): Ms {
  return performance.timeOrigin + performance.now();
}

/** What came back: an HTTP status and error code, or no answer at all (status null, and why). */
export interface Answer {
  status: number | null;
  /** The JSON error code of a refusal (`token_revoked`...), `bad_gateway` from the balancer, or why nothing came back (`timeout`, `network`). */
  code: string | null;
  /** The node that answered, as the balancer names it; null when it did not say. */
  servedBy: string | null;
}

export interface TokenRecord {
  accountId: string;
  issueId: string;
  /** The token's `exp`, in ms. */
  expiresAt: Ms;
  mintSentAt: Ms;
  mintAnsweredAt: Ms;
  /** The page token itself, for the final re-check. */
  value: string;
}

export interface MintRecord extends Answer {
  accountId: string;
  issueId: string;
  /** Taken before the host signed the page's Connect JWT: its `iat` is no earlier. */
  sentAt: Ms;
  answeredAt: Ms;
  /** Index of the page token it returned, or null. */
  token: number | null;
}

export type UseKind = 'load' | 'warm' | 'probe';

export interface UseRecord extends Answer {
  token: number;
  method: 'GET' | 'POST';
  kind: UseKind;
  sentAt: Ms;
  answeredAt: Ms;
}

/** Removals write a tombstone (nothing is minted for the subject until lifted); the admin API only ends sessions. */
export type RevocationKind = 'user_deleted' | 'user_deactivated' | 'admin_user_sessions' | 'issue_deleted';

export const TOMBSTONE_KINDS: ReadonlySet<RevocationKind> = new Set(['user_deleted', 'user_deactivated', 'issue_deleted']);

export interface Confirmation {
  confirmed: number;
  expected: number;
}

/** One attempt: a revocation the soak retried is several records, each judged on its own. */
export interface RevocationRecord extends Answer {
  kind: RevocationKind;
  /** The user revoked, or null for an issue. */
  accountId: string | null;
  /** The issue deleted, or null for a user. */
  issueId: string | null;
  sentAt: Ms;
  answeredAt: Ms;
  /** `Revocation-Confirmed: n/m`, when the answer carried it. */
  confirmation: Confirmation | null;
}

/** A reactivation (`user_updated` with `active: true`): lifts the user's tombstone. */
export interface LiftRecord extends Answer {
  accountId: string;
  sentAt: Ms;
  answeredAt: Ms;
}

export type FaultKind = 'node_kill' | 'bus_cut' | 'store_cut';

/** A fault from its injection to its repair; for a kill, until the restarted node answers /readyz. */
export interface FaultRecord {
  kind: FaultKind;
  node: string;
  from: Ms;
  /** null while it lasts; the run ends none open. */
  to: Ms | null;
}

/** A node process that exited without the soak killing it. */
export interface ExitRecord {
  node: string;
  at: Ms;
  /** Exit code or signal, and the node's last log lines. */
  detail: string;
  /** True when it exited while starting with its store link cut: a supervisor's retry, not a crash. */
  duringStartWithoutStore: boolean;
}

/** After the run, a revoked token sent to one node directly. */
export interface FinalCheckRecord extends Answer {
  token: number;
  node: string;
  at: Ms;
  /** true: a revoked token (must be refused); false: a token never touched by a revocation (must be served). */
  revoked: boolean;
}

export class Ledger {
  /** When the load began (setup is before it): times in reports are relative to it. */
  startedAt: Ms = soakClock();
  readonly tokens: TokenRecord[] = [];
  readonly mints: MintRecord[] = [];
  readonly uses: UseRecord[] = [];
  readonly revocations: RevocationRecord[] = [];
  readonly lifts: LiftRecord[] = [];
  readonly faults: FaultRecord[] = [];
  readonly exits: ExitRecord[] = [];
  readonly finalChecks: FinalCheckRecord[] = [];

  addToken(token: TokenRecord): number {
    return this.tokens.push(token) - 1;
  }
}
