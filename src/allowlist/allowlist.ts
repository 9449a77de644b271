/** The allowlist: mint a page token, check one against its live entry, revoke entries. */
import type { Bus } from '../bus/types';
import type { EntryCache } from '../cache/entry-cache';
import { dependencyKeys, type Generations } from '../cache/generations';
import { hashTokenId } from '../tokens/hash';
import type { PageTokenClaims, PageTokenCodec } from '../tokens/page-token';
import type { AuditLog } from './audit';
import { covers, type ResourceRef } from './resource';
import { fail, ok, type DenyCode, type Result } from './result';
import type { AllowlistEntry, Clock, Confirmation, EntryState, EpochMs, RevokeScope, Store } from './types';

/** How a check found its entry state: in the cache, in the store after a miss, or in the store because the cache is not trusted. */
export type CacheLookup = 'hit' | 'miss' | 'bypass';

/** What the allowlist reports as it works, for metrics; the core knows nothing of how they are kept. */
export interface AllowlistObserver {
  cacheLookup(outcome: CacheLookup): void;
  revoked(cause: RevokeCause, revocation: Revocation): void;
}

export interface AllowlistDeps {
  store: Store;
  cache: EntryCache;
  generations: Generations;
  bus: Bus;
  clock: Clock;
  tokens: PageTokenCodec;
  audit: AuditLog;
  /** Lifetime of a page token. */
  ttlSeconds: number;
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
  /** Applies an invalidation announced on the bus to this node's cache. */
  forget(scope: RevokeScope): void;
}

export function createAllowlist(deps: AllowlistDeps): Allowlist {
  const { store, cache, generations, clock, tokens, audit } = deps;
  const observe: AllowlistObserver = deps.observer ?? { cacheLookup: () => undefined, revoked: () => undefined };

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
  async function loadState(idHash: string): Promise<Result<EntryState | null>> {
    const trusted = generations.isTrusted();
    if (trusted) {
      const cached = cache.get(idHash);
      if (cached !== undefined && generations.isCurrent(cached.stamp, cached.keys)) {
        observe.cacheLookup('hit');
        return ok(cached.state);
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
    if (state !== null && trusted) cache.set(idHash, { state, stamp, keys: dependencyKeys(state.entry) });
    return ok(state);
  }

  function forget(scope: RevokeScope): void {
    if (scope.kind === 'token') cache.delete(scope.idHash);
    generations.invalidate(scope);
  }

  return {
    async mint(request) {
      // Taken before the removal checks: a removal recorded after them is newer than this entry, so it kills it.
      const startedAt = clock.now();
      const decision = await mayMint(store, request);
      if (!decision.ok) return decision;
      const issued = tokens.issue({
        clientKey: request.clientKey,
        accountId: request.accountId,
        resource: request.target.resource,
        ttlSeconds: deps.ttlSeconds,
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
      return ok({ token: issued.token, entry });
    },

    async check(token, resource) {
      if (token === null || token.length === 0) return deny('token_missing', null, resource);
      const verified = tokens.verify(token);
      if (!verified.ok) return deny(verified.code, null, resource);
      const claims = verified.value;
      const loaded = await loadState(hashTokenId(claims.jti));
      if (!loaded.ok) return deny(loaded.code, claims, resource);
      const state = loaded.value;
      // A validly signed token without an entry was never minted here, or its entry is gone: revoked.
      if (state === null) return deny('token_revoked', claims, resource);
      const code = judge(state, claims, resource, clock.now());
      if (code !== null) return deny(code, claims, resource);
      return ok({ claims, entry: state.entry });
    },

    async revoke(scope, cause) {
      const at = clock.now();
      const count = await store.revokeEntries(scope, at, cause.reason);
      // Durable first, then every node forgets; this node forgets before publish resolves.
      const confirmation = await deps.bus.publish({ scope });
      audit.record({
        at,
        kind: 'revoke',
        clientKey: scope.kind === 'token' ? null : scope.clientKey,
        accountId: scope.kind === 'user' ? scope.accountId : null,
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

    forget,
  };
}

/** Guarantee 1: the entry exists, is not revoked, outlived no removal, its tenant is active and it covers the resource. */
function judge(state: EntryState, claims: PageTokenClaims, resource: string, now: EpochMs): DenyCode | null {
  const { entry } = state;
  if (entry.clientKey !== claims.aud || entry.accountId !== claims.sub || entry.resource !== claims.res) return 'token_invalid';
  if (entry.revokedAt !== null) return 'token_revoked';
  if (state.newestRemovalAt !== null && entry.createdAt <= state.newestRemovalAt) return 'token_revoked';
  if (state.tenantStatus === null) return 'tenant_unknown';
  if (state.tenantStatus !== 'enabled') return 'tenant_inactive';
  if (now >= entry.expiresAt) return 'token_expired';
  if (!covers(entry.resource, resource)) return 'resource_mismatch';
  return null;
}

/** Nothing is minted for an inactive tenant, a removed user or a deleted resource. */
async function mayMint(store: Store, request: MintRequest): Promise<Result<null>> {
  try {
    const tenant = await store.getTenant(request.clientKey);
    if (tenant === null) return fail('tenant_unknown');
    if (tenant.status !== 'enabled') return fail('tenant_inactive');
    const user = await store.getTombstone(request.clientKey, 'user', request.accountId);
    if (user !== null && (user.liftedAt === null || request.connectIssuedAt <= user.removedEventAt)) return fail('forbidden');
    for (const resource of [request.target.resource, request.target.parent]) {
      if (resource === null) continue;
      if ((await store.getTombstone(request.clientKey, 'resource', resource)) !== null) return fail('forbidden');
    }
    return ok(null);
  } catch {
    return fail('store_unavailable');
  }
}
