/**
 * Replays: a signed lifecycle call is accepted once and never one signed before the last accepted one,
 * and a webhook delivery the host retries is applied once. Recorded in the store, so every node agrees.
 */
import { sha256Hex } from '../tokens/hash';
import { fail, settle, settleResult, type Result, type Settled, type StoreFailureReport } from '../base/result';
import type { Clock, EpochMs, ReplayLedger } from './types';

/** The host's signature on one lifecycle call: the JWT's hash and its times. */
export interface LifecycleSignature {
  clientKey: string;
  /** SHA-256 of the JWT. */
  tokenHash: string;
  issuedAt: EpochMs;
  expiresAt: EpochMs;
}

export type ReplayCode = 'token_replayed' | 'token_stale';

export interface Replays {
  /**
   * Runs `work` for a lifecycle call unless its JWT was accepted before (`token_replayed`) or was signed
   * before the last call accepted for its site (`token_stale`), and answers what `work` answers. If `work`
   * fails (a failed result, or a rejection, which becomes `store_unavailable`), the JWT is released, so that
   * the host may send the same call again.
   */
  acceptLifecycle<T, C extends string>(
    signature: LifecycleSignature,
    work: () => Promise<Result<T, C>>,
  ): Promise<Result<T, ReplayCode | C | 'store_unavailable'>>;
  /** Whether the host's delivery `eventId` for the site was applied already. */
  wasApplied(clientKey: string, eventId: string): Promise<Settled<boolean>>;
  /** Remembers a delivery as applied, for as long as the host may retry it. */
  applied(clientKey: string, eventId: string): Promise<Settled<void>>;
}

/** How long a webhook delivery id is remembered: far longer than the host keeps retrying. */
export const WEBHOOK_MEMORY_MS = 24 * 60 * 60 * 1000;
/** A lifecycle JWT is remembered at least this long, whatever its `exp` says (a missing or tiny one, say). */
const MIN_LIFECYCLE_MEMORY_MS = 10 * 60 * 1000;

export function createReplays(deps: { ledger: ReplayLedger; clock: Clock; onStoreFailure: StoreFailureReport }): Replays {
  const { ledger, clock, onStoreFailure } = deps;
  // Site and id together, hashed: ids are the host's, and sites must not collide on them.
  const deliveryKey = (clientKey: string, eventId: string) => sha256Hex(JSON.stringify([clientKey, eventId]));

  return {
    acceptLifecycle: (signature, work) =>
      settleResult(onStoreFailure, 'accept lifecycle call', async () => {
        const now = clock.now();
        const keepUntil = Math.max(signature.expiresAt, now + MIN_LIFECYCLE_MEMORY_MS);
        if (!(await ledger.claimOnce('lifecycle_jwt', signature.tokenHash, keepUntil, now))) return fail('token_replayed');
        if (!(await ledger.advanceMark('lifecycle_signed', signature.clientKey, signature.issuedAt))) return fail('token_stale');
        const outcome = await settleResult(onStoreFailure, 'lifecycle work', work);
        if (!outcome.ok) await ledger.releaseClaim('lifecycle_jwt', signature.tokenHash).catch(() => undefined);
        return outcome;
      }),

    wasApplied: (clientKey, eventId) =>
      settle(onStoreFailure, 'look up delivery', () => ledger.isClaimed('webhook', deliveryKey(clientKey, eventId), clock.now())),

    applied: (clientKey, eventId) =>
      settle(onStoreFailure, 'record delivery', async () => {
        const now = clock.now();
        await ledger.claimOnce('webhook', deliveryKey(clientKey, eventId), now + WEBHOOK_MEMORY_MS, now);
      }),
  };
}
