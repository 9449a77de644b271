/** The bus: how nodes tell each other to drop cached state after a revocation, and confirm they did. */
import type { Confirmation, RevokeScope } from '../allowlist/types';

export interface Invalidation {
  scope: RevokeScope;
}

export type InvalidationHandler = (message: Invalidation) => void;

export type ConnectionListener = (connected: boolean) => void;

export interface Bus {
  /**
   * Applies the invalidation on this node, announces it to every other node, and resolves once
   * every live node has confirmed it applied it, or once the confirmation bound has passed.
   */
  publish(message: Invalidation): Promise<Confirmation>;
  subscribe(handler: InvalidationHandler): () => void;
  /** True while this node hears every invalidation. While false, a node must not trust its cache. */
  isConnected(): boolean;
  onConnectionChange(listener: ConnectionListener): () => void;
  /** Live nodes this node knows of, itself included. */
  liveNodes(): number;
  close(): Promise<void>;
}
