/**
 * PostgreSQL LISTEN/NOTIFY as the cluster bus's transport. Notices are sent through
 * the store's own connection pool, after the revocation they announce has committed;
 * they are received on one dedicated connection that LISTENs, reconnecting after a loss.
 */
import { Client } from 'pg';
import type { Transport, TransportEvents } from './transport';

export interface PostgresTransportOptions {
  connectionString: string;
  channel: string;
  /** Sends one notice on the store's connection (`SELECT pg_notify(channel, payload)`). */
  notify(channel: string, payload: string): Promise<void>;
  onError?: (error: unknown) => void;
}

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 1_000;

export class PostgresTransport implements Transport {
  private listener: Client | null = null;
  private events: TransportEvents | null = null;
  private up = false;
  private closed = false;
  private retryMs = RECONNECT_MIN_MS;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: PostgresTransportOptions) {}

  start(events: TransportEvents): void {
    this.events = events;
    void this.connect();
  }

  async send(raw: string): Promise<void> {
    await this.options.notify(this.options.channel, raw);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.events = null;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    const listener = this.listener;
    this.listener = null;
    if (listener !== null) await listener.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new Client({ connectionString: this.options.connectionString, keepAlive: true, connectionTimeoutMillis: 2_000 });
    client.on('notification', (notice) => {
      if (notice.channel === this.options.channel && notice.payload !== undefined) this.events?.message(notice.payload);
    });
    client.on('error', (error) => {
      this.options.onError?.(error);
      this.lost(client);
    });
    client.on('end', () => this.lost(client));
    // The client in hand from now on; events of any earlier one are stale.
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(this.options.channel)}`);
    } catch (error) {
      this.options.onError?.(error);
      this.lost(client);
      return;
    }
    if (this.closed || this.listener !== client) {
      await client.end().catch(() => undefined);
      return;
    }
    this.retryMs = RECONNECT_MIN_MS;
    this.setUp(true);
  }

  private lost(client: Client): void {
    if (this.listener !== client) return;
    this.listener = null;
    this.setUp(false);
    client.end().catch(() => undefined);
    if (this.closed || this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
  }

  private setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    this.events?.connection(up);
  }
}
