/**
 * Seals the cluster bus: every message carries an HMAC under a key derived from the deployment's secret, a
 * send time and a nonce. A node drops, and counts, any message that does not verify, is older or newer than
 * SEAL_WINDOW_MS, or was seen before, so whoever can publish on the Redis channel or NOTIFY cannot fake an
 * acknowledgement, an invalidation or a heartbeat, nor replay a genuine one.
 */
import { createHmac, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Clock, EpochMs } from '../base/clock';
import { randomSecret } from '../tokens/random';
import type { Transport, TransportEvents } from './transport';

/** How far a message's send time may lie from the receiver's clock. Nodes' clocks must agree this closely. */
export const SEAL_WINDOW_MS = 30_000;
const VERSION = 'v1';
const KEY_SALT = 'panelguard/bus/v1';
/** Messages remembered to refuse a replay, at most; a bus carries a few per node per second. */
const SEEN_LIMIT = 100_000;

export type RejectedReason = 'malformed' | 'mac' | 'stale' | 'replayed';

export interface SealOptions {
  /** The deployment's secret (PAGE_TOKEN_SECRET): every node of a deployment has it. */
  secret: string;
  /** The bus channel: a key per channel, so two deployments sharing a server never accept each other's messages. */
  channel: string;
  clock: Clock;
  /** Called for every message dropped, with why. */
  onRejected?: (reason: RejectedReason) => void;
}

export function busKey(secret: string, channel: string): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', secret, KEY_SALT, channel, 32)));
}

export class SealedTransport implements Transport {
  private readonly key: KeyObject;
  /** MACs seen within the window, with when each may be forgotten. */
  private readonly seen = new Map<string, EpochMs>();

  constructor(
    private readonly inner: Transport,
    private readonly options: SealOptions,
  ) {
    this.key = busKey(options.secret, options.channel);
  }

  start(events: TransportEvents): void {
    this.inner.start({
      message: (raw) => {
        const opened = this.open(raw);
        if (opened !== null) events.message(opened);
      },
      connection: (up) => events.connection(up),
    });
  }

  send(raw: string): Promise<void> {
    return this.inner.send(this.seal(raw));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** `v1.<sent at>.<nonce>.<mac>.<message>`; the MAC covers everything but itself. */
  seal(message: string): string {
    const head = `${VERSION}.${this.options.clock.now()}.${randomSecret(9)}`;
    return `${head}.${this.mac(head, message)}.${message}`;
  }

  /** The message inside `sealed`, or null (reported) when it must be dropped. */
  open(sealed: string): string | null {
    const parts = /^v1\.([0-9]{1,16})\.([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{43})\./.exec(sealed);
    if (parts === null) return this.reject('malformed');
    const [prefix, sentAt, nonce, mac] = parts;
    const message = sealed.slice(prefix.length);
    const expected = Buffer.from(this.mac(`${VERSION}.${sentAt}.${nonce}`, message), 'base64url');
    if (!timingSafeEqual(Buffer.from(mac, 'base64url'), expected)) return this.reject('mac');
    const now = this.options.clock.now();
    if (Math.abs(now - Number(sentAt)) > SEAL_WINDOW_MS) return this.reject('stale');
    this.forgetOld(now);
    if (this.seen.has(mac)) return this.reject('replayed');
    if (this.seen.size >= SEEN_LIMIT) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(mac, Number(sentAt) + SEAL_WINDOW_MS);
    return message;
  }

  private mac(head: string, message: string): string {
    return createHmac('sha256', this.key).update(head).update('.').update(message).digest('base64url');
  }

  private reject(reason: RejectedReason): null {
    this.options.onRejected?.(reason);
    return null;
  }

  // Map order is arrival order, close to send-time order: stop at the first one still inside the window.
  private forgetOld(now: EpochMs): void {
    for (const [mac, until] of this.seen) {
      if (until >= now) break;
      this.seen.delete(mac);
    }
  }
}
