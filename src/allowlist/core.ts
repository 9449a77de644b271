/**
 * Assembles the core from its parts: one allowlist that forgets what the bus announces,
 * and stops trusting its cache while the bus is down, and the events that drive it.
 */
import type { Bus } from '../bus/types';
import type { EntryCache } from '../cache/entry-cache';
import { Generations } from '../cache/generations';
import type { PageTokenCodec } from '../tokens/page-token';
import { createAllowlist, type Allowlist, type AllowlistObserver } from './allowlist';
import type { AuditLog } from './audit';
import { LastSeenTracker } from './last-seen';
import { createPolicies, type Policies } from './policies';
import { createSessions, type Sessions } from './sessions';
import { createRemovals, type Removals } from './removals';
import { createReplays, type Replays } from './replays';
import { createTenantLifecycle, type TenantLifecycle } from './tenants';
import type { Clock, ReplayLedger, Store } from './types';

export interface CoreDeps {
  store: Store;
  /** Where lifecycle JWTs and webhook deliveries already accepted are recorded (the store, in the app). */
  ledger: ReplayLedger;
  cache: EntryCache;
  bus: Bus;
  clock: Clock;
  tokens: PageTokenCodec;
  audit: AuditLog;
  /** Absolute lifetime of a page token, unless its tenant's policy says otherwise. */
  ttlSeconds: number;
  /** Idle timeout, unless its tenant's policy says otherwise; by default as long as the lifetime (no idle limit). */
  idleTimeoutSeconds?: number;
  observer?: AllowlistObserver;
}

export interface Core {
  allowlist: Allowlist;
  removals: Removals;
  tenants: TenantLifecycle;
  policies: Policies;
  sessions: Sessions;
  replays: Replays;
  /** Uses noted by checks, written behind by `flushLastSeen`. */
  lastSeen: LastSeenTracker;
  /** Writes every use noted since the last flush; returns how many tokens it wrote. */
  flushLastSeen(): Promise<number>;
  /** Stops listening to the bus. */
  detach(): void;
}

export function createCore(deps: CoreDeps): Core {
  const generations = new Generations();
  const lastSeen = new LastSeenTracker();
  const defaultPolicy = {
    idleTimeoutSeconds: Math.min(deps.idleTimeoutSeconds ?? deps.ttlSeconds, deps.ttlSeconds),
    absoluteLifetimeSeconds: deps.ttlSeconds,
  };
  const allowlist = createAllowlist({ ...deps, generations, defaultPolicy, lastSeen });
  const unsubscribe = deps.bus.subscribe((message) => allowlist.forget(message.scope));
  // Guarantee 5: invalidations may be missed while the bus is down, so nothing cached is trusted until it is back and flushed.
  const follow = (connected: boolean) => (connected ? generations.resume() : generations.suspend());
  follow(deps.bus.isConnected());
  const unfollow = deps.bus.onConnectionChange(follow);
  const { store, clock, audit } = deps;
  return {
    allowlist,
    removals: createRemovals({ store, clock, allowlist }),
    tenants: createTenantLifecycle({ store, clock, allowlist, audit }),
    policies: createPolicies({ store, clock, allowlist, audit, defaultPolicy }),
    sessions: createSessions({ store, clock, allowlist }),
    replays: createReplays({ ledger: deps.ledger, clock }),
    lastSeen,
    flushLastSeen: () => lastSeen.flush(store, clock.now()),
    detach() {
      unsubscribe();
      unfollow();
    },
  };
}
