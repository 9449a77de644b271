/**
 * Assembles the core from its parts: one allowlist that forgets what the bus announces,
 * and stops trusting its cache while the bus is down, and the events that drive it.
 */
import type { Bus } from '../bus/types';
import type { EntryCache } from '../cache/entry-cache';
import type { PageTokenCodec } from '../tokens/page-token';
import { createAllowlist, type Allowlist, type AllowlistObserver, type KeyProofs } from './allowlist';
import type { AuditLog } from './audit';
import { createAuditTrail, type AuditTrail } from './audit-trail';
import { createEntryStates, type EntryStates } from './entry-states';
import { DEFAULT_PREFIXES, type NetworkPrefixes } from './network';
import type { RotationPolicy } from './rotation';
import { LastSeenTracker } from './last-seen';
import { createLiveSessions, type LiveObserver, type LiveSessions } from './live-sessions';
import { createPolicies, type Policies } from './policies';
import { createSessions, type Sessions } from './sessions';
import { createRemovals, type Removals } from './removals';
import { createReplays, type Replays } from './replays';
import { settle, type Settled, type StoreFailureReport } from '../base/result';
import { createTenantLifecycle, tenantKnown, type TenantLifecycle } from './tenants';
import type { AuditStore, Clock, EntryStore, Policy, ReplayLedger, SessionListing, TenantStore, TokenChains, TombstoneStore } from './types';

/** Rotation as it runs when nothing else is said: a successor offered after a minute, ten seconds' grace. */
export const DEFAULT_ROTATION: RotationPolicy = { afterMs: 60_000, graceMs: 10_000 };

export interface CoreDeps {
  /** One store playing the roles the core's parts use; each part is handed only its own. */
  store: EntryStore & TokenChains & SessionListing & TombstoneStore & TenantStore & Pick<AuditStore, 'listAudit'>;
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
  /** When sessions rotate their tokens; DEFAULT_ROTATION unless said. */
  rotation?: RotationPolicy;
  /** How coarse "the same network" is for theft signals; DEFAULT_PREFIXES unless said. */
  prefixes?: NetworkPrefixes;
  /** Verifies DPoP proofs for sites that bind tokens to keys. */
  proofs?: KeyProofs;
  observer?: AllowlistObserver;
  /** Hears each store rejection a verb answered as `store_unavailable` (the app logs it); unheard unless said. */
  onStoreFailure?: StoreFailureReport;
  /** How many sessions this node's open pages may watch, in all and per session (DEFAULT_LIVE unless said), and who counts them. */
  live?: { max: number; perSession: number; observer?: LiveObserver };
}

/** Watchers per node and per session when nothing else is said. */
export const DEFAULT_LIVE = { max: 10_000, perSession: 3 };

export interface Core {
  allowlist: Allowlist;
  /** Entry states as this node caches them; `forget` drops them (benchmarks force misses with it). */
  states: EntryStates;
  removals: Removals;
  tenants: TenantLifecycle;
  policies: Policies;
  sessions: Sessions;
  /** The audit trail as admins and operators read it. */
  auditTrail: AuditTrail;
  /** Whether a site has a record, in any status. */
  tenantKnown(clientKey: string): Promise<Settled<boolean>>;
  replays: Replays;
  /** The report the core's verbs hand store rejections to, for parts built beside it (signals) to settle into as well. */
  onStoreFailure: StoreFailureReport;
  /** The sessions open pages watch on this node, told of every scope the bus announces. */
  live: LiveSessions;
  /** Uses noted by checks, written behind by `flushLastSeen`. */
  lastSeen: LastSeenTracker;
  /** Writes every use noted since the last flush; resolves how many tokens it wrote, or `store_unavailable` (the uses stay noted for the next flush). */
  flushLastSeen(): Promise<Settled<number>>;
  /** Stops listening to the bus. */
  detach(): void;
}

/** A tenant's policy when its admins never set one: the configured timeouts, forks revoked, nothing else. */
export function defaultPolicyOf(ttlSeconds: number, idleTimeoutSeconds = ttlSeconds): Policy {
  return {
    idleTimeoutSeconds: Math.min(idleTimeoutSeconds, ttlSeconds),
    absoluteLifetimeSeconds: ttlSeconds,
    theftResponse: 'revoke',
    agentChangeResponse: 'report',
    keyBinding: false,
  };
}

export function createCore(deps: CoreDeps): Core {
  const lastSeen = new LastSeenTracker();
  const defaultPolicy = defaultPolicyOf(deps.ttlSeconds, deps.idleTimeoutSeconds);
  const states = createEntryStates({ store: deps.store, cache: deps.cache, bus: deps.bus, onLookup: (outcome) => deps.observer?.cacheLookup(outcome) });
  const allowlist = createAllowlist({
    ...deps,
    states,
    defaultPolicy,
    lastSeen,
    rotation: deps.rotation ?? DEFAULT_ROTATION,
    prefixes: deps.prefixes ?? DEFAULT_PREFIXES,
  });
  const { store, clock, audit } = deps;
  const onStoreFailure = deps.onStoreFailure ?? (() => undefined);
  const live = createLiveSessions({ read: states.read, clock, defaultPolicy, ...DEFAULT_LIVE, ...deps.live });
  const unhear = states.onForget(live.announced);
  return {
    allowlist,
    states,
    removals: createRemovals({ store, clock, allowlist, onStoreFailure }),
    tenants: createTenantLifecycle({ store, clock, allowlist, audit, onStoreFailure }),
    policies: createPolicies({ store, clock, announce: states.announce, audit, defaultPolicy, onStoreFailure }),
    sessions: createSessions({ store, clock, allowlist, onStoreFailure }),
    auditTrail: createAuditTrail({ store, onStoreFailure }),
    tenantKnown: tenantKnown(store, onStoreFailure),
    replays: createReplays({ ledger: deps.ledger, clock, onStoreFailure }),
    onStoreFailure,
    live,
    lastSeen,
    flushLastSeen: () => settle(onStoreFailure, 'flush last seen', () => lastSeen.flush(store, clock.now())),
    detach() {
      unhear();
      states.detach();
    },
  };
}
