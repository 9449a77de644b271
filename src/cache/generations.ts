/**
 * Generation counters: how a node forgets every cached entry a revocation
 * touches without scanning its cache. One global counter ticks on every
 * invalidation; each user, resource and tenant remembers the tick of its last
 * one. A cached value stamped before that tick is stale.
 */
import type { RevokeScope } from '../allowlist/types';

/** The keys an entry's cached state depends on, computed once when it is cached. */
export interface DependencyKeys {
  tenant: string;
  user: string;
  resource: string;
  parent: string | null;
}

function tenantKey(clientKey: string): string {
  return `t\u0000${clientKey}`;
}

function userKey(clientKey: string, accountId: string): string {
  return `u\u0000${clientKey}\u0000${accountId}`;
}

function resourceKey(clientKey: string, resource: string): string {
  return `r\u0000${clientKey}\u0000${resource}`;
}

export function dependencyKeys(entry: { clientKey: string; accountId: string; resource: string; parent: string | null }): DependencyKeys {
  return {
    tenant: tenantKey(entry.clientKey),
    user: userKey(entry.clientKey, entry.accountId),
    resource: resourceKey(entry.clientKey, entry.resource),
    parent: entry.parent === null ? null : resourceKey(entry.clientKey, entry.parent),
  };
}

export class Generations {
  private tick = 0;
  private flushedAt = 0;
  private trusted = true;
  private readonly lastChange = new Map<string, number>();

  /** False while the node may be missing invalidations (its bus is down): nothing cached is current then. */
  isTrusted(): boolean {
    return this.trusted;
  }

  /** Take a stamp before reading the store, so a revocation that lands during the read makes the result stale. */
  stamp(): number {
    return this.tick;
  }

  isCurrent(stamp: number, keys: DependencyKeys): boolean {
    if (!this.trusted || stamp < this.flushedAt) return false;
    if ((this.lastChange.get(keys.tenant) ?? 0) > stamp) return false;
    if ((this.lastChange.get(keys.user) ?? 0) > stamp) return false;
    if ((this.lastChange.get(keys.resource) ?? 0) > stamp) return false;
    return keys.parent === null || (this.lastChange.get(keys.parent) ?? 0) <= stamp;
  }

  /** Marks everything in scope stale. Token and session scopes are handled by deleting the one cache key. */
  invalidate(scope: RevokeScope): void {
    this.tick += 1;
    switch (scope.kind) {
      case 'token':
      case 'session':
        return;
      case 'user':
        this.lastChange.set(userKey(scope.clientKey, scope.accountId), this.tick);
        return;
      case 'resource':
        // Entries whose parent is the resource depend on the same key through `parent`.
        this.lastChange.set(resourceKey(scope.clientKey, scope.resource), this.tick);
        return;
      case 'tenant':
        this.lastChange.set(tenantKey(scope.clientKey), this.tick);
        return;
    }
  }

  /** Everything cached so far is stale. */
  invalidateAll(): void {
    this.tick += 1;
    this.flushedAt = this.tick;
    this.lastChange.clear();
  }

  /** The bus is lost: stop trusting anything cached until it is back. */
  suspend(): void {
    this.trusted = false;
    this.invalidateAll();
  }

  /** The bus is back: whatever was cached before, or read while it was down, is stale; trust what is read from now on. */
  resume(): void {
    this.invalidateAll();
    this.trusted = true;
  }
}
