/**
 * Rotation with fork detection: where a presented page token stands in its session's chain, when a session is
 * due for its next token, and which due tokens this node has recently offered one to.
 */
import type { AllowlistEntry, EpochMs } from './types';

export interface RotationPolicy {
  /** A session's current token is offered a successor once it has been current this long; 0 never rotates. */
  afterMs: number;
  /** After a successor's first use, its predecessor keeps working this long, for requests already in flight. */
  graceMs: number;
}

/** A page token as its session's chain sees it. */
export interface ChainLink {
  /** The session's entry: the idHash of its first token. */
  session: string;
  /** SHA-256 of this token's jti. */
  tokenHash: string;
  /** 0 for the token a mint handed out, n for the n-th successor. */
  seq: number;
}

/**
 * - `current`: the session's current token.
 * - `successor`: the next token, offered to the current one and now used for the first time: it becomes current.
 * - `previous`: the token the current one replaced, within the grace: a request that was already in flight.
 * - `stale`: any other token of the chain. Whoever holds it was left behind by someone else: two parties hold
 *   the session (a fork).
 */
export type ChainStanding = 'current' | 'successor' | 'previous' | 'stale';

export function standingOf(entry: AllowlistEntry, link: ChainLink, now: EpochMs, rotation: RotationPolicy): ChainStanding {
  const { chain } = entry;
  const current = chain === null ? { seq: 0, tokenHash: entry.idHash } : chain;
  if (link.tokenHash === current.tokenHash) return 'current';
  if (link.seq === current.seq + 1) return 'successor';
  if (chain !== null && link.tokenHash === chain.previousHash && now < chain.rotatedAt + rotation.graceMs) return 'previous';
  return 'stale';
}

/** Whether the session's current token has been current long enough to be offered a successor. */
export function isDue(entry: AllowlistEntry, now: EpochMs, rotation: RotationPolicy): boolean {
  return rotation.afterMs > 0 && now >= (entry.chain?.rotatedAt ?? entry.createdAt) + rotation.afterMs;
}

/**
 * Which due tokens this node offered a successor to, and when, by a key the caller chooses (a token and where it was
 * used from). A key is offered one again only after the grace: requests in flight together get one successor between
 * them, and an answer lost on its way is made good soon.
 * Bounded: past the bound the oldest offer is forgotten, which at worst offers that token another successor.
 */
export class Offers {
  private readonly offered = new Map<string, EpochMs>();

  constructor(
    private readonly retryMs: number,
    private readonly limit = 100_000,
  ) {}

  /** Whether to make an offer under `key` now; records the offer when it says yes. */
  take(key: string, now: EpochMs): boolean {
    const last = this.offered.get(key);
    if (last !== undefined && now - last < this.retryMs) return false;
    this.offered.delete(key);
    if (this.offered.size >= this.limit) this.offered.delete(this.offered.keys().next().value as string);
    this.offered.set(key, now);
    return true;
  }

  get size(): number {
    return this.offered.size;
  }
}
