/** The in-process bus: one node, delivery is a function call. */
import type { Bus, Invalidation, InvalidationHandler } from './types';

export class MemoryBus implements Bus {
  private readonly handlers = new Set<InvalidationHandler>();

  async publish(message: Invalidation): Promise<void> {
    for (const handler of this.handlers) handler(message);
  }

  subscribe(handler: InvalidationHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
