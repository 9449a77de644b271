/**
 * The Forge pages' way to the API: every call goes through Forge as invokeRemote (Forge adds the FIT), carrying
 * the page token that `POST /forge/sessions` minted for this page in X-Page-Token (docs/FORGE.md).
 *
 * invokeRemote, not requestRemote: both send a FIT and our headers, so requestRemote would also work, but only with
 * more around it. Forge does not proxy it: the request leaves the browser for PanelGuard directly, so the server
 * would have to allow it cross-origin (CORS, with a preflight for X-Page-Token), the manifest would have to grant the
 * remote as a client `fetch` permission, and this code would name the remote's key. invokeRemote reaches the remote
 * that the module's `resolver.endpoint` names, through Forge, with none of that.
 */
import { invokeRemote } from '@forge/bridge';
import { answerOf, failure, type Answer, type Api, type Method } from '../../views/public/page.js';

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

async function send(method: Method, path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
  let answer: RemoteAnswer | undefined;
  try {
    answer = await invokeRemote({ path, method, headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' }, body });
  } catch {
    // The bridge itself failed (no host, rate limit): the remote never answered.
    throw failure('network_error', 'The app could not be reached; try again.');
  }
  if (typeof answer?.status !== 'number') throw failure('internal_error', 'Forge answered without a status.');
  return answerOf(answer.status, answer.body ?? null, (name) => headerOf(answer.headers, name));
}

function pageTokenOf(body: unknown): string {
  if (typeof body === 'object' && body !== null && 'pageToken' in body && typeof body.pageToken === 'string') return body.pageToken;
  throw failure('internal_error', 'The app started no session for this page.');
}

/** The page's Api. The page token is minted once, by the first call; a failed mint is tried again by the next. */
export function forgeApi(): Api {
  let session: Promise<string> | null = null;
  function pageToken(): Promise<string> {
    session ??= send('POST', '/forge/sessions', {})
      .then((answer) => pageTokenOf(answer.body))
      .catch((error: unknown) => {
        session = null;
        throw error;
      });
    return session;
  }
  return {
    async call(method, path, body) {
      return send(method, path, { 'X-Page-Token': await pageToken() }, body);
    },
  };
}
