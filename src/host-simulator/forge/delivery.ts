/**
 * How Forge delivers a trigger to a remote endpoint: POST, JSON body `{ payload }`, a fresh FIT per
 * attempt, a timeout, and retries on anything but a 2xx, each carrying `payload.retryContext`.
 */
import { randomHex } from '../../tokens/random';

/** Why the previous attempt failed, as `retryContext.retryReason` names it. */
export type RetryReason = 'INVALID_REMOTE_INVOCATION_ERROR' | 'TIMEOUT_ERROR' | 'INVALID_FORGE_INVOCATION_TOKEN';

export interface RetryContext {
  retryData: null;
  retryCount: number;
  retryReason: RetryReason;
}

export interface DeliveryPolicy {
  timeoutMs: number;
  /** Retries after the first attempt. */
  maxRetries: number;
  retryDelayMs: number;
}

/** Product and lifecycle events: 5 s, then up to 4 retries 60 s apart. */
export const EVENT_POLICY: DeliveryPolicy = { timeoutMs: 5_000, maxRetries: 4, retryDelayMs: 60_000 };
/** preUninstall: 55 s, one attempt; uninstalling goes on whatever the remote answers. */
export const PRE_UNINSTALL_POLICY: DeliveryPolicy = { timeoutMs: 55_000, maxRetries: 0, retryDelayMs: 0 };

export interface DeliveryAttempt {
  /** 0 for the first attempt; the retryContext's retryCount after that. */
  retryCount: number;
  /** The remote's status, or null when it timed out or could not be reached. */
  status: number | null;
  /** Why this attempt failed; undefined when it succeeded. */
  failure?: RetryReason;
  /** The FIT this attempt carried. */
  fit: string;
}

/** One event's delivery to one endpoint, all attempts included. */
export interface Delivery {
  event: string;
  endpoint: string;
  url: string;
  delivered: boolean;
  /** The last attempt's status. */
  status: number | null;
  attempts: DeliveryAttempt[];
}

export interface DeliveryTarget {
  event: string;
  endpoint: string;
  url: string;
  /** A fresh FIT for each attempt. */
  fit: () => string;
  /** The `x-forge-oauth-system` token, when the endpoint asks for one. */
  systemToken?: () => string;
}

/** The B3 trace headers Forge puts on every remote call. */
export function traceHeaders(): Record<string, string> {
  return { 'x-b3-traceid': randomHex(16), 'x-b3-spanid': randomHex(8) };
}

function failureOf(status: number | null, timedOut: boolean): RetryReason | undefined {
  if (timedOut) return 'TIMEOUT_ERROR';
  if (status === 401) return 'INVALID_FORGE_INVOCATION_TOKEN';
  if (status === null || status < 200 || status > 299) return 'INVALID_REMOTE_INVOCATION_ERROR';
  return undefined;
}

async function attempt(target: DeliveryTarget, body: object, policy: DeliveryPolicy): Promise<{ status: number | null; timedOut: boolean; fit: string }> {
  const fit = target.fit();
  const headers: Record<string, string> = {
    ...traceHeaders(),
    'content-type': 'application/json',
    authorization: `Bearer ${fit}`,
    ...(target.systemToken === undefined ? {} : { 'x-forge-oauth-system': target.systemToken() }),
  };
  try {
    const response = await fetch(target.url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(policy.timeoutMs),
    });
    // read the answer within the same deadline: a remote that sends headers and then stalls has not answered
    await response.arrayBuffer();
    return { status: response.status, timedOut: false, fit };
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
    return { status: null, timedOut, fit };
  }
}

/**
 * Delivers `payload` until the remote answers 2xx or the retries run out. `sleep` waits between
 * attempts (tests pass one that does not wait); answers every attempt made.
 */
export async function deliver(
  target: DeliveryTarget,
  payload: object,
  policy: DeliveryPolicy,
  sleep: (ms: number) => Promise<void>,
): Promise<Delivery> {
  const attempts: DeliveryAttempt[] = [];
  let retryContext: RetryContext | undefined;
  for (let retryCount = 0; retryCount <= policy.maxRetries; retryCount += 1) {
    if (retryContext !== undefined) await sleep(policy.retryDelayMs);
    const body = { payload: retryContext === undefined ? payload : { ...payload, retryContext } };
    const { status, timedOut, fit } = await attempt(target, body, policy);
    const failure = failureOf(status, timedOut);
    attempts.push({ retryCount, status, fit, ...(failure === undefined ? {} : { failure }) });
    if (failure === undefined) break;
    retryContext = { retryData: null, retryCount: retryCount + 1, retryReason: failure };
  }
  const last = attempts[attempts.length - 1];
  return { event: target.event, endpoint: target.endpoint, url: target.url, delivered: last.failure === undefined, status: last.status, attempts };
}
