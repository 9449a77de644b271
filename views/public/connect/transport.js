// @ts-check
/**
 * The Connect pages' way to the API: fetch on the app's own origin, with the page token the server wrote into the
 * page (or the successor an answer offered since) and a DPoP proof of the key this page made.
 */
import { createProver } from '../key-binding.js';
import { answerOf, failure } from '../page.js';
import { createTokenChain, NEXT_TOKEN_HEADER, PROOF_HEADER } from '../token-chain.js';

/** @typedef {import('../page.js').Api} Api */
/** @typedef {import('../token-chain.js').Prover} Prover */

/** Where the app serves the dpop module to its pages (src/app.ts). */
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

/** @returns {Api} */
export function connectApi() {
  // Same origin: the API's public base URL is this page's origin.
  const chain = createTokenChain(metaContent('page-token'), loadProver(), location.origin);
  return {
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
