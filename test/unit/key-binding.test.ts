import { expect } from 'chai';
import * as dpop from 'dpop';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { ManualClock } from '../../src/base/clock';
import { createProofVerifier } from '../../src/tokens/proof-of-possession';
import { createProver } from '../../views/public/key-binding.js';

const API = 'https://panelguard.example/api/issues/10001/notes';
const TOKEN = 'page-token-of-alice';

/** The dpop package as a page hands it in, noting the key pair it makes for the page. */
function watchedDpop() {
  const made: CryptoKeyPair[] = [];
  const module = {
    ...dpop,
    async generateKeyPair(...args: Parameters<typeof dpop.generateKeyPair>) {
      const keyPair = await dpop.generateKeyPair(...args);
      made.push(keyPair);
      return keyPair;
    },
  };
  return { module, made };
}

describe("the page's prover (views/public/key-binding.js)", () => {
  it('makes proofs the server verifies, signed by the key it made for the page', async () => {
    const { module, made } = watchedDpop();
    const prover = await createProver(module);
    const verifier = createProofVerifier({ clock: new ManualClock(Date.now()) });
    const result = await verifier.verify(await prover.proofFor('POST', API, TOKEN), { method: 'POST', url: API, accessToken: TOKEN });
    if (!result.ok) throw new Error(`refused: ${result.code}`);
    expect(result.value.thumbprint).to.equal(await calculateJwkThumbprint(await exportJWK(made[0].publicKey), 'sha256'));
  });

  it('names the URL without its query or fragment, as RFC 9449 asks', async () => {
    const prover = await createProver(dpop);
    const proof = await prover.proofFor('GET', `${API}?page=2#top`, TOKEN);
    const claims = JSON.parse(Buffer.from(proof.split('.')[1], 'base64url').toString('utf8'));
    expect(claims.htu).to.equal(API);
  });

  it('makes a key pair whose private key the page cannot export', async () => {
    const { module, made } = watchedDpop();
    await createProver(module);
    const refusal = await crypto.subtle.exportKey('jwk', made[0].privateKey).catch((error: unknown) => error);
    // Node 20 names it InvalidAccessException where the WebCrypto spec says InvalidAccessError: the type is what holds.
    expect(refusal).to.be.instanceOf(DOMException);
  });
});
