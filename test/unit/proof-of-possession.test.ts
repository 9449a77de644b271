import { expect } from 'chai';
import { generateKeyPair, generateProof, type KeyPair } from 'dpop';
import { calculateJwkThumbprint, exportJWK, generateKeyPair as generateJoseKeyPair, SignJWT, type JWTPayload, type KeyLike } from 'jose';
import { createHash } from 'node:crypto';
import { ManualClock } from '../../src/base/clock';
import type { Result } from '../../src/base/result';
import { createProofVerifier, MAX_PROOF_LENGTH, type ProofFailure, type ProofRequest, type VerifiedProof } from '../../src/tokens/proof-of-possession';

const API = 'https://panelguard.example/api/issues/10001/notes';
const TOKEN = 'page-token-of-alice';

/** The call a test presents its proof with: a GET of the notes with Alice's page token, unless it says otherwise. */
function call(differences: Partial<ProofRequest> = {}): ProofRequest {
  return { method: 'GET', url: API, accessToken: TOKEN, ...differences };
}

/** A clock at the wall clock's time: the dpop package dates its proofs by Date.now(), not by an injected clock. */
function clockNow(): ManualClock {
  return new ManualClock(Date.now());
}

/** A proof as a page makes it, with the dpop package and a key it cannot export. */
async function pageProof(keyPair: KeyPair, method = 'GET', url = API, accessToken = TOKEN): Promise<string> {
  return generateProof(keyPair, url, method, undefined, accessToken);
}

function accepted(result: Result<VerifiedProof, ProofFailure>): VerifiedProof {
  if (!result.ok) throw new Error(`refused: ${result.code}`);
  return result.value;
}

function ath(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A proof the dpop package would not make (a chosen jti or iat, another typ or alg, a leaked key): built with jose
 * from a correct proof's header and claims, with the test's changes on top, as an attacker's own client could.
 */
async function forgedProof(
  clock: ManualClock,
  keyPair: KeyPair,
  changes: { header?: Record<string, unknown>; claims?: JWTPayload; signWith?: KeyLike | Uint8Array } = {},
): Promise<string> {
  const header = { alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keyPair.publicKey), ...changes.header };
  const claims = { htm: 'GET', htu: API, iat: Math.floor(clock.now() / 1000), jti: 'jti-of-a-forged-proof-1', ath: ath(TOKEN), ...changes.claims };
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(changes.signWith ?? keyPair.privateKey);
}

describe('proof-of-possession verifier', () => {
  let keyPair: KeyPair;

  before(async () => {
    keyPair = await generateKeyPair('ES256');
  });

  it("accepts a page's proof and answers the thumbprint of the key that signed it", async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock });
    const proof = accepted(await verifier.verify(await pageProof(keyPair), call()));
    expect(proof.thumbprint).to.equal(await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256'));
  });

  it('answers the same thumbprint for every proof by one key', async () => {
    const verifier = createProofVerifier({ clock: clockNow() });
    const first = accepted(await verifier.verify(await pageProof(keyPair), call()));
    const second = accepted(await verifier.verify(await pageProof(keyPair), call()));
    expect(second.thumbprint).to.equal(first.thumbprint);
  });

  it('refuses a call without a proof as proof_missing', async () => {
    const verifier = createProofVerifier({ clock: clockNow() });
    for (const absent of [undefined, null, '']) {
      expect(await verifier.verify(absent, call())).to.deep.equal({ ok: false, code: 'proof_missing' });
    }
  });

  it('refuses anything that is not a compact JWS with a JSON header as proof_malformed', async () => {
    const verifier = createProofVerifier({ clock: clockNow() });
    const notJws = ['proof', 'a.b', 'a.b.c.d', '!!!.e30.c2ln', `${Buffer.from('not json').toString('base64url')}.e30.c2ln`, `${base64url([1])}.e30.c2ln`];
    for (const proof of notJws) {
      expect(await verifier.verify(proof, call()), proof).to.deep.equal({ ok: false, code: 'proof_malformed' });
    }
  });

  it(`refuses a proof longer than ${MAX_PROOF_LENGTH} characters unread, however well signed`, async () => {
    const verifier = createProofVerifier({ clock: clockNow() });
    const padded = await generateProof(keyPair, API, 'GET', undefined, TOKEN, { pad: 'x'.repeat(MAX_PROOF_LENGTH) });
    expect(await verifier.verify(padded, call())).to.deep.equal({ ok: false, code: 'proof_malformed' });
  });

  it('refuses a JWT of another type than dpop+jwt as proof_invalid', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock });
    const proof = await forgedProof(clock, keyPair, { header: { typ: 'JWT' } });
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_invalid' });
  });

  it('refuses an unsigned proof (alg none) as proof_invalid', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock });
    const header = { alg: 'none', typ: 'dpop+jwt', jwk: await exportJWK(keyPair.publicKey) };
    const claims = { htm: 'GET', htu: API, iat: Math.floor(clock.now() / 1000), jti: 'jti-of-an-unsigned-proof', ath: ath(TOKEN) };
    expect(await verifier.verify(`${base64url(header)}.${base64url(claims)}.`, call())).to.deep.equal({ ok: false, code: 'proof_invalid' });
  });

  it('refuses a proof signed with HS256, using the public key as a shared secret, as proof_invalid', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock });
    const publicJwk = await exportJWK(keyPair.publicKey);
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const proof = await forgedProof(clock, keyPair, { header: { alg: 'HS256' }, signWith: secret });
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_invalid' });
  });

  it('refuses a proof signed with RS256 by the RSA key it names as proof_invalid', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock });
    const rsa = await generateKeyPair('RS256');
    const proof = await forgedProof(clock, rsa, { header: { alg: 'RS256' } });
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_invalid' });
  });

  it('refuses a proof whose header carries a private key as proof_invalid', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock });
    const leaked = await generateJoseKeyPair('ES256', { extractable: true });
    const proof = await forgedProof(clock, keyPair, { header: { jwk: await exportJWK(leaked.privateKey) }, signWith: leaked.privateKey });
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_invalid' });
  });

  it('refuses a proof signed by another key than the one it names as proof_invalid', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock });
    const other = await generateKeyPair('ES256');
    const proof = await forgedProof(clock, keyPair, { signWith: other.privateKey });
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_invalid' });
  });

  it('refuses a proof that names no point on the curve as proof_invalid', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock });
    const jwk = await exportJWK(keyPair.publicKey);
    const offCurve = { ...jwk, y: Buffer.alloc(32, 7).toString('base64url') };
    const proof = await forgedProof(clock, keyPair, { header: { jwk: offCurve } });
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_invalid' });
  });

  it('refuses a proof made for another method as proof_mismatch', async () => {
    const verifier = createProofVerifier({ clock: clockNow() });
    expect(await verifier.verify(await pageProof(keyPair, 'POST'), call())).to.deep.equal({ ok: false, code: 'proof_mismatch' });
  });

  it('compares the method case-sensitively', async () => {
    const verifier = createProofVerifier({ clock: clockNow() });
    expect(await verifier.verify(await pageProof(keyPair, 'get'), call())).to.deep.equal({ ok: false, code: 'proof_mismatch' });
  });

  it('refuses a proof made for another path as proof_mismatch', async () => {
    const verifier = createProofVerifier({ clock: clockNow() });
    const proof = await pageProof(keyPair, 'GET', 'https://panelguard.example/api/issues/10002/notes');
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_mismatch' });
  });

  it('refuses a proof made for another host as proof_mismatch', async () => {
    const verifier = createProofVerifier({ clock: clockNow() });
    const proof = await pageProof(keyPair, 'GET', 'https://elsewhere.example/api/issues/10001/notes');
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_mismatch' });
  });

  it('refuses a proof whose htu is no URL as proof_mismatch', async () => {
    const verifier = createProofVerifier({ clock: clockNow() });
    const proof = await pageProof(keyPair, 'GET', '/api/issues/10001/notes');
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_mismatch' });
  });

  it('compares URLs without their query or fragment', async () => {
    const verifier = createProofVerifier({ clock: clockNow() });
    const proof = await pageProof(keyPair, 'GET', `${API}?page=2#top`);
    expect((await verifier.verify(proof, call({ url: `${API}?page=3` }))).ok).to.equal(true);
  });

  it('compares URLs as the WHATWG parser reads them: scheme and host in any case, the default port spelled out or not', async () => {
    const verifier = createProofVerifier({ clock: clockNow() });
    const proof = await pageProof(keyPair, 'GET', 'HTTPS://PanelGuard.Example:443/api/issues/10001/./notes');
    expect((await verifier.verify(proof, call())).ok).to.equal(true);
  });

  it('refuses a proof made for another page token as proof_mismatch', async () => {
    const verifier = createProofVerifier({ clock: clockNow() });
    const proof = await pageProof(keyPair, 'GET', API, 'page-token-of-mallory');
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_mismatch' });
  });

  it('refuses a proof that names no page token as proof_invalid', async () => {
    const verifier = createProofVerifier({ clock: clockNow() });
    const proof = await generateProof(keyPair, API, 'GET');
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_invalid' });
  });

  it('refuses a proof issued longer ago than maxAgeSeconds as proof_stale', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock, maxAgeSeconds: 60 });
    const proof = await pageProof(keyPair);
    clock.advance(120_000);
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_stale' });
  });

  it('refuses a proof dated further ahead than maxFutureSeconds as proof_stale', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock, maxFutureSeconds: 5 });
    const proof = await pageProof(keyPair);
    clock.advance(-10_000);
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_stale' });
  });

  it('refuses a proof past an exp of its own as proof_stale', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock });
    const proof = await forgedProof(clock, keyPair, { claims: { exp: Math.floor(clock.now() / 1000) - 1 } });
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_stale' });
  });

  it('accepts a proof dated at either edge of the window', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 23, 12));
    const verifier = createProofVerifier({ clock, maxAgeSeconds: 60, maxFutureSeconds: 5 });
    const seconds = clock.now() / 1000;
    const oldest = await forgedProof(clock, keyPair, { claims: { iat: seconds - 60, jti: 'jti-dated-oldest-allowed' } });
    const newest = await forgedProof(clock, keyPair, { claims: { iat: seconds + 5, jti: 'jti-dated-newest-allowed' } });
    expect((await verifier.verify(oldest, call())).ok).to.equal(true);
    expect((await verifier.verify(newest, call())).ok).to.equal(true);
  });

  it('refuses a jti of fewer than 16 characters as proof_invalid', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock });
    const proof = await forgedProof(clock, keyPair, { claims: { jti: 'short-jti' } });
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_invalid' });
  });

  it('refuses a proof presented a second time as proof_replayed', async () => {
    const verifier = createProofVerifier({ clock: clockNow() });
    const proof = await pageProof(keyPair);
    expect((await verifier.verify(proof, call())).ok).to.equal(true);
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_replayed' });
  });

  it('refuses a second proof with the jti of one accepted in the window, freshly signed or not, as proof_replayed', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock });
    expect((await verifier.verify(await forgedProof(clock, keyPair, { claims: { jti: 'jti-used-twice-000' } }), call())).ok).to.equal(true);
    clock.advance(30_000);
    const again = await forgedProof(clock, keyPair, { claims: { jti: 'jti-used-twice-000' } });
    expect(await verifier.verify(again, call())).to.deep.equal({ ok: false, code: 'proof_replayed' });
  });

  it('lets one of two racing calls with the same proof through', async () => {
    const verifier = createProofVerifier({ clock: clockNow() });
    const proof = await pageProof(keyPair);
    const results = await Promise.all([verifier.verify(proof, call()), verifier.verify(proof, call())]);
    expect(results.map((result) => result.ok).sort()).to.deep.equal([false, true]);
  });

  it('still refuses the jti at the last moment a proof dated ahead with it would be fresh', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 23, 12));
    const verifier = createProofVerifier({ clock, maxAgeSeconds: 60, maxFutureSeconds: 5 });
    const ahead = Math.floor(clock.now() / 1000) + 5;
    const proof = await forgedProof(clock, keyPair, { claims: { iat: ahead, jti: 'jti-dated-ahead-000' } });
    expect((await verifier.verify(proof, call())).ok).to.equal(true);
    clock.advance(65_000);
    expect(await verifier.verify(proof, call())).to.deep.equal({ ok: false, code: 'proof_replayed' });
  });

  it('accepts a jti again once no proof carrying it could be fresh', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock, maxAgeSeconds: 60, maxFutureSeconds: 5 });
    expect((await verifier.verify(await forgedProof(clock, keyPair, { claims: { jti: 'jti-used-twice-001' } }), call())).ok).to.equal(true);
    clock.advance(65_001);
    const later = await forgedProof(clock, keyPair, { claims: { jti: 'jti-used-twice-001' } });
    expect((await verifier.verify(later, call())).ok).to.equal(true);
  });

  it('remembers no more jtis than rememberJtis, however many proofs it accepts', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock, rememberJtis: 3 });
    for (let i = 0; i < 10; i++) {
      expect((await verifier.verify(await pageProof(keyPair), call())).ok).to.equal(true);
      expect(verifier.held()).to.be.at.most(3);
    }
    expect(verifier.held()).to.equal(3);
  });

  it('forgets the oldest jti first when full, so that proof alone could be replayed while fresh', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock, rememberJtis: 3 });
    const proofs = [await pageProof(keyPair), await pageProof(keyPair), await pageProof(keyPair), await pageProof(keyPair)];
    for (const proof of proofs) expect((await verifier.verify(proof, call())).ok).to.equal(true);
    expect(await verifier.verify(proofs[1], call())).to.deep.equal({ ok: false, code: 'proof_replayed' });
    expect((await verifier.verify(proofs[0], call())).ok).to.equal(true);
  });

  it('drops expired jtis before forgetting any that could still be replayed', async () => {
    const clock = clockNow();
    const verifier = createProofVerifier({ clock, rememberJtis: 3, maxAgeSeconds: 60, maxFutureSeconds: 5 });
    for (let i = 0; i < 3; i++) await verifier.verify(await pageProof(keyPair), call());
    clock.advance(65_001);
    const fresh = await forgedProof(clock, keyPair, { claims: { jti: 'jti-after-expiry-00' } });
    expect((await verifier.verify(fresh, call())).ok).to.equal(true);
    expect(verifier.held()).to.equal(1);
  });
});
