/** A node's cache of entry states, in front of the store, over node-cache. */
import NodeCache from 'node-cache';
import type { EntryState } from '../allowlist/types';
import type { DependencyKeys } from './generations';

export interface CachedEntryState {
  state: EntryState;
  /** The generation stamp taken before the store was read. */
  stamp: number;
  keys: DependencyKeys;
}

export interface EntryCache {
  get(idHash: string): CachedEntryState | undefined;
  set(idHash: string, value: CachedEntryState): void;
  delete(idHash: string): void;
  clear(): void;
}

export interface EntryCacheOptions {
  /** Seconds a cached state is trusted at most, whatever the bus says. */
  ttlSeconds: number;
  /** Cap on cached entries; past it, states are simply not cached. */
  maxEntries: number;
}

export class NodeEntryCache implements EntryCache {
  private readonly cache: NodeCache;

  constructor(options: EntryCacheOptions) {
    // No cloning: cached states are never mutated, and cloning would cost on every hit.
    this.cache = new NodeCache({
      stdTTL: options.ttlSeconds,
      checkperiod: Math.max(1, Math.ceil(options.ttlSeconds)),
      useClones: false,
      maxKeys: options.maxEntries,
    });
  }

  get(idHash: string): CachedEntryState | undefined {
    return this.cache.get<CachedEntryState>(idHash);
  }

  set(idHash: string, value: CachedEntryState): void {
    try {
      this.cache.set(idHash, value);
    } catch {
      // node-cache throws ECACHEFULL at maxKeys; the store stays authoritative, so skipping is safe.
    }
  }

  delete(idHash: string): void {
    this.cache.del(idHash);
  }

  clear(): void {
    this.cache.flushAll();
  }

  close(): void {
    this.cache.close();
  }
}
