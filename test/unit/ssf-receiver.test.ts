/**
 * The SSF receiver on the core with an in-memory store and a held clock: what a verified SET does to a site's
 * users, and the RFC 8935 code each refused SET gets (with nothing changed). Keys are local; no HTTP.
 */
import { expect } from 'chai';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type KeyLike } from 'jose';
import { storeAuditLog, type AuditLog } from '../../src/allowlist/audit';
import { ManualClock } from '../../src/base/clock';
import { createCore, type Core } from '../../src/allowlist/assemble';
import { issueResource } from '../../src/allowlist/resource';
import { tenantIn } from '../../src/allowlist/tenants';
import type { StoredAuditRecord } from '../../src/allowlist/types';
import { MemoryBus } from '../../src/bus/memory-bus';
import { NodeEntryCache } from '../../src/cache/entry-cache';
import { createSsfReceiver, type EventOutcome, type SetAnswer, type SsfReceiver, type UserLookup } from '../../src/signals/ssf-receiver/receiver';
import type { SsfStream } from '../../src/signals/ssf-receiver/streams';
import type { TransmitterKeys } from '../../src/signals/ssf-receiver/transmitters';
import { MemoryStore } from '../../src/store/memory-store';
import { createPageTokenCodec } from '../../src/tokens/page-token';
import { valueOf } from '../support/results';

const SITE = 'site-a';
const OTHER_SITE = 'site-b';
const ISSUER = 'https://idp.example.com';
const AUDIENCE = 'https://panelguard.example.com/ssf/streams/s1';
const ALICE = '557058:alice';
const BOB = '557058:bob';
const ISSUE = issueResource('10001', '10000');
const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';
const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

interface Signer {
  kid: string;
  privateKey: KeyLike;
  jwk: JWK;
}

async function signer(kid: string, alg: 'ES256' | 'RS256' = 'ES256'): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

interface World {
  clock: ManualClock;
  store: MemoryStore;
  core: Core;
  audit: AuditLog;
  key: Signer;
  receiver: SsfReceiver;
  /** What the metrics would count. */
  seen: { events: [string, EventOutcome][]; refused: string[] };
  /** Emails the host knows, and whether it answers at all. */
  directory: Map<string, string>;
  host: { up: boolean };
  /** What the transmitter's keys do: answer, be unreachable, or be unusable. */
  keys: { state: 'ok' | 'unreachable' | 'unusable'; critical: string[] };
  /** A SET as the transmitter would sign it, with the claims changed or dropped (undefined) as given. */
  set(event: string, claims?: Record<string, unknown>, options?: { alg?: string; typ?: string | null; key?: Signer }): Promise<string>;
  sessionOf(accountId: string, clientKey?: string): Promise<string>;
  codeOf(token: string): Promise<string>;
}

async function world(streams: Partial<SsfStream>[] = [{}]): Promise<World> {
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 12));
  const store = new MemoryStore();
  const audit = storeAuditLog(store, { onError: () => undefined, denialWindowMs: 5_000 });
  const tokens = createPageTokenCodec({ secret: 'x'.repeat(40), appKey: 'panelguard', clock, isTenant: tenantIn(store) });
  const core = createCore({ store, ledger: store, cache: new NodeEntryCache({ ttlSeconds: 60, maxEntries: 1000 }), bus: new MemoryBus(), clock, tokens, audit, ttlSeconds: 600 });
  await core.tenants.installed(SITE, 'https://a.example.net', { sharedSecretChanged: false });
  await core.tenants.installed(OTHER_SITE, 'https://b.example.net', { sharedSecretChanged: false });
  for (const [index, stream] of streams.entries()) {
    await store.insertStream({ id: `s${index + 1}`, clientKey: SITE, issuer: ISSUER, audience: AUDIENCE, subjects: 'account_id', createdAt: clock.now(), verifiedAt: null, ...stream });
  }
  const key = await signer('key-1');
  const seen: World['seen'] = { events: [], refused: [] };
  const directory = new Map<string, string>();
  const host = { up: true };
  const keys: World['keys'] = { state: 'ok', critical: [] };
  const transmitters: Pick<TransmitterKeys, 'keysOf'> = {
    async keysOf(issuer) {
      if (keys.state === 'unreachable') return { ok: false, code: 'unreachable', problem: 'down' };
      if (keys.state === 'unusable') return { ok: false, code: 'unusable', problem: 'The transmitter configuration names another issuer.' };
      return { ok: true, value: { configuration: { issuer, jwksUri: `${issuer}/jwks`, criticalMembers: keys.critical }, keys: createLocalJWKSet({ keys: [key.jwk] }) } };
    },
  };
  const users: UserLookup = {
    async accountIdByEmail(_clientKey, email) {
      if (!host.up) throw new Error('the host could not be reached');
      return directory.get(email) ?? null;
    },
  };
  const receiver = createSsfReceiver({
    streams: store,
    tenants: store,
    ledger: store,
    transmitters,
    users,
    allowlist: core.allowlist,
    removals: core.removals,
    audit,
    clock,
    observer: { event: (event, outcome) => seen.events.push([event, outcome]), refused: (code) => seen.refused.push(code) },
    onStoreFailure: core.onStoreFailure,
  });
  let jtis = 0;
  return {
    clock,
    store,
    core,
    audit,
    key,
    receiver,
    seen,
    directory,
    host,
    keys,
    async set(event, claims = {}, options = {}) {
      const payload: Record<string, unknown> = {
        iss: ISSUER,
        aud: AUDIENCE,
        iat: Math.floor(clock.now() / 1000),
        jti: `jti-${++jtis}`,
        sub_id: { format: 'opaque', id: ALICE },
        events: { [event]: {} },
        ...claims,
      };
      for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
      const by = options.key ?? key;
      const header = { alg: options.alg ?? 'ES256', kid: by.kid, ...(options.typ === null ? {} : { typ: options.typ ?? 'secevent+jwt' }) };
      return new SignJWT(payload as JWTPayload).setProtectedHeader(header).sign(by.privateKey);
    },
    async sessionOf(accountId, clientKey = SITE) {
      const minted = await core.allowlist.mint({ clientKey, accountId, target: ISSUE, connectIssuedAt: clock.now(), ip: null, userAgent: null });
      if (!minted.ok) throw new Error(`mint failed: ${minted.code}`);
      clock.advance(1);
      return minted.value.token;
    },
    async codeOf(token) {
      const checked = await core.allowlist.check(token, ISSUE.resource);
      return checked.ok ? 'ok' : checked.code;
    },
  };
}

function refusal(answer: SetAnswer): string {
  return answer.ok ? 'accepted' : answer.code;
}

async function ssfRecords(w: World): Promise<StoredAuditRecord[]> {
  await w.audit.drain();
  return (await w.store.listAudit({ clientKey: SITE, kind: 'ssf', limit: 50 })).records;
}

/** An unsigned JWT, as `alg: none` would carry one. */
function unsigned(payload: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'secevent+jwt' })}.${part(payload)}.`;
}

describe('SSF receiver', () => {
  describe('events', () => {
    for (const event of [`${CAEP}session-revoked`, `${CAEP}credential-change`, `${RISC}sessions-revoked`, `${RISC}credential-compromise`]) {
      const name = event.slice(event.lastIndexOf('/') + 1);
      it(`ends every session of the subject's user on ${name}, and lets them open a new one`, async () => {
        const w = await world();
        const alice = await w.sessionOf(ALICE);
        const bob = await w.sessionOf(BOB);
        const answer = await w.receiver.receive(await w.set(event));
        expect(answer).to.deep.equal({ ok: true, value: { stream: 's1', events: [{ event: name, outcome: 'applied' }] } });
        expect(await w.codeOf(alice)).to.equal('token_revoked');
        expect(await w.codeOf(bob)).to.equal('ok');
        expect(await w.codeOf(await w.sessionOf(ALICE))).to.equal('ok');
        expect(w.seen.events).to.deep.equal([[name, 'applied']]);
      });
    }

    it('audits the revocation with the issuer as actor and the event as reason, and the event itself', async () => {
      const w = await world();
      await w.sessionOf(ALICE);
      await w.receiver.receive(await w.set(`${CAEP}session-revoked`));
      await w.audit.drain();
      const [revoke] = (await w.store.listAudit({ clientKey: SITE, kind: 'revoke', limit: 5 })).records;
      expect(revoke).to.include({ actor: `ssf:${ISSUER}`, reason: 'ssf_session_revoked', accountId: ALICE, count: 1 });
      const [record] = await ssfRecords(w);
      expect(record).to.include({ actor: `ssf:${ISSUER}`, reason: 'ssf_session_revoked', accountId: ALICE, count: 1 });
    });

    for (const event of [`${RISC}account-disabled`, `${RISC}account-purged`]) {
      it(`tombstones the user on ${event.slice(event.lastIndexOf('/') + 1)}: sessions end and no new one is minted`, async () => {
        const w = await world();
        const alice = await w.sessionOf(ALICE);
        expect(refusal(await w.receiver.receive(await w.set(event)))).to.equal('accepted');
        expect(await w.codeOf(alice)).to.equal('token_revoked');
        const minted = await w.core.allowlist.mint({ clientKey: SITE, accountId: ALICE, target: ISSUE, connectIssuedAt: w.clock.now() + 60_000, ip: null, userAgent: null });
        expect(minted.ok).to.equal(false);
      });
    }

    it('lifts the tombstone on account-enabled; the old sessions stay dead', async () => {
      const w = await world();
      const alice = await w.sessionOf(ALICE);
      await w.receiver.receive(await w.set(`${RISC}account-disabled`));
      w.clock.advance(2_000);
      const answer = await w.receiver.receive(await w.set(`${RISC}account-enabled`));
      expect(answer.ok && answer.value.events).to.deep.equal([{ event: 'account-enabled', outcome: 'applied' }]);
      expect(await w.codeOf(alice)).to.equal('token_revoked');
      expect(await w.codeOf(await w.sessionOf(ALICE))).to.equal('ok');
    });

    it('ignores an account-enabled older than the removal it would lift, whoever made the removal', async () => {
      const w = await world();
      await w.core.removals.removeUser(SITE, ALICE, w.clock.now(), { actor: 'webhook:user_deleted', reason: 'user_removed' });
      const answer = await w.receiver.receive(await w.set(`${RISC}account-enabled`, { events: { [`${RISC}account-enabled`]: { event_timestamp: Math.floor(w.clock.now() / 1000) - 60 } } }));
      expect(answer.ok && answer.value.events).to.deep.equal([{ event: 'account-enabled', outcome: 'stale' }]);
      expect((await w.store.getTombstone(SITE, 'user', ALICE))?.liftedAt).to.equal(null);
      expect((await ssfRecords(w))[0].reason).to.equal('ssf_account_enabled:stale');
    });

    it('takes an event_timestamp in the future as now, so it cannot make the host\'s later removal look older', async () => {
      const w = await world();
      const inAYear = Math.floor(w.clock.now() / 1000) + 365 * 24 * 3600;
      await w.receiver.receive(await w.set(`${RISC}account-enabled`, { events: { [`${RISC}account-enabled`]: { event_timestamp: inAYear } } }));
      w.clock.advance(1_000);
      const removal = await w.core.removals.removeUser(SITE, ALICE, w.clock.now(), { actor: 'webhook:user_deleted', reason: 'user_removed' });
      expect(valueOf(removal).applied).to.equal(true);
    });

    it('accepts an event type it does not act on, changes nothing and counts it as unknown', async () => {
      const w = await world();
      const alice = await w.sessionOf(ALICE);
      const answer = await w.receiver.receive(await w.set(`${CAEP}token-claims-change`));
      expect(answer.ok && answer.value.events).to.deep.equal([{ event: 'unknown', outcome: 'ignored' }]);
      expect(await w.codeOf(alice)).to.equal('ok');
      expect(await ssfRecords(w)).to.deep.equal([]);
    });

    it('records a verification event on its stream, with no subject needed', async () => {
      const w = await world();
      const answer = await w.receiver.receive(await w.set(VERIFICATION, { sub_id: { format: 'opaque', id: 'transmitter-stream-id' }, events: { [VERIFICATION]: { state: 'abc' } } }));
      expect(answer.ok && answer.value.events).to.deep.equal([{ event: 'verification', outcome: 'verified' }]);
      expect((await w.store.listStreams(SITE))[0].verifiedAt).to.equal(w.clock.now());
      expect((await ssfRecords(w))[0]).to.include({ reason: 'ssf_verification', accountId: null });
    });

    it('accepts a subject that names no user, changes nothing, and says so', async () => {
      const w = await world();
      const alice = await w.sessionOf(ALICE);
      const answer = await w.receiver.receive(await w.set(`${RISC}account-disabled`, { sub_id: { format: 'phone_number', phone_number: '+1 206 555 0123' } }));
      expect(answer.ok && answer.value.events).to.deep.equal([{ event: 'account-disabled', outcome: 'no_user' }]);
      expect(await w.codeOf(alice)).to.equal('ok');
      expect(await w.store.getTombstone(SITE, 'user', ALICE)).to.equal(null);
      expect((await ssfRecords(w))[0]).to.include({ reason: 'ssf_account_disabled:no_user', accountId: null });
    });

    it('reads the subject from the event when there is no sub_id (CAEP and RISC events before SSF 1.0)', async () => {
      const w = await world();
      const alice = await w.sessionOf(ALICE);
      await w.receiver.receive(await w.set(`${CAEP}session-revoked`, { sub_id: undefined, events: { [`${CAEP}session-revoked`]: { subject: { format: 'iss_sub', iss: ISSUER, sub: ALICE } } } }));
      expect(await w.codeOf(alice)).to.equal('token_revoked');
    });

    it('discards an event whose complex subject has a critical member it cannot act on', async () => {
      const w = await world();
      w.keys.critical = ['tenant', 'user'];
      const alice = await w.sessionOf(ALICE);
      const sub = { format: 'complex', user: { format: 'opaque', id: ALICE }, tenant: { format: 'opaque', id: 'okta-tenant' } };
      const answer = await w.receiver.receive(await w.set(`${CAEP}session-revoked`, { sub_id: sub }));
      expect(answer.ok && answer.value.events).to.deep.equal([{ event: 'session-revoked', outcome: 'discarded' }]);
      expect(await w.codeOf(alice)).to.equal('ok');
    });

    describe('by email', () => {
      it('finds the user through the host and acts on them', async () => {
        const w = await world([{ subjects: 'email' }]);
        w.directory.set('alice@example.com', ALICE);
        const alice = await w.sessionOf(ALICE);
        await w.receiver.receive(await w.set(`${CAEP}session-revoked`, { sub_id: { format: 'email', email: 'Alice@Example.com' } }));
        expect(await w.codeOf(alice)).to.equal('token_revoked');
      });

      it('answers unavailable when the host cannot be asked, and takes the same SET once it can', async () => {
        const w = await world([{ subjects: 'email' }]);
        w.directory.set('alice@example.com', ALICE);
        const alice = await w.sessionOf(ALICE);
        const set = await w.set(`${CAEP}session-revoked`, { sub_id: { format: 'email', email: 'alice@example.com' } });
        w.host.up = false;
        expect(refusal(await w.receiver.receive(set))).to.equal('unavailable');
        expect(await w.codeOf(alice)).to.equal('ok');
        w.host.up = true;
        expect(refusal(await w.receiver.receive(set))).to.equal('accepted');
        expect(await w.codeOf(alice)).to.equal('token_revoked');
      });

      it('names nobody with an opaque id: the stream maps by email', async () => {
        const w = await world([{ subjects: 'email' }]);
        const answer = await w.receiver.receive(await w.set(`${CAEP}session-revoked`));
        expect(answer.ok && answer.value.events[0].outcome).to.equal('no_user');
      });
    });
  });

  describe('refusals', () => {
    /** Receives `set` and proves it changed nothing: Alice's session lives, no tombstone, no audit of it. */
    async function refusedWithoutEffect(w: World, set: string): Promise<string> {
      const alice = await w.sessionOf(ALICE);
      const answer = await w.receiver.receive(set);
      expect(await w.codeOf(alice)).to.equal('ok');
      expect(await w.store.getTombstone(SITE, 'user', ALICE)).to.equal(null);
      expect(await ssfRecords(w)).to.deep.equal([]);
      return refusal(answer);
    }

    const DISABLED = `${RISC}account-disabled`;

    it('refuses a SET signed by another key under the transmitter\'s kid: authentication_failed', async () => {
      const w = await world();
      const forger = { ...(await signer(w.key.kid)), kid: w.key.kid };
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, {}, { key: forger }))).to.equal('authentication_failed');
    });

    it('refuses an unsigned SET (alg none): authentication_failed', async () => {
      const w = await world();
      const payload = { iss: ISSUER, aud: AUDIENCE, iat: Math.floor(w.clock.now() / 1000), jti: 'x', sub_id: { format: 'opaque', id: ALICE }, events: { [DISABLED]: {} } };
      expect(await refusedWithoutEffect(w, unsigned(payload))).to.equal('authentication_failed');
    });

    it('refuses a kid the transmitter does not publish: invalid_key', async () => {
      const w = await world();
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, {}, { key: await signer('unknown-kid') }))).to.equal('invalid_key');
    });

    it('refuses an algorithm outside RS256 and ES256 before looking at keys: invalid_key', async () => {
      const w = await world();
      const hs = new SignJWT({ iss: ISSUER, aud: AUDIENCE, iat: 1, jti: 'x', events: { [DISABLED]: {} } }).setProtectedHeader({ alg: 'HS256', typ: 'secevent+jwt' });
      expect(await refusedWithoutEffect(w, await hs.sign(new TextEncoder().encode('a'.repeat(32))))).to.equal('invalid_key');
    });

    it('refuses a JWT that is not typed as a SET (an ID token, say): invalid_request', async () => {
      const w = await world();
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, {}, { typ: null }))).to.equal('invalid_request');
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, {}, { typ: 'JWT' }))).to.equal('invalid_request');
    });

    it('accepts typ application/secevent+jwt in any case (RFC 7515 4.1.9)', async () => {
      const w = await world();
      expect(refusal(await w.receiver.receive(await w.set(DISABLED, {}, { typ: 'Application/SecEvent+JWT' })))).to.equal('accepted');
    });

    it('refuses an issuer no stream names, without fetching anything: invalid_issuer', async () => {
      const w = await world();
      w.keys.state = 'unreachable';
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, { iss: 'https://evil.example.com' }))).to.equal('invalid_issuer');
    });

    it('refuses an audience no stream of the issuer has, and a SET without aud: invalid_audience', async () => {
      const w = await world();
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, { aud: 'https://panelguard.example.com/ssf/streams/other' }))).to.equal('invalid_audience');
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, { aud: undefined }))).to.equal('invalid_audience');
    });

    it('takes an aud list that names its stream, and refuses one that names two streams (two sites)', async () => {
      const w = await world([{}, { id: 's2', clientKey: OTHER_SITE, audience: 'https://panelguard.example.com/ssf/streams/s2' }]);
      expect(refusal(await w.receiver.receive(await w.set(`${CAEP}session-revoked`, { aud: ['https://elsewhere.example.com', AUDIENCE] })))).to.equal('accepted');
      expect(refusal(await w.receiver.receive(await w.set(`${CAEP}session-revoked`, { aud: [AUDIENCE, 'https://panelguard.example.com/ssf/streams/s2'] })))).to.equal('invalid_audience');
    });

    it('refuses a SET seen before, and changes nothing the second time: invalid_request', async () => {
      const w = await world();
      const set = await w.set(`${RISC}account-enabled`);
      expect(refusal(await w.receiver.receive(set))).to.equal('accepted');
      await w.core.removals.removeUser(SITE, ALICE, w.clock.now() + 1, { actor: 'webhook:user_deleted', reason: 'user_removed' });
      expect(refusal(await w.receiver.receive(set))).to.equal('invalid_request');
      expect((await w.store.getTombstone(SITE, 'user', ALICE))?.liftedAt).to.equal(null);
      expect(w.seen.refused).to.deep.equal(['invalid_request']);
    });

    it('tells one transmitter\'s jti from another\'s', async () => {
      const w = await world([{}, { id: 's2', issuer: 'https://other-idp.example.com', audience: AUDIENCE }]);
      expect(refusal(await w.receiver.receive(await w.set(`${CAEP}session-revoked`, { jti: 'same' })))).to.equal('accepted');
      expect(refusal(await w.receiver.receive(await w.set(`${CAEP}session-revoked`, { jti: 'same', iss: 'https://other-idp.example.com' })))).to.equal('accepted');
    });

    it('refuses an iat in the future or older than a day, and claims without jti or iat: invalid_request', async () => {
      const w = await world();
      const now = Math.floor(w.clock.now() / 1000);
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, { iat: now + 600 }))).to.equal('invalid_request');
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, { iat: now - 25 * 3600 }))).to.equal('invalid_request');
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, { jti: undefined }))).to.equal('invalid_request');
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, { iat: undefined }))).to.equal('invalid_request');
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, { exp: now - 3600 }))).to.equal('invalid_request');
    });

    it('refuses events and subjects that are not what SSF defines: invalid_request', async () => {
      const w = await world();
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, { events: 'account-disabled' }))).to.equal('invalid_request');
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, { events: {} }))).to.equal('invalid_request');
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, { events: { [DISABLED]: true } }))).to.equal('invalid_request');
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, { sub_id: { format: 'email' } }))).to.equal('invalid_request');
      expect(await refusedWithoutEffect(w, await w.set(DISABLED, { sub_id: undefined }))).to.equal('invalid_request');
    });

    it('refuses a body that is not a compact JWS, and an encrypted SET: invalid_request', async () => {
      const w = await world();
      expect(await refusedWithoutEffect(w, 'not a jwt')).to.equal('invalid_request');
      expect(await refusedWithoutEffect(w, 'a.b.c.d.e')).to.equal('invalid_request');
    });

    it('refuses a SET for a site PanelGuard is no longer installed on: access_denied', async () => {
      const w = await world();
      const set = await w.set(`${RISC}account-disabled`);
      await w.core.tenants.uninstalled(SITE, null);
      expect(refusal(await w.receiver.receive(set))).to.equal('access_denied');
      expect(await w.store.getTombstone(SITE, 'user', ALICE)).to.equal(null);
    });

    it('refuses a transmitter whose configuration is unusable (invalid_key), and answers unavailable when it cannot be fetched', async () => {
      const w = await world();
      w.keys.state = 'unusable';
      expect(await refusedWithoutEffect(w, await w.set(DISABLED))).to.equal('invalid_key');
      w.keys.state = 'unreachable';
      expect(await refusedWithoutEffect(w, await w.set(DISABLED))).to.equal('unavailable');
    });

    it('releases the SET when it could not be applied, so that the transmitter\'s retry is taken', async () => {
      const w = await world();
      const alice = await w.sessionOf(ALICE);
      const set = await w.set(`${CAEP}session-revoked`);
      const revokeEntries = w.store.revokeEntries.bind(w.store);
      w.store.revokeEntries = () => Promise.reject(new Error('the store is down'));
      expect(refusal(await w.receiver.receive(set))).to.equal('unavailable');
      w.store.revokeEntries = revokeEntries;
      expect(refusal(await w.receiver.receive(set))).to.equal('accepted');
      expect(await w.codeOf(alice)).to.equal('token_revoked');
    });

    for (const method of ['streamsOfIssuer', 'getTenant', 'claimOnce'] as const) {
      it(`answers unavailable, without rejecting, when the store fails at ${method}, and takes the SET once it answers`, async () => {
        const w = await world();
        const alice = await w.sessionOf(ALICE);
        const set = await w.set(`${CAEP}session-revoked`);
        const real = (w.store[method] as (...args: unknown[]) => Promise<unknown>).bind(w.store);
        Object.defineProperty(w.store, method, { value: () => Promise.reject(new Error('the store is down')), configurable: true });
        expect(refusal(await w.receiver.receive(set))).to.equal('unavailable');
        Object.defineProperty(w.store, method, { value: real, configurable: true });
        expect(refusal(await w.receiver.receive(set))).to.equal('accepted');
        expect(await w.codeOf(alice)).to.equal('token_revoked');
      });
    }
  });
});
