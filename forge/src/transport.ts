/**
 * The Forge pages' way to the API: every call goes through Forge as invokeRemote (Forge adds the FIT), carrying
 * the page token that `POST /forge/sessions` minted for this page (or the successor an answer offered since) in
 * X-Page-Token, and a DPoP proof of the key this page made (docs/FORGE.md).
 *
 * invokeRemote, not requestRemote: both send a FIT and our headers, so requestRemote would also work, but only with
 * more around it. Forge does not proxy it: the request leaves the browser for PanelGuard directly, so the server
 * would have to allow it cross-origin (CORS, with a preflight for X-Page-Token), the manifest would have to grant the
 * remote as a client `fetch` permission, and this code would name the remote's key. invokeRemote reaches the remote
 * that the module's `resolver.endpoint` names, through Forge, with none of that.
 */
import { invokeRemote } from '@forge/bridge';
import * as dpop from 'dpop';
import { createProver } from '../../views/public/key-binding.js';
import { answerOf, failure, type Answer, type Api, type Method } from '../../views/public/page.js';
import { createTokenChain, NEXT_TOKEN_HEADER, PROOF_HEADER, type Prover, type TokenChain } from '../../views/public/token-chain.js';
import { pollLive } from './live';

type RemoteAnswer = Awaited<ReturnType<typeof invokeRemote>>;

/** A header of invokeRemote's answer, by any case; the bridge may still hand a repeated one as a list. */
function headerOf(headers: RemoteAnswer['headers'] | undefined, name: string): string | null {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() !== wanted) continue;
    return Array.isArray(value) ? value.join(',') : String(value);
  }
  return null;
}

/** Sends one call; `answered` sees every answer's headers before it becomes the page's Answer or Failure. */
async function send(method: Method, path: string, headers: Record<string, string>, body?: unknown, answered?: (header: (name: string) => string | null) => void): Promise<Answer> {
  let answer: RemoteAnswer | undefined;
  try {
    answer = await invokeRemote({ path, method, headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' }, body });
  } catch {
    // The bridge itself failed (no host, rate limit): the remote never answered.
    throw failure('network_error', 'The app could not be reached; try again.');
  }
  if (typeof answer?.status !== 'number') throw failure('internal_error', 'Forge answered without a status.');
  const header = (name: string) => headerOf(answer.headers, name);
  answered?.(header);
  return answerOf(answer.status, answer.body ?? null, header);
}

/** What `POST /forge/sessions` answers: the page token, and the app's public base URL, which proofs name. */
function sessionOf(body: unknown): { pageToken: string; apiBase: string } {
  if (typeof body === 'object' && body !== null && 'pageToken' in body && typeof body.pageToken === 'string' && 'apiBase' in body && typeof body.apiBase === 'string') {
    return { pageToken: body.pageToken, apiBase: body.apiBase };
  }
  throw failure('internal_error', 'The app started no session for this page.');
}

/**
 * The page's key, made once on load: the page cannot know whether its site binds tokens to keys, so it proves every
 * call. Where no key can be made (no WebCrypto), calls go without proofs.
 */
function loadProver(): Promise<Prover | null> {
  return createProver(dpop).catch((error: unknown) => {
    console.warn('PanelGuard: no key for this page; calls go without proofs', error);
    return null;
  });
}

/**
 * The page's Api. The page token is minted once, by the first call; a failed mint is tried again by the next. Its live
 * channel is a long poll through the same calls (./live.ts).
 */
export function forgeApi(): Api {
  const prover = loadProver();
  let session: Promise<TokenChain> | null = null;
  function chain(): Promise<TokenChain> {
    session ??= send('POST', '/forge/sessions', {})
      .then((answer) => {
        const { pageToken, apiBase } = sessionOf(answer.body);
        return createTokenChain(pageToken, prover, apiBase);
      })
      .catch((error: unknown) => {
        session = null;
        throw error;
      });
    return session;
  }
  const call: Api['call'] = async (method, path, body) => {
    const tokens = await chain();
    const { token, proof } = await tokens.credentialsFor(method, path);
    const headers: Record<string, string> = { 'X-Page-Token': token };
    if (proof !== null) headers[PROOF_HEADER] = proof;
    return send(method, path, headers, body, (header) => tokens.answered(token, header(NEXT_TOKEN_HEADER)));
  };
  return { call, live: (resource, ended) => pollLive(call, resource, ended) };
}
