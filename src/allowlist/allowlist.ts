/** The allowlist: mint a page token, check one against its live entry, revoke entries. */
import type { Bus } from '../bus/types';
import type { EntryCache } from '../cache/entry-cache';
import { dependencyKeys, type Generations } from '../cache/generations';
import { hashTokenId } from '../tokens/hash';
import type { HolderProof, PageTokenClaims, PageTokenCodec } from '../tokens/page-token';
import type { AuditLog } from './audit';
import type { LastSeenTracker } from './last-seen';
import { absoluteDeadline, idleDeadline } from './policy';
import { covers, type ResourceRef } from './resource';
import { fail, ok, type DenyCode, type Result } from './result';
import type { AllowlistEntry, Clock, Confirmation, EntryState, EpochMs, MintState, Policy, RevokeScope, Store } from './types';

/** How a check found its entry state: in the cache, in the store after a miss, or in the store because the cache is not trusted. */
export type CacheLookup = 'hit' | 'miss' | 'bypass';

/** What the allowlist reports as it works, for metrics; the core knows nothing of how they are kept. */
export interface AllowlistObserver {
  cacheLookup(outcome: CacheLookup): void;
  /** Every check's outcome ('ok' or its deny code) and how long it took. */
  checked(outcome: 'ok' | DenyCode, seconds: number): void;
  minted(): void;
  revoked(cause: RevokeCause, revocation: Revocation): void;
}

const NO_OBSERVER: AllowlistObserver = { cacheLookup() {}, checked() {}, minted() {}, revoked() {} };

export interface AllowlistDeps {
  store: Store;
  cache: EntryCache;
  generations: Generations;
  bus: Bus;
  clock: Clock;
  tokens: PageTokenCodec;
  audit: AuditLog;
  /** The policy of a tenant whose admins never set one. */
  defaultPolicy: Policy;
  lastSeen: LastSeenTracker;
  observer?: AllowlistObserver;
}

export interface MintRequest {
  clientKey: string;
  accountId: string;
  target: ResourceRef;
  /** `iat` of the host's Connect JWT that rendered the page, in ms: a JWT from before a removal cannot mint. */
  connectIssuedAt: EpochMs;
  ip: string | null;
  userAgent: string | null;
  /** What the token's holder must also show, as the front door that mints it asks (carried in the token, never judged here). */
  proof?: HolderProof;
}

export interface MintedToken {
  token: string;
  entry: AllowlistEntry;
}

export interface Grant {
  claims: PageTokenClaims;
  entry: AllowlistEntry;
}

export interface RevokeCause {
  /** Who asked: `webhook:user_deleted`, `lifecycle:uninstalled`, `operator`... */
  actor: string;
  /** Why, as a stable code stored on each entry: `user_removed`, `issue_deleted`... */
  reason: string;
}

export interface Revocation {
  /** Entries the revocation ended. */
  count: number;
  /** Nodes that had dropped their cached state when the call returned, out of the live nodes. */
  confirmation: Confirmation;
}

export interface Allowlist {
  mint(request: MintRequest): Promise<Result<MintedToken>>;
  check(token: string | null, resource: string): Promise<Result<Grant>>;
  /** Durable first, then every node forgets; resolves when the live nodes confirmed or the bound passed. */
  revoke(scope: RevokeScope, cause: RevokeCause): Promise<Revocation>;
  /** Every node forgets what it cached in scope, without a revocation (the tenant's policy changed, say). */
  announce(scope: RevokeScope): Promise<Confirmation>;
  /** Applies an invalidation announced on the bus to this node's cache. */
  forget(scope: RevokeScope): void;
}

export function createAllowlist(deps: AllowlistDeps): Allowlist {
  const { store, cache, generations, clock, tokens, audit } = deps;
  const observe = deps.observer ?? NO_OBSERVER;
  const { lastSeen } = deps;

  // Only denials of a token that verified are audited: unsigned garbage names nobody, and writing a row
  // for each would let anyone fill the audit log.
  const deny = (code: DenyCode, claims: PageTokenClaims | null, resource: string): Result<Grant> => {
    if (claims === null) return fail(code);
    audit.record({
      at: clock.now(),
      kind: 'deny',
      clientKey: claims.aud,
      accountId: claims.sub,
      actor: null,
      reason: code,
      resource,
      count: null,
      confirmation: null,
    });
    return fail(code);
  };

  // A cache hit costs a map lookup and four counter comparisons; a miss reads the store once.
  // While the bus is down the cache is bypassed: every check reads the store.
  async function loadState(idHash: string, fresh = false): Promise<Result<LoadedState | null>> {
    const trusted = generations.isTrusted();
    if (trusted && !fresh) {
      const cached = cache.get(idHash);
      if (cached !== undefined && generations.isCurrent(cached.stamp, cached.keys)) {
        observe.cacheLookup('hit');
        return ok({ state: cached.state, cached: true });
      }
    }
    observe.cacheLookup(trusted ? 'miss' : 'bypass');
    const stamp = generations.stamp();
    let state: EntryState | null;
    try {
      state = await store.loadEntryState(idHash);
    } catch {
      return fail('store_unavailable');
    }
    if (state === null) return ok(null);
    if (trusted) cache.set(idHash, { state, stamp, keys: dependencyKeys(state.entry) });
    return ok({ state, cached: false });
  }

  function forget(scope: RevokeScope): void {
    if (scope.kind === 'token' || scope.kind === 'session') cache.delete(scope.idHash);
    generations.invalidate(scope);
  }

  // The codec answers a token it remembers with the same claims object, so its id's hash is worked out once.
  const idHashes = new WeakMap<PageTokenClaims, string>();
  const idHashOf = (claims: PageTokenClaims): string => {
    let idHash = idHashes.get(claims);
    if (idHash === undefined) {
      idHash = hashTokenId(claims.jti);
      idHashes.set(claims, idHash);
    }
    return idHash;
  };

  async function decide(token: string | null, resource: string): Promise<Result<Grant>> {
    if (token === null || token.length === 0) return deny('token_missing', null, resource);
    let verified = tokens.verify(token);
    if (verified instanceof Promise) {
      // The token names a site this node holds no key for yet: the codec asked the store whether it exists.
      try {
        verified = await verified;
      } catch {
        return deny('store_unavailable', null, resource);
      }
    }
    if (!verified.ok) return deny(verified.code, null, resource);
    const claims = verified.value;
    const idHash = idHashOf(claims);
    let loaded = await loadState(idHash);
    if (!loaded.ok) return deny(loaded.code, claims, resource);
    // A validly signed token without an entry was never minted here, or its entry is gone: revoked.
    if (loaded.value === null) return deny('token_revoked', claims, resource);
    const now = clock.now();
    let code = judge(loaded.value.state, claims, resource, now, lastUse(loaded.value.state), deps.defaultPolicy);
    // Idleness judged on a cached copy may miss a use another node has written since: ask the store once before refusing.
    if (code === 'token_idle' && loaded.value.cached) {
      loaded = await loadState(idHash, true);
      if (!loaded.ok) return deny(loaded.code, claims, resource);
      if (loaded.value === null) return deny('token_revoked', claims, resource);
      code = judge(loaded.value.state, claims, resource, now, lastUse(loaded.value.state), deps.defaultPolicy);
    }
    if (code !== null) return deny(code, claims, resource);
    lastSeen.note(idHash, now);
    return ok({ claims, entry: loaded.value.state.entry });
  }

  /** The newest use known: the store's (as read) or this node's own, not yet written. */
  function lastUse(state: EntryState): EpochMs {
    return Math.max(state.entry.lastSeenAt, lastSeen.newest(state.entry.idHash) ?? 0);
  }

  return {
    async mint(request) {
      // Taken before the removal checks: a removal recorded after them is newer than this entry, so it kills it.
      const startedAt = clock.now();
      const decision = await mayMint(store, request);
      if (!decision.ok) return decision;
      const policy = decision.value ?? deps.defaultPolicy;
      const issued = tokens.issue({
        clientKey: request.clientKey,
        accountId: request.accountId,
        resource: request.target.resource,
        ttlSeconds: policy.absoluteLifetimeSeconds,
        proof: request.proof,
      });
      const entry: AllowlistEntry = {
        idHash: hashTokenId(issued.claims.jti),
        clientKey: request.clientKey,
        accountId: request.accountId,
        resource: request.target.resource,
        parent: request.target.parent,
        createdAt: startedAt,
        expiresAt: issued.expiresAt,
        lastSeenAt: issued.issuedAt,
        ip: request.ip,
        userAgent: request.userAgent,
        revokedAt: null,
        revokeReason: null,
      };
      try {
        await store.insertEntry(entry);
      } catch {
        return fail('store_unavailable');
      }
      // A removal whose tombstone the first read missed may have run its revoking UPDATE before this entry was
      // written, and taken its time before this mint began. Read again now that the entry is durable: either
      // that UPDATE saw the entry, or this read sees the tombstone, which was written before the UPDATE began.
      const recheck = await mayMint(store, request);
      if (!recheck.ok) {
        // The token is never handed out; revoked, its entry is not listed as a live session either.
        await store.revokeEntries({ kind: 'token', idHash: entry.idHash }, clock.now(), 'removed_while_minting').catch(() => undefined);
        return recheck;
      }
      audit.record({
        at: entry.createdAt,
        kind: 'mint',
        clientKey: entry.clientKey,
        accountId: entry.accountId,
        actor: `user:${entry.accountId}`,
        reason: null,
        resource: entry.resource,
        count: 1,
        confirmation: null,
      });
      observe.minted();
      return ok({ token: issued.token, entry });
    },

    async check(token, resource) {
      const started = performance.now();
      const result = await decide(token, resource);
      observe.checked(result.ok ? 'ok' : result.code, (performance.now() - started) / 1000);
      return result;
    },

    async revoke(scope, cause) {
      const at = clock.now();
      const count = await store.revokeEntries(scope, at, cause.reason);
      // Durable first, then every node forgets; this node forgets before publish resolves.
      const confirmation = await deps.bus.publish({ scope });
      // The trace is written before the answer: an admin who reads the audit next finds this revocation there.
      await audit.record({
        at,
        kind: 'revoke',
        clientKey: scope.kind === 'token' ? null : scope.clientKey,
        accountId: scope.kind === 'user' || scope.kind === 'session' ? scope.accountId : null,
        actor: cause.actor,
        reason: cause.reason,
        resource: scope.kind === 'resource' ? scope.resource : null,
        count,
        confirmation,
      });
      const revocation = { count, confirmation };
      observe.revoked(cause, revocation);
      return revocation;
    },

    announce: (scope) => deps.bus.publish({ scope }),

    forget,
  };
}

interface LoadedState {
  state: EntryState;
  /** Read from this node's cache rather than the store. */
  cached: boolean;
}

/**
 * Guarantee 1: the entry exists, is not revoked, outlived no removal, its tenant is active, it is within
 * its absolute and idle deadlines, and it covers the resource.
 */
function judge(
  state: EntryState,
  claims: PageTokenClaims,
  resource: string,
  now: EpochMs,
  lastUse: EpochMs,
  defaultPolicy: Policy,
): DenyCode | null {
  const { entry } = state;
  const policy = state.policy ?? defaultPolicy;
  if (entry.clientKey !== claims.aud || entry.accountId !== claims.sub || entry.resource !== claims.res) return 'token_invalid';
  if (entry.revokedAt !== null) return 'token_revoked';
  if (state.newestRemovalAt !== null && entry.createdAt <= state.newestRemovalAt) return 'token_revoked';
  if (state.tenantStatus === null) return 'tenant_unknown';
  if (state.tenantStatus !== 'enabled') return 'tenant_inactive';
  if (now >= entry.expiresAt || now >= absoluteDeadline(entry, policy)) return 'token_expired';
  if (now >= idleDeadline(lastUse, policy)) return 'token_idle';
  if (!covers(entry.resource, resource)) return 'resource_mismatch';
  return null;
}

/** Nothing is minted for an inactive tenant, a removed user or a deleted resource. Answers the tenant's policy, if set. */
async function mayMint(store: Store, request: MintRequest): Promise<Result<Policy | null>> {
  let state: MintState;
  try {
    state = await store.loadMintState(request.clientKey, request.accountId, request.target.resource, request.target.parent);
  } catch {
    return fail('store_unavailable');
  }
  if (state.tenantStatus === null) return fail('tenant_unknown');
  if (state.tenantStatus !== 'enabled') return fail('tenant_inactive');
  const user = state.userRemoval;
  if (user !== null && (user.liftedAt === null || request.connectIssuedAt <= user.removedEventAt)) return fail('forbidden');
  if (state.resourceRemoved) return fail('forbidden');
  return ok(state.policy);
}
