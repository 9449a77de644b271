/** The in-process bus: one node, delivery is a function call, so every publish is confirmed by the one node there is. */
import type { Confirmation } from '../allowlist/types';
import type { Bus, ConnectionListener, Invalidation, InvalidationHandler } from './types';

export class MemoryBus implements Bus {
  private readonly handlers = new Set<InvalidationHandler>();

  async publish(message: Invalidation): Promise<Confirmation> {
    for (const handler of this.handlers) handler(message);
    return { confirmed: 1, expected: 1 };
  }

  subscribe(handler: InvalidationHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  isConnected(): boolean {
    return true;
  }

  onConnectionChange(_listener: ConnectionListener): () => void {
    // Never disconnects, so never calls.
    return () => undefined;
  }

  liveNodes(): number {
    return 1;
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
