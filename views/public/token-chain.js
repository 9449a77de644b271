// @ts-check
/**
 * A page's hold on its session, the same for both transports: the page token it sends now, the successor an answer
 * offers in its place (theft detection rotates tokens), and a DPoP proof of the page's key on every call.
 */

/** The header a guarded answer offers the session's next page token in (routes/guard.ts NEXT_TOKEN_HEADER). */
export const NEXT_TOKEN_HEADER = 'Page-Token-Next';
/** The header a call carries its proof of possession in (RFC 9449). */
export const PROOF_HEADER = 'DPoP';

/** Signs one call with the page's key. @typedef {import('./key-binding.js').Prover} Prover */

/** What one call sends: the token current when it left, and its proof (null when the page has no key). @typedef {{ token: string, proof: string | null }} Credentials */

/**
 * The URL a proof names (`htu`), as the server works it out: the API's public base URL and the call's path, without
 * its query or fragment.
 * @param {string} base @param {string} path
 */
export function proofUrl(base, path) {
  return base + path.split(/[?#]/, 1)[0];
}

/**
 * A session's chain of page tokens as one page holds it.
 *
 * A successor is taken only from the answer to a call that carried the token the page holds now. Concurrent calls
 * with one token may each be offered a successor, and a late answer may offer one after the page moved on; using
 * two successors of one token is what a stolen copy looks like, so the server would end the session everywhere.
 *
 * @param {string} first the page token the page was handed
 * @param {Promise<Prover | null>} prover the page's key; null where it could not make one (its calls then carry no proof)
 * @param {string} base the API's public base URL, for proofs
 */
export function createTokenChain(first, prover, base) {
  let current = first;
  return {
    /** @returns {string} */
    current: () => current,

    /**
     * The credentials for a call of `method` to `path`.
     * @param {string} method @param {string} path @returns {Promise<Credentials>}
     */
    async credentialsFor(method, path) {
      const key = await prover;
      // Read after the key is ready: an answer that came in meanwhile may have moved the chain on.
      const token = current;
      if (key === null) return { token, proof: null };
      // A proof that cannot be made leaves the call without one: a site that binds keys refuses it, any other serves it.
      const proof = await key.proofFor(method, proofUrl(base, path), token).catch(() => null);
      return { token, proof };
    },

    /**
     * The answer to a call sent with `sent` came back, offering `next` (its Page-Token-Next, or null). Answers
     * whatever the status: the guard offers a successor before the route behind it runs, and that route may refuse.
     * @param {string} sent @param {string | null} next
     */
    answered(sent, next) {
      if (next !== null && next !== '' && sent === current) current = next;
    },
  };
}

/** @typedef {ReturnType<typeof createTokenChain>} TokenChain */
