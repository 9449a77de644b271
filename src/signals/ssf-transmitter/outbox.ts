/**
 * What the transmitter keeps in the store: each site's receivers, and the outbox of SETs waiting for them. The
 * outbox is filled by the revocations themselves (EntryStore.revokeEntries, in the same transaction) and
 * emptied by the push worker, which leases what it sends so that no two nodes send one SET at once.
 */
import type { EpochMs } from '../../allowlist/types';

/** A site's signal receiver: where its SETs are pushed (RFC 8935), and the audience they are addressed to. */
export interface Receiver {
  id: string;
  clientKey: string;
  /** Where SETs are POSTed. */
  endpointUrl: string;
  /** The SETs' `aud`. */
  audience: string;
  /** The Authorization header value sent with every push: a secret, never logged and never shown back whole. */
  authorization: string | null;
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

/** Waiting to be sent (`pending`), or given up on for good (`failed`: dead-lettered, kept for admins to see). */
export type SetState = 'pending' | 'failed';

export const SET_STATES: readonly SetState[] = ['pending', 'failed'];

/** One receiver's SET about one revocation: an outbox row, from which the SET is built and signed when sent. */
export interface QueuedSet {
  /** The revocation's notice: the SET's `txn`, shared by every receiver's copy. */
  noticeId: string;
  receiverId: string;
  clientKey: string;
  /** The site's baseUrl when the revocation was made (the issuer of its users' ids); null if the site had no record. */
  baseUrl: string | null;
  /** Whose sessions ended; null when the whole site's did. */
  accountId: string | null;
  /** The one session that ended; null when all of the user's (or the site's) did. */
  session: string | null;
  actor: string;
  reason: string;
  /** When the revocation was made. */
  eventAt: EpochMs;
  state: SetState;
  /** Pushes that failed so far. */
  attempts: number;
  nextAttemptAt: EpochMs;
  lastAttemptAt: EpochMs | null;
  /** What the last failed push met (`503`, `400 invalid_key: ...`, `network: ...`); null before any. */
  lastError: string | null;
}

/** Names one SET in the outbox. */
export interface SetKey {
  noticeId: string;
  receiverId: string;
}

/** A SET leased for sending, with the receiver it goes to. */
export interface ClaimedSet {
  set: QueuedSet;
  receiver: Receiver;
}

/** A push that failed: what it met, and when. */
export interface PushFailure {
  error: string;
  at: EpochMs;
}

/** Each site's receivers, as its admins set them. */
export interface SignalReceivers {
  /**
   * Adds the receiver; when the site already has one at the same endpoint URL, that one takes the new audience and
   * authorization and keeps its id (and its queued SETs). Resolves the receiver as stored, and whether it is new.
   */
  putReceiver(receiver: Receiver): Promise<{ receiver: Receiver; created: boolean }>;
  /** The site's receivers, oldest first. */
  listReceivers(clientKey: string): Promise<Receiver[]>;
  /** Deletes the site's receiver and every SET queued for it; false when the site has no receiver by that id. */
  deleteReceiver(clientKey: string, id: string): Promise<boolean>;
}

/** The outbox as the push worker and admins use it. */
export interface SignalOutbox {
  /**
   * Leases up to `limit` pending SETs due at `now`, and not leased past it, to `lease` until `until`, soonest due
   * first, each with its receiver. Two callers never hold one SET at once.
   */
  claimSets(lease: string, now: EpochMs, until: EpochMs, limit: number): Promise<ClaimedSet[]>;
  /** The receiver acknowledged the SET: it leaves the outbox and is never sent again. */
  deliveredSet(key: SetKey): Promise<void>;
  /**
   * Releases the SET to be sent again at `nextAttemptAt`, counting `failure` as an attempt (null: postponed
   * untried). Only while `lease` still holds it; resolves whether it did.
   */
  retrySet(key: SetKey, lease: string, nextAttemptAt: EpochMs, failure: PushFailure | null): Promise<boolean>;
  /** Gives up on the SET for good, counting `failure` as its last attempt; only while `lease` holds it. */
  failSet(key: SetKey, lease: string, failure: PushFailure): Promise<boolean>;
  /** Releases every SET `lease` still holds, untried, to be claimed again at once (a stopping worker). */
  releaseSets(lease: string): Promise<number>;
  /** The site's SETs, newest revocation first, of one state or both. */
  listSets(query: { clientKey: string; state?: SetState; limit: number }): Promise<QueuedSet[]>;
  /** How many SETs are pending and how many failed, in one site or over every site. */
  countSets(clientKey?: string): Promise<Record<SetState, number>>;
}
