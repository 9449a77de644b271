/**
 * Shared Signals over real HTTP: a simulated identity provider pushes Security Event Tokens (RFC 8935) to
 * PanelGuard's /ssf/events, for a stream the site's operator configured through the admin API. Each event type
 * has its effect on the site's users; forged, unsigned, misaddressed and replayed SETs get their RFC 8935 code and
 * change nothing; the transmitter's key rotation is picked up; subjects map by email through the host, or by
 * account id.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { startSsfTransmitter, type EventName, type PushAnswer, type SetOptions, type SsfTransmitter, type SubjectFormat } from '../../src/host-simulator';
import { ALICE, BOB, ISSUE, startStack, type Stack } from './harness';

const OPERATOR_SECRET = randomBytes(24).toString('base64url');

interface StreamJson {
  id: string;
  issuer: string;
  audience: string;
  subjects: 'email' | 'account_id';
  createdAt: number;
  verifiedAt: number | null;
  delivery: { method: string; endpoint_url: string };
}

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

describe('Shared Signals receiver (RFC 8935 push)', function () {
  this.timeout(60_000);
  let stack: Stack;
  let idp: SsfTransmitter;

  /** A stack whose operator token acts on its site, and a transmitter; the JWKS cooldown as `cooldownSeconds` says. */
  async function start(cooldownSeconds = '0', algorithm: 'ES256' | 'RS256' = 'ES256'): Promise<void> {
    const clientKey = `site-${randomBytes(6).toString('hex')}`;
    stack = await startStack({ clientKey, env: { OPERATOR_TOKEN: `${clientKey}:${OPERATOR_SECRET}`, SSF_JWKS_COOLDOWN_SECONDS: cooldownSeconds } });
    idp = await startSsfTransmitter({ algorithm });
  }

  afterEach(async () => {
    await idp?.close();
    await stack?.stop();
  });

  async function admin(method: string, path: string, body?: unknown, bearer: string | null = OPERATOR_SECRET): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${stack.app.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Answer['body']) };
  }

  async function addStream(request: Record<string, unknown> = {}): Promise<StreamJson> {
    const answer = await admin('POST', '/api/admin/ssf/streams', { issuer: idp.issuer, subjects: 'email', ...request });
    if (answer.status !== 201) throw new Error(`stream not added: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body.stream as StreamJson;
  }

  function endpoint(): string {
    return `${stack.app.baseUrl}/ssf/events`;
  }

  /** Pushes a SET about `accountId` to the stream, its subject in `format`. */
  async function send(stream: StreamJson, event: EventName | string, accountId = ALICE, format: SubjectFormat = 'email', more: Partial<SetOptions> = {}): Promise<PushAnswer> {
    const user = stack.sim.directory.get(accountId);
    if (user === undefined) throw new Error(`no user ${accountId}`);
    return idp.send(endpoint(), { audience: stream.audience, event, subject: idp.subjectOf(user, format), ...more });
  }

  async function session(accountId = ALICE): Promise<string> {
    const panel = await stack.loadPanel(accountId);
    if (panel.token === null) throw new Error(`no page token for ${accountId}: ${panel.status}`);
    return panel.token;
  }

  async function statusOf(token: string): Promise<number> {
    return (await stack.api(token, 'GET', ISSUE.issueId)).status;
  }

  async function metrics(): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const line of (await (await fetch(`${stack.app.baseUrl}/metrics`)).text()).split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const at = line.lastIndexOf(' ');
      found.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
    return found;
  }

  describe('streams (admin API)', () => {
    beforeEach(() => start());

    it('adds a stream once the transmitter\'s configuration checks out, with an audience naming the stream and where to push', async () => {
      const stream = await addStream({ subjects: 'account_id' });
      expect(stream).to.include({ issuer: idp.issuer, subjects: 'account_id', verifiedAt: null });
      expect(stream.audience).to.equal(`${stack.app.baseUrl}/ssf/receiver/streams/${stream.id}`);
      expect(stream.delivery).to.deep.equal({ method: 'urn:ietf:rfc:8935', endpoint_url: endpoint() });
      expect(idp.fetches.configuration).to.equal(1);
      expect((await admin('GET', '/api/admin/ssf/streams')).body.streams).to.deep.equal([stream]);
      const audit = await admin('GET', '/api/admin/audit?kind=ssf');
      expect((audit.body.records as Record<string, unknown>[])[0]).to.include({ actor: 'operator', reason: 'ssf_stream_added', resource: `ssf:${idp.issuer}` });
    });

    it('takes an audience of the admin\'s choosing, and refuses the same issuer and audience twice (409)', async () => {
      const stream = await addStream({ audience: 'urn:panelguard:acme' });
      expect(stream.audience).to.equal('urn:panelguard:acme');
      const again = await admin('POST', '/api/admin/ssf/streams', { issuer: idp.issuer, audience: 'urn:panelguard:acme', subjects: 'email' });
      expect(again.status).to.equal(409);
      expect(again.body.error?.code).to.equal('conflict');
    });

    it('refuses an issuer that is not a plain URL, a transmitter that cannot be reached, or one whose configuration names another issuer', async () => {
      for (const issuer of ['not a url', `${idp.issuer}?tenant=1`, 'ftp://idp.example.com']) {
        const answer = await admin('POST', '/api/admin/ssf/streams', { issuer, subjects: 'email' });
        expect(answer.status, issuer).to.equal(400);
        expect(answer.body.error?.message).to.match(/^issuer: /);
      }
      const unreachable = await admin('POST', '/api/admin/ssf/streams', { issuer: 'http://127.0.0.1:9/idp', subjects: 'email' });
      expect(unreachable.status).to.equal(400);
      expect(unreachable.body.error?.message).to.match(/could not be fetched/);
      // The configuration is served for ${origin}/idp; asked about ${origin}/idp/, it names the issuer without the slash.
      const other = await admin('POST', '/api/admin/ssf/streams', { issuer: `${idp.issuer}/`, subjects: 'email' });
      expect(other.status).to.equal(400);
      expect(other.body.error?.message).to.match(/names another issuer/);
      expect((await admin('GET', '/api/admin/ssf/streams')).body.streams).to.deep.equal([]);
    });

    it('refuses unknown fields and mappings', async () => {
      expect((await admin('POST', '/api/admin/ssf/streams', { issuer: idp.issuer, subjects: 'phone' })).status).to.equal(400);
      expect((await admin('POST', '/api/admin/ssf/streams', { issuer: idp.issuer, subjects: 'email', jwks_uri: 'https://evil.example.com' })).status).to.equal(400);
    });

    it('deletes a stream (204), after which its SETs are refused; an unknown id is 404', async () => {
      const stream = await addStream();
      expect((await admin('DELETE', `/api/admin/ssf/streams/${stream.id}`)).status).to.equal(204);
      expect((await admin('DELETE', `/api/admin/ssf/streams/${stream.id}`)).status).to.equal(404);
      const refused = await send(stream, 'session-revoked');
      expect([refused.status, refused.body?.err]).to.deep.equal([400, 'invalid_issuer']);
    });

    it('answers 401 without credentials and 403 to a page token that is not the admin page\'s', async () => {
      expect((await admin('GET', '/api/admin/ssf/streams', undefined, null)).status).to.equal(401);
      const panel = await session(BOB);
      const answer = await admin('POST', '/api/admin/ssf/streams', { issuer: idp.issuer, subjects: 'email' }, panel);
      expect(answer.status).to.equal(403);
      expect(answer.body.error?.code).to.equal('forbidden');
    });
  });

  describe('events', () => {
    beforeEach(() => start());

    for (const event of ['session-revoked', 'credential-change', 'sessions-revoked', 'credential-compromise'] as const) {
      it(`${event}: ends every session of the user, and only theirs; a new page works`, async () => {
        const stream = await addStream();
        const [alice, bob] = [await session(ALICE), await session(BOB)];
        const answer = await send(stream, event);
        expect(answer.status).to.equal(202);
        expect(await statusOf(alice)).to.equal(401);
        expect(await statusOf(bob)).to.equal(200);
        expect(await statusOf(await session(ALICE))).to.equal(200);
      });
    }

    for (const event of ['account-disabled', 'account-purged'] as const) {
      it(`${event}: tombstones the user, so their sessions end and no new page mints`, async () => {
        const stream = await addStream();
        const alice = await session(ALICE);
        expect((await send(stream, event)).status).to.equal(202);
        expect(await statusOf(alice)).to.equal(401);
        expect((await stack.loadPanel(ALICE)).token).to.equal(null);
        expect(await statusOf(await session(BOB))).to.equal(200);
      });
    }

    it('account-enabled: lifts the tombstone, so a new page mints; the old one stays dead', async () => {
      const stream = await addStream();
      const alice = await session(ALICE);
      // Disabled two seconds ago: a Connect JWT's iat is whole seconds, and one from the second of the removal
      // (or before) never mints, lifted or not.
      expect((await send(stream, 'account-disabled', ALICE, 'email', { claims: { iat: (Date.now() - 2_000) / 1000 } })).status).to.equal(202);
      expect((await stack.loadPanel(ALICE)).token).to.equal(null);
      expect((await send(stream, 'account-enabled')).status).to.equal(202);
      expect(await statusOf(await session(ALICE))).to.equal(200);
      expect(await statusOf(alice)).to.equal(401);
    });

    it('audits each event and the revocation it caused, with the transmitter as actor', async () => {
      const stream = await addStream();
      await session(ALICE);
      await send(stream, 'account-disabled');
      const records = (await admin('GET', `/api/admin/audit?user=${encodeURIComponent(ALICE)}`)).body.records as Record<string, unknown>[];
      expect(records.map((record) => [record.kind, record.actor, record.reason, record.count])).to.deep.include.members([
        ['ssf', `ssf:${idp.issuer}`, 'ssf_account_disabled', 1],
        ['revoke', `ssf:${idp.issuer}`, 'ssf_account_disabled', 1],
      ]);
    });

    it('accepts an event type it does not act on (202), changes nothing and counts it', async () => {
      const stream = await addStream();
      const alice = await session(ALICE);
      expect((await send(stream, 'token-claims-change')).status).to.equal(202);
      expect((await send(stream, 'https://example.com/event-type/made-up')).status).to.equal(202);
      expect(await statusOf(alice)).to.equal(200);
      expect((await metrics()).get('panelguard_ssf_events_total{event="unknown",outcome="ignored"}')).to.equal(2);
    });

    it('accepts the verification event (202) and records it on the stream', async () => {
      const stream = await addStream();
      const answer = await idp.send(endpoint(), { audience: stream.audience, event: 'verification', eventClaims: { state: 'c3RhdGU' }, subject: { format: 'opaque', id: 'idp-stream-1' } });
      expect(answer.status).to.equal(202);
      const [listed] = (await admin('GET', '/api/admin/ssf/streams')).body.streams as StreamJson[];
      expect(listed.verifiedAt).to.be.a('number');
      expect((await metrics()).get('panelguard_ssf_events_total{event="verification",outcome="verified"}')).to.equal(1);
    });

    it('accepts a subject the host knows no user for (202), changes nothing and counts it', async () => {
      const stream = await addStream();
      const alice = await session(ALICE);
      const answer = await idp.send(endpoint(), { audience: stream.audience, event: 'account-disabled', subject: { format: 'email', email: 'nobody@users.example.com' } });
      expect(answer.status).to.equal(202);
      expect(await statusOf(alice)).to.equal(200);
      expect((await stack.loadPanel(ALICE)).token).to.be.a('string');
      expect((await metrics()).get('panelguard_ssf_events_total{event="account-disabled",outcome="no_user"}')).to.equal(1);
    });
  });

  describe('subject mapping', () => {
    beforeEach(() => start());

    it('finds the user by email through the host, whatever the case of the email', async () => {
      const stream = await addStream({ subjects: 'email' });
      const alice = await session(ALICE);
      const email = stack.sim.directory.get(ALICE)!.email.toUpperCase();
      expect((await idp.send(endpoint(), { audience: stream.audience, event: 'session-revoked', subject: { format: 'email', email } })).status).to.equal(202);
      expect(await statusOf(alice)).to.equal(401);
    });

    it('finds the user of a complex subject by its user member', async () => {
      const stream = await addStream({ subjects: 'email' });
      const alice = await session(ALICE);
      expect((await send(stream, 'session-revoked', ALICE, 'complex')).status).to.equal(202);
      expect(await statusOf(alice)).to.equal(401);
    });

    it('finds nobody when the user\'s profile hides their email from the app', async () => {
      stack.sim.directory.add({ ...stack.sim.directory.get(ALICE)!, emailVisible: false });
      const stream = await addStream({ subjects: 'email' });
      const alice = await session(ALICE);
      expect((await send(stream, 'session-revoked')).status).to.equal(202);
      expect(await statusOf(alice)).to.equal(200);
    });

    for (const format of ['opaque', 'iss_sub'] as const) {
      it(`takes the account id from an ${format} subject on an account_id stream`, async () => {
        const stream = await addStream({ subjects: 'account_id' });
        const [alice, bob] = [await session(ALICE), await session(BOB)];
        expect((await send(stream, 'session-revoked', ALICE, format)).status).to.equal(202);
        expect(await statusOf(alice)).to.equal(401);
        expect(await statusOf(bob)).to.equal(200);
      });
    }

    it('names nobody by email on an account_id stream', async () => {
      const stream = await addStream({ subjects: 'account_id' });
      const alice = await session(ALICE);
      expect((await send(stream, 'account-disabled', ALICE, 'email')).status).to.equal(202);
      expect(await statusOf(alice)).to.equal(200);
    });
  });

  describe('refusals', () => {
    let stream: StreamJson;
    let alice: string;

    beforeEach(async () => {
      await start();
      stream = await addStream();
      alice = await session(ALICE);
    });

    /** The refusal's status and code, once it is proven to have changed nothing. */
    async function refused(answer: PushAnswer): Promise<[number, string | undefined]> {
      expect(await statusOf(alice)).to.equal(200);
      expect((await stack.loadPanel(ALICE)).token).to.be.a('string');
      return [answer.status, answer.body?.err];
    }

    const disable = () => ({ audience: stream.audience, event: 'account-disabled', subject: idp.subjectOf(stack.sim.directory.get(ALICE)!, 'email') });

    it('a forged SET (signed by another key under the transmitter\'s kid): 400 authentication_failed', async () => {
      expect(await refused(await idp.push(endpoint(), await idp.forge(disable())))).to.deep.equal([400, 'authentication_failed']);
    });

    it('an unsigned SET (alg none): 400 authentication_failed', async () => {
      expect(await refused(await idp.push(endpoint(), idp.unsigned(disable())))).to.deep.equal([400, 'authentication_failed']);
    });

    it('a SET from an issuer no stream names: 400 invalid_issuer, and its keys are never fetched', async () => {
      const stranger = await startSsfTransmitter();
      try {
        expect(await refused(await stranger.send(endpoint(), disable()))).to.deep.equal([400, 'invalid_issuer']);
        expect(stranger.fetches).to.deep.equal({ configuration: 0, jwks: 0 });
      } finally {
        await stranger.close();
      }
    });

    it('a SET for another audience: 400 invalid_audience', async () => {
      expect(await refused(await idp.send(endpoint(), { ...disable(), audience: `${stack.app.baseUrl}/ssf/receiver/streams/someone-else` }))).to.deep.equal([400, 'invalid_audience']);
    });

    it('a SET sent again: 400 invalid_request, and the second copy changes nothing', async () => {
      const set = await idp.sign({ audience: stream.audience, event: 'account-enabled', subject: idp.subjectOf(stack.sim.directory.get(ALICE)!, 'email') });
      expect((await idp.push(endpoint(), set)).status).to.equal(202);
      await stack.sim.removeUser(ALICE);
      const again = await idp.push(endpoint(), set);
      expect([again.status, again.body?.err]).to.deep.equal([400, 'invalid_request']);
      expect(again.body?.description).to.match(/received before/);
      expect((await stack.loadPanel(ALICE)).token).to.equal(null);
    });

    it('answers a 400 as RFC 8935 says: JSON {err, description} in English', async () => {
      const answer = await idp.push(endpoint(), await idp.forge(disable()));
      expect(answer.headers.get('content-type')).to.match(/^application\/json/);
      expect(answer.headers.get('content-language')).to.equal('en');
      expect(Object.keys(answer.body ?? {}).sort()).to.deep.equal(['description', 'err']);
    });

    it('a body not sent as application/secevent+jwt: 415; one past 64 kB: 413', async () => {
      const set = await idp.sign(disable());
      expect(await refused(await idp.push(endpoint(), set, 'application/jwt'))).to.deep.equal([415, 'invalid_request']);
      expect(await refused(await idp.push(endpoint(), set, 'application/json'))).to.deep.equal([415, 'invalid_request']);
      expect(await refused(await idp.push(endpoint(), 'x'.repeat(70 * 1024)))).to.deep.equal([413, 'invalid_request']);
      expect((await idp.push(endpoint(), set)).status).to.equal(202);
    });

    it('a body that is no SET at all: 400 invalid_request', async () => {
      expect(await refused(await idp.push(endpoint(), ''))).to.deep.equal([400, 'invalid_request']);
      expect(await refused(await idp.push(endpoint(), 'hello'))).to.deep.equal([400, 'invalid_request']);
    });

    it('counts each refusal by its code', async () => {
      await idp.push(endpoint(), await idp.forge(disable()));
      await idp.push(endpoint(), idp.unsigned(disable()));
      await idp.send(endpoint(), { ...disable(), audience: 'elsewhere' });
      const m = await metrics();
      expect(m.get('panelguard_ssf_sets_refused_total{err="authentication_failed"}')).to.equal(2);
      expect(m.get('panelguard_ssf_sets_refused_total{err="invalid_audience"}')).to.equal(1);
    });

    it('a SET while the transmitter\'s keys cannot be fetched: 503 with Retry-After, and the same SET is taken later', async () => {
      const set = await idp.sign(disable());
      idp.available = false;
      const answer = await idp.push(endpoint(), set);
      expect(answer.status).to.equal(503);
      expect(answer.headers.get('retry-after')).to.match(/^\d+$/);
      expect(await statusOf(alice)).to.equal(200);
      idp.available = true;
      expect((await idp.push(endpoint(), set)).status).to.equal(202);
      expect(await statusOf(alice)).to.equal(401);
    });
  });

  describe('the transmitter\'s keys', () => {
    it('fetches the configuration and the JWKS once, and keeps them for the SETs that follow', async () => {
      await start('30');
      const stream = await addStream();
      for (const event of ['session-revoked', 'session-revoked', 'credential-change'] as const) expect((await send(stream, event)).status).to.equal(202);
      // One configuration read when the stream was added, one when the first SET came: the keys once.
      expect(idp.fetches).to.deep.equal({ configuration: 2, jwks: 1 });
    });

    it('picks up a rotation: a SET under a new kid fetches the JWKS again and is taken', async () => {
      await start('0');
      const stream = await addStream();
      const alice = await session(ALICE);
      expect((await send(stream, 'credential-change', BOB)).status).to.equal(202);
      await idp.rotateKey({ retire: true });
      expect((await send(stream, 'session-revoked')).status).to.equal(202);
      expect(idp.fetches.jwks).to.equal(2);
      expect(await statusOf(alice)).to.equal(401);
    });

    it('does not fetch the JWKS again within the cooldown, however many unknown kids arrive: 400 invalid_key', async () => {
      await start('30');
      const stream = await addStream();
      expect((await send(stream, 'credential-change', BOB)).status).to.equal(202);
      await idp.rotateKey({ retire: true });
      for (let i = 0; i < 3; i += 1) {
        const answer = await send(stream, 'session-revoked');
        expect([answer.status, answer.body?.err]).to.deep.equal([400, 'invalid_key']);
      }
      expect(idp.fetches.jwks).to.equal(1);
    });

    it('verifies RS256 transmitters as well as ES256 ones', async () => {
      await start('0', 'RS256');
      const stream = await addStream();
      const alice = await session(ALICE);
      expect((await send(stream, 'session-revoked')).status).to.equal(202);
      expect(await statusOf(alice)).to.equal(401);
    });
  });
});
