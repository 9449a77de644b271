/** A page's hold on its session (views/public/token-chain.js): which token it sends, when it takes a successor, what it proves. */
import { expect } from 'chai';
import { createTokenChain, proofUrl, type Prover } from '../../views/public/token-chain.js';

const BASE = 'https://panelguard.example';

/** A prover that signs nothing, noting what it was asked to sign. */
function recordingProver(): { prover: Prover; signed: [string, string, string][] } {
  const signed: [string, string, string][] = [];
  return {
    signed,
    prover: {
      async proofFor(method, url, accessToken) {
        signed.push([method, url, accessToken]);
        return `proof-${signed.length}`;
      },
    },
  };
}

describe("a page's token chain (views/public/token-chain.js)", () => {
  it('sends the token it was handed while no answer offers a successor', async () => {
    const chain = createTokenChain('t0', Promise.resolve(null), BASE);
    chain.answered('t0', null);
    chain.answered('t0', '');
    expect((await chain.credentialsFor('GET', '/api/me/sessions')).token).to.equal('t0');
  });

  it('takes the successor offered to a call it made with the token it holds, for every call after', async () => {
    const chain = createTokenChain('t0', Promise.resolve(null), BASE);
    const sent = await chain.credentialsFor('GET', '/api/me/sessions');
    chain.answered(sent.token, 't1');
    expect((await chain.credentialsFor('GET', '/api/me/sessions')).token).to.equal('t1');
    chain.answered('t1', 't2');
    expect(chain.current()).to.equal('t2');
  });

  it('ignores a successor offered to a call made with a token it has since replaced: two successors of one token look like a theft', async () => {
    const chain = createTokenChain('t0', Promise.resolve(null), BASE);
    const [first, second] = await Promise.all([chain.credentialsFor('GET', '/a'), chain.credentialsFor('GET', '/b')]);
    chain.answered(first.token, 't1-from-one-node');
    chain.answered(second.token, 't1-from-another');
    expect(chain.current()).to.equal('t1-from-one-node');
  });

  it('proves each call with the token it carries and the URL the server sees: the base and the path, without query or fragment', async () => {
    const { prover, signed } = recordingProver();
    const chain = createTokenChain('t0', Promise.resolve(prover), BASE);
    expect(await chain.credentialsFor('GET', '/api/admin/audit?kind=signal&limit=50')).to.deep.equal({ token: 't0', proof: 'proof-1' });
    chain.answered('t0', 't1');
    await chain.credentialsFor('DELETE', '/api/me/sessions/abc#x');
    expect(signed).to.deep.equal([
      ['GET', `${BASE}/api/admin/audit`, 't0'],
      ['DELETE', `${BASE}/api/me/sessions/abc`, 't1'],
    ]);
  });

  it('sends the call without a proof when the page has no key, or the proof cannot be made', async () => {
    const keyless = createTokenChain('t0', Promise.resolve(null), BASE);
    expect(await keyless.credentialsFor('GET', '/api/me/sessions')).to.deep.equal({ token: 't0', proof: null });
    const failing = createTokenChain('t0', Promise.resolve({ proofFor: () => Promise.reject(new Error('no crypto')) }), BASE);
    expect(await failing.credentialsFor('GET', '/api/me/sessions')).to.deep.equal({ token: 't0', proof: null });
  });

  it('names the URL as the guard works it out for the verifier (base URL and path, query dropped)', () => {
    expect(proofUrl(BASE, '/api/issues/10001/notes?x=1')).to.equal(`${BASE}/api/issues/10001/notes`);
    expect(proofUrl('http://localhost:3000', '/api/me/signals')).to.equal('http://localhost:3000/api/me/signals');
  });
});
