// @ts-check
/**
 * The page's half of key-bound tokens: a key pair only this page can sign with, and a DPoP proof (RFC 9449) by it
 * for each call. Each front door hands in the `dpop` package its own way: Connect pages pass
 * `await import('/public/modules/dpop.js')` (routes/page-modules.ts), the Forge build bundles the npm import.
 */

/**
 * The part of the `dpop` package this module uses.
 * @typedef {{
 *   generateKeyPair(alg: 'ES256', options: { extractable: boolean }): Promise<CryptoKeyPair>,
 *   generateProof(keyPair: CryptoKeyPair, htu: string, htm: string, nonce?: string, accessToken?: string): Promise<string>,
 * }} Dpop
 */

/**
 * Signs proofs for one page. `proofFor` takes the call's method, its URL (absolute, or relative to the page) and
 * the page token it carries, and resolves with the value of its `DPoP` header.
 * @typedef {{ proofFor(method: string, url: string, accessToken: string): Promise<string> }} Prover
 */

/**
 * A prover with a fresh P-256 key pair, made once per page.
 * @param {Dpop} dpop @returns {Promise<Prover>}
 */
export async function createProver(dpop) {
  // Not extractable: script on the page can sign with the private key but never read it, so a token copied off the
  // page is useless anywhere else. (The public key stays exportable: every proof carries it.)
  const keyPair = await dpop.generateKeyPair('ES256', { extractable: false });
  return {
    proofFor(method, url, accessToken) {
      return dpop.generateProof(keyPair, proofTarget(url), method, undefined, accessToken);
    },
  };
}

/**
 * The URL as a proof names it (`htu`): absolute, without query or fragment, which RFC 9449 leaves out.
 * @param {string} url @returns {string}
 */
function proofTarget(url) {
  const target = new URL(url, globalThis.location?.href);
  target.search = '';
  target.hash = '';
  return target.href;
}
