/**
 * Redis pub/sub as the cluster bus's transport. Two connections, as Redis requires:
 * one subscribed to the channel, one to publish. Both reconnect on their own; the
 * transport is up only while both are ready and the subscription is in place.
 */
import { Redis } from 'ioredis';
import type { Transport, TransportEvents } from './transport';

export interface RedisTransportOptions {
  url: string;
  channel: string;
  /** Connection errors while reconnecting; never carries a password (ioredis errors name host and port). */
  onError?: (error: unknown) => void;
}

/** Reconnect quickly at first, then every second: a node out of the bus serves without its cache. */
const retryStrategy = (attempt: number): number => Math.min(attempt * 100, 1_000);

export class RedisTransport implements Transport {
  private readonly subscriber: Redis;
  private readonly publisher: Redis;
  private subscribed = false;
  private publisherReady = false;
  private up = false;
  private events: TransportEvents | null = null;

  constructor(private readonly options: RedisTransportOptions) {
    const common = { lazyConnect: true, retryStrategy, connectTimeout: 2_000, maxRetriesPerRequest: 1 };
    // Resubscribing is done here, after each ready, so that "up" means the subscription is really back.
    this.subscriber = new Redis(options.url, { ...common, autoResubscribe: false });
    // No offline queue: a message that cannot go now fails now, and the bus keeps it for resending.
    this.publisher = new Redis(options.url, { ...common, enableOfflineQueue: false });
  }

  start(events: TransportEvents): void {
    this.events = events;
    const reportError = (error: unknown) => this.options.onError?.(error);
    this.subscriber.on('error', reportError);
    this.publisher.on('error', reportError);
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.options.channel) events.message(message);
    });
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(this.options.channel).then(
        () => {
          this.subscribed = true;
          this.report();
        },
        (error: unknown) => reportError(error),
      );
    });
    this.subscriber.on('close', () => {
      this.subscribed = false;
      this.report();
    });
    this.publisher.on('ready', () => {
      this.publisherReady = true;
      this.report();
    });
    this.publisher.on('close', () => {
      this.publisherReady = false;
      this.report();
    });
    // lazyConnect: connecting starts here; failures are retried by retryStrategy, not thrown.
    this.subscriber.connect().catch(reportError);
    this.publisher.connect().catch(reportError);
  }

  async send(raw: string): Promise<void> {
    await this.publisher.publish(this.options.channel, raw);
  }

  async close(): Promise<void> {
    this.events = null;
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }

  private report(): void {
    const up = this.subscribed && this.publisherReady;
    if (up === this.up) return;
    this.up = up;
    this.events?.connection(up);
  }
}
