/** The simulated SSF transmitter plays a real one: discoverable configuration, published keys, SETs they verify, rotation. */
import { expect } from 'chai';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startSsfTransmitter, type SsfTransmitter } from '../../src/host-simulator';
import { configurationUrl } from '../../src/signals/ssf-receiver/streams';

describe('simulated SSF transmitter', () => {
  let idp: SsfTransmitter;

  beforeEach(async () => {
    idp = await startSsfTransmitter({ algorithm: 'ES256' });
  });
  afterEach(async () => {
    await idp.close();
  });

  it('publishes its configuration where SSF 1.0 puts it for an issuer with a path, naming push delivery and its JWKS', async () => {
    const response = await fetch(configurationUrl(idp.issuer));
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({
      spec_version: '1_0',
      issuer: idp.issuer,
      jwks_uri: idp.jwksUri,
      delivery_methods_supported: ['urn:ietf:rfc:8935'],
    });
  });

  it('signs SETs typed secevent+jwt that its published keys verify, before and after a rotation', async () => {
    const keys = createRemoteJWKSet(new URL(idp.jwksUri), { cooldownDuration: 0 });
    const options = { audience: 'https://receiver.example.com', event: 'session-revoked', subject: { format: 'opaque', id: 'u1' } };
    const first = await idp.sign(options);
    expect(decodeProtectedHeader(first)).to.deep.equal({ alg: 'ES256', typ: 'secevent+jwt', kid: idp.kid });
    const { payload } = await jwtVerify(first, keys, { issuer: idp.issuer, audience: 'https://receiver.example.com' });
    expect(payload.events).to.deep.equal({ 'https://schemas.openid.net/secevent/caep/event-type/session-revoked': {} });
    expect(payload.sub_id).to.deep.equal({ format: 'opaque', id: 'u1' });
    const oldKid = idp.kid;
    await idp.rotateKey({ retire: true });
    expect(idp.kid).not.to.equal(oldKid);
    await jwtVerify(await idp.sign(options), keys);
    expect(idp.jwks().keys.map((key) => key.kid)).to.deep.equal([idp.kid]);
  });

  it('makes forgeries its keys do not verify', async () => {
    const keys = createRemoteJWKSet(new URL(idp.jwksUri));
    const forged = await idp.forge({ audience: 'a', event: 'account-disabled' });
    expect(decodeProtectedHeader(forged).kid).to.equal(idp.kid);
    let failed = false;
    await jwtVerify(forged, keys).catch(() => (failed = true));
    expect(failed).to.equal(true);
  });
});
