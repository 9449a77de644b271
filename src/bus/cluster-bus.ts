/**
 * The cluster bus: invalidations, heartbeats and confirmations between nodes,
 * over any transport (PostgreSQL LISTEN/NOTIFY, Redis pub/sub).
 *
 * Each node announces itself with a heartbeat; a node not heard from for three
 * heartbeats is gone. A publish applies the invalidation here, sends it, and
 * waits until every node that was live at that moment has acknowledged it, or
 * until the confirmation bound passes. A node counts itself connected only while
 * its transport is up and its own heartbeats come back to it, so a half-open
 * connection that swallows messages is noticed too.
 */
import { z } from 'zod';
import type { Clock, Confirmation, EpochMs, RevokeScope } from '../allowlist/types';
import { randomUuid } from '../tokens/random';
import type { Transport } from './transport';
import type { Bus, ConnectionListener, Invalidation, InvalidationHandler } from './types';

export interface ClusterBusOptions {
  /** This node's name on the bus; unique per process. */
  nodeId: string;
  clock: Clock;
  /** How long a publish waits for confirmations at most. */
  confirmMs: number;
  heartbeatMs: number;
  /** Waits `ms`; tests replace it to end a confirmation wait without sleeping. */
  delay?: (ms: number) => Promise<void>;
  /** Reports what cannot be thrown at a caller (a message that failed to parse, a send that failed). */
  onError?: (error: unknown, what: string) => void;
}

/** Heartbeats a node may miss before the others count it gone. */
const MISSED_HEARTBEATS = 3;
/** Invalidations kept for resending after a reconnect; past this, nodes rely on the flush and the cache TTL. */
const OUTBOX_LIMIT = 10_000;

const text = z.string().min(1).max(1024);
const scopeSchema: z.ZodType<RevokeScope> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('token'), idHash: z.string().regex(/^[0-9a-f]{64}$/) }),
  z.object({ kind: z.literal('session'), clientKey: text, accountId: text, idHash: z.string().regex(/^[0-9a-f]{64}$/) }),
  z.object({ kind: z.literal('user'), clientKey: text, accountId: text, except: z.string().regex(/^[0-9a-f]{64}$/).optional() }),
  z.object({ kind: z.literal('resource'), clientKey: text, resource: text }),
  z.object({ kind: z.literal('tenant'), clientKey: text }),
]);
const messageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('heartbeat'), node: text }),
  z.object({ type: z.literal('leave'), node: text }),
  z.object({ type: z.literal('invalidate'), node: text, id: text, scope: scopeSchema }),
  z.object({ type: z.literal('ack'), node: text, id: text, to: text }),
]);
type Message = z.infer<typeof messageSchema>;

interface PendingPublish {
  waitingFor: Set<string>;
  confirmed: number;
  done: () => void;
}

const realDelay = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

export class ClusterBus implements Bus {
  private readonly handlers = new Set<InvalidationHandler>();
  private readonly connectionListeners = new Set<ConnectionListener>();
  /** Other nodes, by id, with when each was last heard from. */
  private readonly peers = new Map<string, EpochMs>();
  private readonly pending = new Map<string, PendingPublish>();
  private readonly outbox: string[] = [];
  private transportUp = false;
  private connected = false;
  private ownHeartbeatAt: EpochMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly delay: (ms: number) => Promise<void>;
  private readonly expiryMs: number;

  constructor(
    private readonly transport: Transport,
    private readonly options: ClusterBusOptions,
  ) {
    this.delay = options.delay ?? realDelay;
    this.expiryMs = options.heartbeatMs * MISSED_HEARTBEATS;
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** Connects and starts heartbeating. Resolves at once: a node whose bus is down still serves, from the store. */
  start(): void {
    this.transport.start({
      message: (raw) => this.receive(raw),
      connection: (up) => this.transportChanged(up),
    });
    this.timer = setInterval(() => this.tick(), this.options.heartbeatMs);
    this.timer.unref();
  }

  async publish(message: Invalidation): Promise<Confirmation> {
    for (const handler of this.handlers) handler(message);
    // Off the bus, a node knows only the peers it heard before, and none at all when it started without the bus:
    // some other node may hold what this one revokes, so it never reports every node confirmed.
    const mayMissPeers = !this.connected;
    const waitingFor = new Set(this.livePeers());
    const expected = waitingFor.size + 1;
    const id = randomUuid();
    let resolveDone!: () => void;
    const allConfirmed = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const pending: PendingPublish = { waitingFor, confirmed: 1, done: resolveDone };
    if (waitingFor.size === 0) resolveDone();
    this.pending.set(id, pending);
    // Sent even when no peer is known: a node that has just joined and not yet been heard must still forget.
    const raw = JSON.stringify({ type: 'invalidate', node: this.nodeId, id, scope: message.scope } satisfies Message);
    try {
      await this.transport.send(raw);
    } catch (error) {
      this.keepForResend(raw);
      this.options.onError?.(error, 'invalidation not sent; kept for resend on reconnect');
      resolveDone();
    }
    await Promise.race([allConfirmed, this.delay(this.options.confirmMs)]);
    this.pending.delete(id);
    return { confirmed: pending.confirmed, expected: mayMissPeers ? Math.max(expected, pending.confirmed + 1) : expected };
  }

  subscribe(handler: InvalidationHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  isConnected(): boolean {
    return this.connected;
  }

  onConnectionChange(listener: ConnectionListener): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  liveNodes(): number {
    return this.livePeers().length + 1;
  }

  /** One heartbeat: announce this node, forget silent peers, and notice a connection that stopped carrying messages. */
  tick(): void {
    const now = this.options.clock.now();
    // Silence means a peer is gone only while this node can hear: a node cut off keeps counting the
    // peers it knew, so that its revocations report them unconfirmed rather than 1/1.
    if (this.connected) for (const [node, heardAt] of this.peers) if (now - heardAt > this.expiryMs) this.peers.delete(node);
    if (this.transportUp && now - this.ownHeartbeatAt > this.expiryMs) this.setConnected(false);
    if (this.transportUp) this.sendQuietly({ type: 'heartbeat', node: this.nodeId });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    // Leaving tells the others not to wait for this node's confirmations any more.
    if (this.transportUp) {
      try {
        await this.transport.send(JSON.stringify({ type: 'leave', node: this.nodeId } satisfies Message));
      } catch {
        // The others will count this node gone after its heartbeats stop.
      }
    }
    for (const pending of this.pending.values()) pending.done();
    // Closing is not losing the bus: nobody is told the cache went untrusted.
    this.connectionListeners.clear();
    await this.transport.close();
    this.setConnected(false);
    this.handlers.clear();
  }

  private livePeers(): string[] {
    if (!this.connected) return [...this.peers.keys()];
    const now = this.options.clock.now();
    const live: string[] = [];
    for (const [node, heardAt] of this.peers) if (now - heardAt <= this.expiryMs) live.push(node);
    return live;
  }

  private receive(raw: string): void {
    let message: Message;
    try {
      message = messageSchema.parse(JSON.parse(raw));
    } catch (error) {
      this.options.onError?.(error, 'unreadable bus message ignored');
      return;
    }
    const now = this.options.clock.now();
    if (message.node === this.nodeId) {
      // Our own heartbeat came back: the connection carries messages both ways.
      if (message.type === 'heartbeat') {
        this.ownHeartbeatAt = now;
        if (this.transportUp) this.setConnected(true);
      }
      return;
    }
    if (message.type === 'leave') {
      this.peers.delete(message.node);
      this.stopWaitingFor(message.node);
      return;
    }
    this.peers.set(message.node, now);
    if (message.type === 'invalidate') {
      for (const handler of this.handlers) handler({ scope: message.scope });
      this.sendQuietly({ type: 'ack', node: this.nodeId, id: message.id, to: message.node });
    } else if (message.type === 'ack' && message.to === this.nodeId) {
      const pending = this.pending.get(message.id);
      if (pending !== undefined && pending.waitingFor.delete(message.node)) {
        pending.confirmed += 1;
        if (pending.waitingFor.size === 0) pending.done();
      }
    }
  }

  /** A node that left gracefully took its cache with it; a publish need not wait for it. */
  private stopWaitingFor(node: string): void {
    for (const pending of this.pending.values()) {
      if (pending.waitingFor.delete(node) && pending.waitingFor.size === 0) pending.done();
    }
  }

  private transportChanged(up: boolean): void {
    this.transportUp = up;
    if (!up) {
      this.setConnected(false);
      return;
    }
    // Connected once our own heartbeat comes back; send it now rather than at the next tick.
    this.sendQuietly({ type: 'heartbeat', node: this.nodeId });
    for (const raw of this.outbox.splice(0)) {
      this.transport.send(raw).catch((error: unknown) => {
        this.keepForResend(raw);
        this.options.onError?.(error, 'invalidation resend failed');
      });
    }
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    // Back on the bus: the peers known before get three heartbeats from now to be heard again.
    if (connected) {
      const now = this.options.clock.now();
      for (const node of this.peers.keys()) this.peers.set(node, now);
    }
    for (const listener of this.connectionListeners) listener(connected);
  }

  private keepForResend(raw: string): void {
    if (this.outbox.length < OUTBOX_LIMIT) this.outbox.push(raw);
  }

  private sendQuietly(message: Message): void {
    this.transport.send(JSON.stringify(message)).catch((error: unknown) => this.options.onError?.(error, `${message.type} not sent`));
  }
}
