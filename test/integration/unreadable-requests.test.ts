/** Requests the app cannot read are the caller's mistake: a 4xx in the API's error format, never a server failure. */
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { ALICE, startStack, type Stack } from './harness';

describe('requests the app cannot read', function () {
  let stack: Stack;
  let token: string;

  before(async () => {
    stack = await startStack();
    const panel = await stack.loadPanel(ALICE);
    token = panel.token as string;
  });
  after(async () => {
    await stack?.stop();
  });

  async function post(headers: Record<string, string>, body: string | Blob): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${stack.app.baseUrl}/api/issues/10001/notes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...headers },
      body,
    });
    return { status: response.status, body: await response.json() };
  }

  it('answers bad_request for a body in a Content-Encoding it does not support', async () => {
    const answer = await post({ 'content-type': 'application/json', 'content-encoding': 'br' }, '{"text":"hi"}');
    expect(answer).to.deep.equal({ status: 400, body: { error: { code: 'bad_request', message: "The body's Content-Encoding is not supported." } } });
  });

  it('answers bad_request for a gzip body that does not inflate', async () => {
    const answer = await post({ 'content-type': 'application/json', 'content-encoding': 'gzip' }, new Blob([Uint8Array.from(gzipSync('{"text":"hi"}').subarray(0, 12))]));
    expect(answer.status).to.equal(400);
    expect(answer.body).to.have.nested.property('error.code', 'bad_request');
  });

  it('answers bad_request for a charset it does not support', async () => {
    const answer = await post({ 'content-type': 'application/json; charset=latin1' }, '{"text":"hi"}');
    expect(answer).to.deep.equal({ status: 400, body: { error: { code: 'bad_request', message: "The body's charset is not supported." } } });
  });

  it('answers bad_request for a path parameter that does not percent-decode, without quoting it', async () => {
    const response = await fetch(`${stack.app.baseUrl}/api/issues/%E0%A4%A/notes`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).to.equal(400);
    expect(await response.json()).to.deep.equal({ error: { code: 'bad_request', message: 'The URL does not decode.' } });
  });

  it('refuses, as unverified, an install whose body holds a baseUrl that is not a string', async () => {
    const { sim } = stack;
    const response = await fetch(`${stack.app.baseUrl}/installed`, {
      method: 'POST',
      headers: { authorization: sim.serverAuthorization('POST', '/installed', 'asymmetric'), 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'panelguard', clientKey: sim.clientKey, baseUrl: 5 }),
    });
    expect(response.status).to.equal(401);
    expect(await response.json()).to.have.nested.property('error.code', 'token_invalid');
  });

  it('refuses a lifecycle call whose body holds a jwt of any kind beside the signed header: two Connect JWTs', async () => {
    const { sim } = stack;
    const payload = { key: 'panelguard', clientKey: sim.clientKey, baseUrl: sim.baseUrl };
    for (const [path, body] of [
      ['/installed', { ...payload, jwt: ' ' }],
      ['/uninstalled', { ...payload, jwt: 5 }],
    ] as const) {
      const response = await fetch(`${stack.app.baseUrl}${path}`, {
        method: 'POST',
        headers: { authorization: sim.serverAuthorization('POST', path, 'asymmetric'), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status, `${path} ${JSON.stringify(body)}`).to.equal(400);
      expect(await response.json()).to.have.nested.property('error.code', 'bad_request');
    }
  });
});
