/** Assembles the core from its parts: one allowlist that forgets what the bus announces, and the events that drive it. */
import type { Bus } from '../bus/types';
import type { EntryCache } from '../cache/entry-cache';
import { Generations } from '../cache/generations';
import type { PageTokenCodec } from '../tokens/page-token';
import { createAllowlist, type Allowlist } from './allowlist';
import type { AuditLog } from './audit';
import { createRemovals, type Removals } from './removals';
import { createTenantLifecycle, type TenantLifecycle } from './tenants';
import type { Clock, Store } from './types';

export interface CoreDeps {
  store: Store;
  cache: EntryCache;
  bus: Bus;
  clock: Clock;
  tokens: PageTokenCodec;
  audit: AuditLog;
  ttlSeconds: number;
}

export interface Core {
  allowlist: Allowlist;
  removals: Removals;
  tenants: TenantLifecycle;
  /** Stops listening to the bus. */
  detach(): void;
}

export function createCore(deps: CoreDeps): Core {
  const allowlist = createAllowlist({ ...deps, generations: new Generations() });
  const detach = deps.bus.subscribe((message) => allowlist.forget(message.scope));
  const { store, clock, audit } = deps;
  return {
    allowlist,
    removals: createRemovals({ store, clock, allowlist }),
    tenants: createTenantLifecycle({ store, clock, allowlist, audit }),
    detach,
  };
}
