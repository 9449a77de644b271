/**
 * One RFC 8935 push: a signed SET POSTed to a receiver, and what its answer means for the SET. Delivered on any
 * 2xx (202 is what RFC 8935 answers); given up on when the receiver refuses the SET itself (400, with the RFC 8935
 * error body when it sends one) or says the request can never work; tried again on everything that may pass
 * (5xx, 429, timeouts, a lost connection, and 401 or 403, since the receiver may fix the credential it gave).
 */
import type { EpochMs } from '../../allowlist/types';
import { retryAfter } from './backoff';
import type { Receiver } from './outbox';

export type PushOutcome =
  | { kind: 'delivered' }
  /** `retryAt`: when the receiver asked to be tried again (Retry-After); null leaves it to the backoff. */
  | { kind: 'retry'; error: string; retryAt: EpochMs | null }
  | { kind: 'failed'; error: string };

export interface PushOptions {
  /** How long a push may take, answer included. */
  timeoutMs: number;
  now: () => EpochMs;
  /** Ends the push early (a stopping worker); its outcome is then of no interest. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** Statuses worth another try besides 5xx: a request timeout, too early, too many requests, and credentials the receiver may fix. */
const RETRIED = new Set([401, 403, 408, 425, 429]);

/** Receivers' own words kept in an error: enough to say why, never a flood into the store. */
const MAX_DESCRIPTION = 200;
const MAX_ERROR_BODY = 4096;

export async function pushSet(token: string, receiver: Receiver, options: PushOptions): Promise<PushOutcome> {
  const headers: Record<string, string> = { 'content-type': 'application/secevent+jwt', accept: 'application/json' };
  if (receiver.authorization !== null) headers.authorization = receiver.authorization;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(receiver.endpointUrl, {
      method: 'POST',
      headers,
      body: token,
      // A redirect is not followed: it would carry the SET and the receiver's credential somewhere nobody configured.
      redirect: 'manual',
      signal: options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]),
    });
  } catch (error) {
    return { kind: 'retry', error: timeout.aborted ? 'timeout' : `network: ${networkProblem(error)}`, retryAt: null };
  }
  const { status } = response;
  if (status >= 200 && status < 300) {
    discard(response);
    return { kind: 'delivered' };
  }
  if (status === 400) return { kind: 'failed', error: await rfc8935Error(response) };
  discard(response);
  if (status >= 500 || RETRIED.has(status)) {
    return { kind: 'retry', error: String(status), retryAt: retryAfter(response.headers.get('retry-after'), options.now()) };
  }
  return { kind: 'failed', error: String(status) };
}

/** `400 <err>: <description>` from RFC 8935's error body (`{"err", "description"}`), or `400` without one. */
async function rfc8935Error(response: Response): Promise<string> {
  let body: unknown;
  try {
    const text = await readCapped(response, MAX_ERROR_BODY);
    body = JSON.parse(text);
  } catch {
    return '400';
  }
  if (typeof body !== 'object' || body === null || !('err' in body) || typeof body.err !== 'string') return '400';
  const description = 'description' in body && typeof body.description === 'string' ? `: ${printable(body.description, MAX_DESCRIPTION)}` : '';
  return `400 ${printable(body.err, 64)}${description}`;
}

async function readCapped(response: Response, max: number): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new Error('error body too long');
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The answer's body is not read, but the connection is freed (without waiting on it). */
function discard(response: Response): void {
  response.body?.cancel().catch(() => undefined);
}

/** Text from a receiver, as it may be shown to an admin: no control characters, bounded. */
function printable(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** A connection failure's code (`ECONNREFUSED`, `ENOTFOUND`...), never a message that may quote a URL. */
function networkProblem(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string' ? cause.code : null;
  return code ?? 'connection failed';
}
