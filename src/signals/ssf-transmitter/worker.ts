/**
 * The push worker, one per node: leases the SETs that are due, signs and pushes each, and settles it: delivered
 * (gone from the outbox), tried again later, or given up on. A lease names the round that holds a SET, so two
 * nodes never push one at once, and a SET a node held when it died is pushed by another once the lease ends.
 */
import type { Clock, EpochMs } from '../../allowlist/types';
import type { Logger } from '../../observability/logger';
import { settle as settleStoreWork, type StoreFailureReport } from '../../base/result';
import { randomId } from '../../tokens/random';
import { retryDelay, type RetryPolicy } from './backoff';
import type { ClaimedSet, SignalOutbox } from './outbox';
import { pushSet, type PushOptions, type PushOutcome } from './push';

/** What the worker reports as it works, for metrics. */
export interface TransmitterObserver {
  delivered(): void;
  retried(): void;
  failed(): void;
}

export interface PushWorkerDeps {
  outbox: Pick<SignalOutbox, 'claimSets' | 'deliveredSet' | 'retrySet' | 'failSet' | 'releaseSets'>;
  /** Builds and signs the SET of a claimed outbox row at `now`. */
  sign(claimed: ClaimedSet, now: EpochMs): Promise<string>;
  clock: Clock;
  /** In [0, 1), for the backoff's jitter. */
  random: () => number;
  retry: RetryPolicy;
  /** How often to look for SETs due when nothing wakes the worker sooner. */
  pollMs: number;
  log: Logger;
  observer?: TransmitterObserver;
  /** How long a claimed SET is held; past it, another round may take it. Far longer than a push may take. */
  leaseMs?: number;
  /** How long one push may take. */
  timeoutMs?: number;
  /** SETs claimed per round at most. */
  batch?: number;
  fetch?: PushOptions['fetch'];
}

export interface PushWorker {
  /** Starts looking for SETs due, every poll interval. */
  start(): void;
  /** Looks now rather than at the next poll: this node just queued something. */
  nudge(): void;
  /** One round: claims what is due, pushes it, settles each SET; resolves how many it claimed. */
  runOnce(): Promise<number>;
  /** Stops looking, cuts short the pushes in flight, and releases every SET still held, to be sent again at once. */
  stop(): Promise<void>;
}

const DEFAULT_LEASE_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_BATCH = 50;

export function createPushWorker(deps: PushWorkerDeps): PushWorker {
  const { outbox, clock, log } = deps;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const batch = deps.batch ?? DEFAULT_BATCH;
  const stopping = new AbortController();
  let started = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let wanted = false;
  /** The soonest retry this node scheduled: it looks again then rather than a whole poll later. */
  let soonest: EpochMs | null = null;
  let failing = false;

  function schedule(delayMs: number): void {
    if (stopping.signal.aborted || !started) return;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(wake, Math.max(0, delayMs));
    timer.unref();
  }

  function nextDelay(): number {
    const poll = deps.pollMs;
    if (soonest === null) return poll;
    const delay = Math.min(poll, soonest - clock.now());
    soonest = null;
    return delay;
  }

  function wake(): void {
    timer = null;
    if (running !== null) {
      wanted = true;
      return;
    }
    running = (async () => {
      do {
        wanted = false;
        // A full batch means more may be due: go on without waiting for the poll.
        if ((await guardedRound()) === batch) wanted = true;
      } while (wanted && !stopping.signal.aborted);
    })().finally(() => {
      running = null;
      schedule(nextDelay());
    });
  }

  /** Hears a round's store failure: logged once per outage, not once per poll. */
  const reportOutage: StoreFailureReport = (_verb, error) => {
    if (!failing) log.warn({ err: error }, 'SET outbox round failed; the next poll retries');
  };

  /** A round whose store failure is a result, logged once per outage and tried again at the next poll. */
  async function guardedRound(): Promise<number> {
    const claimed = await settleStoreWork(reportOutage, 'push SETs', round);
    if (!claimed.ok) {
      failing = true;
      return 0;
    }
    if (failing) log.info('SET outbox reachable again');
    failing = false;
    return claimed.value;
  }

  async function round(): Promise<number> {
    const now = clock.now();
    const lease = randomId();
    const claimed = await outbox.claimSets(lease, now, now + leaseMs, batch);
    if (claimed.length === 0) return 0;
    // One receiver's SETs one after another, receivers side by side: a slow or failing receiver holds up only its own.
    const byReceiver = new Map<string, ClaimedSet[]>();
    for (const item of claimed) {
      const list = byReceiver.get(item.receiver.id);
      if (list === undefined) byReceiver.set(item.receiver.id, [item]);
      else list.push(item);
    }
    // Every receiver's sends are over before anything is released: a SET released while still being pushed could be
    // claimed and pushed again by another round.
    const sent = await Promise.allSettled([...byReceiver.values()].map((sets) => sendAll(sets, lease)));
    // Whatever a stop (or a store failure) left unsettled goes back to the outbox, due at once.
    await outbox.releaseSets(lease);
    const failed = sent.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return claimed.length;
  }

  async function sendAll(sets: ClaimedSet[], lease: string): Promise<void> {
    // Once the receiver failed in this round, its other SETs wait with the one that failed, untried.
    let pausedUntil: EpochMs | null = null;
    for (const claimed of sets) {
      if (stopping.signal.aborted) return;
      if (pausedUntil !== null) {
        await outbox.retrySet(claimed.set, lease, pausedUntil, null);
        continue;
      }
      const outcome = await send(claimed);
      if (stopping.signal.aborted) return;
      pausedUntil = await settle(claimed, lease, outcome);
    }
  }

  async function send(claimed: ClaimedSet): Promise<PushOutcome> {
    const token = await deps.sign(claimed, clock.now());
    return pushSet(token, claimed.receiver, { timeoutMs, now: () => clock.now(), signal: stopping.signal, fetch: deps.fetch });
  }

  /** Records the push's outcome; resolves when the receiver is next to be tried, if it failed. */
  async function settle(claimed: ClaimedSet, lease: string, outcome: PushOutcome): Promise<EpochMs | null> {
    const { set, receiver } = claimed;
    const at = clock.now();
    switch (outcome.kind) {
      case 'delivered':
        await outbox.deliveredSet(set);
        deps.observer?.delivered();
        return null;
      case 'failed':
        await outbox.failSet(set, lease, { error: outcome.error, at });
        deps.observer?.failed();
        log.warn({ receiver: receiver.id, set: set.noticeId, error: outcome.error }, 'receiver refused a SET; it will not be sent again');
        return null;
      case 'retry': {
        const next = outcome.retryAt ?? at + retryDelay(set.attempts + 1, deps.retry, deps.random);
        await outbox.retrySet(set, lease, next, { error: outcome.error, at });
        deps.observer?.retried();
        soonest = soonest === null ? next : Math.min(soonest, next);
        log.info({ receiver: receiver.id, set: set.noticeId, error: outcome.error, attempts: set.attempts + 1 }, 'SET push failed; trying again later');
        return next;
      }
    }
  }

  return {
    start() {
      if (started) return;
      started = true;
      schedule(0);
    },
    nudge() {
      if (!started || stopping.signal.aborted) return;
      if (running !== null) wanted = true;
      else schedule(0);
    },
    runOnce: () => round(),
    async stop() {
      stopping.abort();
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
