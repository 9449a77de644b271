// @ts-check
/**
 * The Connect pages' way to the API: fetch on the app's own origin, with the page token the server wrote into the
 * page (or the successor an answer offered since) and a DPoP proof of the key this page made.
 */
import { createProver } from '../key-binding.js';
import { answerOf, DENIED, failure } from '../page.js';
import { createTokenChain, NEXT_TOKEN_HEADER, PROOF_HEADER } from '../token-chain.js';

/** @typedef {import('../page.js').Api} Api */
/** @typedef {import('../token-chain.js').Prover} Prover */

/** Where the app serves the dpop module to its pages (src/app/app.ts). */
const DPOP_MODULE = '/public/modules/dpop.js';

/** The content of `<meta name="…">`, which the Connect page template always writes. @param {string} name */
export function metaContent(name) {
  const meta = document.querySelector(`meta[name="${name}"]`);
  if (!(meta instanceof HTMLMetaElement)) throw new Error(`the page has no meta ${name}`);
  return meta.content;
}

/**
 * The page's key, made once on load: the page cannot know whether its site binds tokens to keys, so it proves every
 * call. Where no key can be made (no WebCrypto, the module not served), calls go without proofs.
 * @returns {Promise<Prover | null>}
 */
function loadProver() {
  // A specifier in a variable: the type checker does not resolve it, the browser does.
  const specifier = DPOP_MODULE;
  return import(specifier)
    .then((/** @type {typeof import('dpop')} */ dpop) => createProver(dpop))
    .catch((/** @type {unknown} */ error) => {
      console.warn('PanelGuard: no key for this page; calls go without proofs', error);
      return null;
    });
}

/** Reconnect delays after a dropped or refused channel: doubling from one second, at most half a minute. */
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;
/** The server comments every 15 s; a stream silent for this long is taken for dropped. */
const SILENCE_MS = 45_000;

/**
 * The page's live channel (GET /api/live): a fetch whose body is read as server-sent events, so that the page token
 * travels in the Authorization header as on every call (EventSource could only put it in the URL). It opens with the
 * token the chain holds at that moment, and takes a successor its answer offers like any call's. Reconnects with
 * backoff when the stream drops; a refusal that is a verdict on the session ends the page; anything else (no channel
 * here, the node full) leaves the page as it was, calling as before.
 * @param {import('../token-chain.js').TokenChain} chain @param {string} resource @param {(failure: import('../page.js').Failure) => void} ended
 */
function holdLive(chain, resource, ended) {
  const path = `/api/live?resource=${encodeURIComponent(resource)}`;
  let delay = RETRY_MIN_MS;
  let over = false;
  /** @param {import('../page.js').Failure} why */
  const end = (why) => {
    over = true;
    ended(why);
  };
  const retry = () => {
    if (over) return;
    setTimeout(open, delay);
    delay = Math.min(delay * 2, RETRY_MAX_MS);
  };
  async function open() {
    const abort = new AbortController();
    let watchdog = setTimeout(() => abort.abort(), SILENCE_MS);
    const heard = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => abort.abort(), SILENCE_MS);
    };
    try {
      const { token, proof } = await chain.credentialsFor('GET', path);
      /** @type {Record<string, string>} */
      const headers = { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' };
      if (proof !== null) headers[PROOF_HEADER] = proof;
      const response = await fetch(path, { headers, signal: abort.signal, cache: 'no-store' });
      chain.answered(token, response.headers.get(NEXT_TOKEN_HEADER));
      if (response.status !== 200 || response.body === null) {
        const body = await response.json().catch(() => null);
        const refusal = body && body.error && typeof body.error.code === 'string' ? body.error : null;
        if (refusal && DENIED[refusal.code]) return end(failure(refusal.code, String(refusal.message)));
        return retry();
      }
      delay = RETRY_MIN_MS;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        heard();
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          if (!/^event: ended$/m.test(block)) continue;
          const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '{}');
          abort.abort();
          return end(failure(String(data.code), String(data.message)));
        }
      }
    } catch {
      // The network dropped, or the watchdog gave up on a silent stream: open again.
    } finally {
      clearTimeout(watchdog);
    }
    retry();
  }
  open();
}

/** @returns {Api} */
export function connectApi() {
  // Same origin: the API's public base URL is this page's origin.
  const chain = createTokenChain(metaContent('page-token'), loadProver(), location.origin);
  return {
    live: (resource, ended) => holdLive(chain, resource, ended),
    async call(method, path, body) {
      const { token, proof } = await chain.credentialsFor(method, path);
      /** @type {Record<string, string>} */
      const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
      if (proof !== null) headers[PROOF_HEADER] = proof;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      let response;
      try {
        response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      } catch {
        throw failure('network_error', 'The app could not be reached; try again.');
      }
      chain.answered(token, response.headers.get(NEXT_TOKEN_HEADER));
      const header = (/** @type {string} */ name) => response.headers.get(name);
      if (response.status === 204) return answerOf(204, null, header);
      let payload;
      try {
        payload = await response.json();
      } catch {
        throw failure('internal_error', `The app answered ${response.status} with something that is not JSON.`);
      }
      return answerOf(response.status, payload, header);
    },
  };
}
