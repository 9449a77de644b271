/**
 * Entry states as a node knows them: from its cache while that can be trusted, else from the store; and forgetting
 * them when any node announces a change. The only module that knows about generation stamps and the bus.
 */
import type { Bus } from '../bus/types';
import type { EntryCache } from '../cache/entry-cache';
import { dependencyKeys, Generations } from '../cache/generations';
import { fail, ok, type Result } from '../base/result';
import type { EntryState, EntryStore, RevokeScope } from './types';

/** How a state was found: in the cache, in the store after a miss, or in the store because the cache is not trusted. */
export type CacheLookup = 'hit' | 'miss' | 'bypass';

export interface KnownState {
  state: EntryState;
  /** Read from this node's cache rather than the store: another node may have changed it since. */
  cached: boolean;
}

/** A session's state, null when the store has no entry for it, or `store_unavailable`. */
export type Lookup = Result<KnownState | null>;

export interface EntryStates {
  /** The state of session `idHash`: answered at once from the cache when it can be trusted, else read from the store. */
  get(idHash: string): Lookup | Promise<Lookup>;
  /** The state as the store has it now, whatever is cached. */
  read(idHash: string): Promise<Lookup>;
  /** Every node drops what it cached in scope; resolves when the live nodes confirmed or the bus's bound passed. */
  announce(scope: RevokeScope): ReturnType<Bus['publish']>;
  /** This node drops what it cached in scope. */
  forget(scope: RevokeScope): void;
  /** Tells `listener` of every scope this node forgets (whichever node announced it), after it has forgotten; returns the unsubscribe. */
  onForget(listener: (scope: RevokeScope) => void): () => void;
  /** Stops listening to the bus. */
  detach(): void;
}

export interface EntryStatesDeps {
  store: EntryStore;
  cache: EntryCache;
  bus: Bus;
  onLookup?: (outcome: CacheLookup) => void;
}

export function createEntryStates(deps: EntryStatesDeps): EntryStates {
  const { store, cache, bus } = deps;
  const onLookup = deps.onLookup ?? (() => undefined);
  const generations = new Generations();

  /** Reads the store; what it read is cached after a `miss`, never on a `bypass` (the cache is not trusted). */
  async function load(idHash: string, lookup: 'miss' | 'bypass'): Promise<Lookup> {
    onLookup(lookup);
    // Taken before the read, so a revocation that lands during it makes what was read stale.
    const stamp = generations.stamp();
    let state: EntryState | null;
    try {
      state = await store.loadEntryState(idHash);
    } catch {
      return fail('store_unavailable');
    }
    if (state === null) return ok(null);
    if (lookup === 'miss') cache.set(idHash, { state, stamp, keys: dependencyKeys(state.entry) });
    return ok({ state, cached: false });
  }

  const forgotten = new Set<(scope: RevokeScope) => void>();
  function forget(scope: RevokeScope): void {
    if (scope.kind === 'token' || scope.kind === 'session') cache.delete(scope.idHash);
    generations.invalidate(scope);
    for (const listener of forgotten) listener(scope);
  }

  const unsubscribe = bus.subscribe((message) => forget(message.scope));
  // Invalidations may be missed while the bus is down, so nothing cached is trusted until it is back and flushed.
  const follow = (connected: boolean) => (connected ? generations.resume() : generations.suspend());
  follow(bus.isConnected());
  const unfollow = bus.onConnectionChange(follow);

  return {
    // A hit costs a map lookup and four counter comparisons, and awaits nothing.
    get(idHash) {
      if (!generations.isTrusted()) return load(idHash, 'bypass');
      const cached = cache.get(idHash);
      if (cached !== undefined && generations.isCurrent(cached.stamp, cached.keys)) {
        onLookup('hit');
        return ok({ state: cached.state, cached: true });
      }
      return load(idHash, 'miss');
    },
    read: (idHash) => load(idHash, generations.isTrusted() ? 'miss' : 'bypass'),
    // Durable changes are announced after they are written; this node forgets before publish resolves.
    announce: (scope) => bus.publish({ scope }),
    forget,
    onForget(listener) {
      forgotten.add(listener);
      return () => forgotten.delete(listener);
    },
    detach() {
      unsubscribe();
      unfollow();
    },
  };
}
