/** The bus: how nodes tell each other to drop cached state after a revocation. */
import type { RevokeScope } from '../allowlist/types';

export interface Invalidation {
  scope: RevokeScope;
}

export type InvalidationHandler = (message: Invalidation) => void;

export interface Bus {
  /** Resolves once every node reachable through this bus has been told (for the memory bus: has applied it). */
  publish(message: Invalidation): Promise<void>;
  subscribe(handler: InvalidationHandler): () => void;
  close(): Promise<void>;
}
