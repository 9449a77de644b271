/** A node's cache of entry states, in front of the store, over node-cache. */
import NodeCache from 'node-cache';
import type { EntryState, EpochMs } from '../allowlist/types';
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
  /** The clock the TTL runs on: the wall clock unless said (tests pass their own). */
  now?: () => EpochMs;
}

/** How often expired states are dropped, and how many at most before the event loop gets a turn. */
const EXPIRY_TICK_MS = 1_000;
const EXPIRY_BATCH = 500;

export class NodeEntryCache implements EntryCache {
  private readonly cache: NodeCache;
  /**
   * When each cached state expires, in the order they were set. Every state gets the same TTL, so this is expiry
   * order, and dropping the expired states walks only them, a batch at a time. node-cache's own TTL check walked
   * every key in one go each period: with 100,000 states cached, that held the event loop for tens of milliseconds
   * (the longest check during a sweep, in docs/PERFORMANCE.md).
   */
  private readonly expiries = new Map<string, EpochMs>();
  private readonly ttlMs: number;
  private readonly now: () => EpochMs;
  private readonly ticker: NodeJS.Timeout;
  private dropping = false;

  constructor(options: EntryCacheOptions) {
    this.ttlMs = options.ttlSeconds * 1000;
    this.now = options.now ?? Date.now;
    // No cloning: cached states are never mutated, and cloning would cost on every hit. No TTL of node-cache's own:
    // expiry is kept in `expiries`.
    this.cache = new NodeCache({ stdTTL: 0, checkperiod: 0, useClones: false, maxKeys: options.maxEntries });
    this.ticker = setInterval(() => this.dropAllExpired(), EXPIRY_TICK_MS);
    // Housekeeping never keeps a stopping process alive.
    this.ticker.unref();
  }

  get(idHash: string): CachedEntryState | undefined {
    const expiresAt = this.expiries.get(idHash);
    if (expiresAt === undefined) return undefined;
    if (this.now() >= expiresAt) {
      this.delete(idHash);
      return undefined;
    }
    return this.cache.get<CachedEntryState>(idHash);
  }

  set(idHash: string, value: CachedEntryState): void {
    try {
      this.cache.set(idHash, value);
    } catch {
      // node-cache throws ECACHEFULL at maxKeys; the store stays authoritative, so skipping is safe.
      return;
    }
    // Set again, it moves to the end: its expiry is now the newest.
    this.expiries.delete(idHash);
    this.expiries.set(idHash, this.now() + this.ttlMs);
  }

  delete(idHash: string): void {
    this.cache.del(idHash);
    this.expiries.delete(idHash);
  }

  clear(): void {
    this.cache.flushAll();
    this.expiries.clear();
  }

  close(): void {
    clearInterval(this.ticker);
    this.cache.close();
  }

  /** Drops the oldest states expired by now, at most one batch; returns how many it dropped. */
  dropExpired(): number {
    const now = this.now();
    let dropped = 0;
    for (const [idHash, expiresAt] of this.expiries) {
      if (expiresAt > now || dropped === EXPIRY_BATCH) break;
      this.delete(idHash);
      dropped += 1;
    }
    return dropped;
  }

  /** Drops every expired state, a batch per turn of the event loop, so that checks run between batches. */
  private dropAllExpired(): void {
    if (this.dropping) return;
    this.dropping = true;
    const next = (): void => {
      if (this.dropExpired() === EXPIRY_BATCH) setImmediate(next);
      else this.dropping = false;
    };
    next();
  }
}
