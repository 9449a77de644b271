/**
 * What Forge does with a Custom UI's `invokeRemote`: checks the request, sends it to the remote with
 * the FIT, and answers the bridge the way `@forge/bridge` expects, or fails with the documented message.
 */
import { z } from 'zod';
import { traceHeaders } from './delivery';

export const INVOKE_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;
/** UI modules' remote calls time out after 25 s. */
export const INVOKE_TIMEOUT_MS = 25_000;

/** `invokeRemote`'s argument, as `callBridge('invoke', …)` receives it. */
export const invokeRequestSchema = z.object({
  path: z.string().min(1),
  method: z.enum(INVOKE_METHODS),
  headers: z.record(z.string()).optional(),
  body: z.unknown().optional(),
  invokeType: z.string().optional(),
});
export type InvokeRequest = z.infer<typeof invokeRequestSchema>;

/** The remote's answer as the bridge hands it over; headers are lists, @forge/bridge joins them. */
export interface RemoteAnswer {
  status: number;
  headers: Record<string, string[]>;
  body?: unknown;
}

/** What the host's `callBridge('invoke', …)` resolves to: 2xx as a payload, other answers as an error. */
export type BridgeInvokeResult = { success: true; payload: RemoteAnswer } | { success: false; error: RemoteAnswer };

export type InvokeFailureCode = 'bad_request' | 'fit_rejected' | 'invalid_content_type' | 'invalid_json' | 'network_error' | 'timeout';

/** An invocation Forge rejects: `invokeRemote`'s promise rejects with this message. */
export class ForgeInvokeError extends Error {
  constructor(
    readonly code: InvokeFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'ForgeInvokeError';
  }
}

// Forge sets these itself; a caller's own values never reach the remote.
const RESERVED_HEADERS = new Set([
  'authorization',
  'x-forge-oauth-system',
  'x-forge-oauth-user',
  'x-b3-traceid',
  'x-b3-spanid',
  'content-type',
  'content-length',
  'host',
  'connection',
  'transfer-encoding',
]);

/** The path resolved against the remote's base URL by the URL Standard; it may not leave the remote's origin. */
export function remoteUrl(remoteBaseUrl: string, path: string): string {
  const base = new URL(remoteBaseUrl);
  const url = new URL(path, base);
  if (url.origin !== base.origin) throw new ForgeInvokeError('bad_request', `invokeRemote path ${path} leaves the remote ${base.origin}`);
  return url.toString();
}

export interface Invocation {
  url: string;
  request: InvokeRequest;
  fit: string;
  systemToken?: string;
  timeoutMs: number;
}

function answerHeaders(headers: Headers): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') out[name] = [value];
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
}

export async function invokeRemoteEndpoint(invocation: Invocation): Promise<BridgeInvokeResult> {
  const { request } = invocation;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name] = value;
  }
  Object.assign(headers, traceHeaders(), { authorization: `Bearer ${invocation.fit}` });
  if (invocation.systemToken !== undefined) headers['x-forge-oauth-system'] = invocation.systemToken;
  const sendsBody = request.body !== undefined && request.method !== 'GET';
  if (sendsBody) headers['content-type'] = 'application/json';

  let response: Response;
  let text: string;
  try {
    response = await fetch(invocation.url, {
      method: request.method,
      headers,
      body: sendsBody ? JSON.stringify(request.body) : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(invocation.timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      throw new ForgeInvokeError('timeout', `Remote invocation timed out after ${invocation.timeoutMs / 1000} seconds`);
    }
    throw new ForgeInvokeError('network_error', 'Invalid response from remote - remote network error');
  }

  const { status } = response;
  if (status === 401) throw new ForgeInvokeError('fit_rejected', 'Remote could not verify the Forge Invocation Token');
  const ok = status >= 200 && status <= 299;
  const contentType = response.headers.get('content-type');
  if (!ok && contentType !== null && !/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new ForgeInvokeError(
      'invalid_content_type',
      `Invalid response from remote - content-type header must be set to application/json and is currently: ${contentType}. Status: ${status}.`,
    );
  }
  let body: unknown;
  if (text !== '' || !ok) {
    try {
      body = JSON.parse(text);
    } catch {
      throw new ForgeInvokeError('invalid_json', `Invalid response from remote - cannot parse body as JSON. Status: ${status}.`);
    }
  }
  const answer: RemoteAnswer = { status, headers: answerHeaders(response.headers), ...(body === undefined ? {} : { body }) };
  return ok ? { success: true, payload: answer } : { success: false, error: answer };
}

/** What `@forge/bridge`'s `invokeRemote` resolves to for a bridge answer: the payload or error, list headers joined by commas. */
export function asBridgeResolves(result: BridgeInvokeResult): { status: number; headers: Record<string, string>; body?: unknown } {
  const answer = result.success ? result.payload : result.error;
  const headers = Object.fromEntries(Object.entries(answer.headers).map(([name, values]) => [name, values.join(',')]));
  return { status: answer.status, headers, ...(answer.body === undefined ? {} : { body: answer.body }) };
}
