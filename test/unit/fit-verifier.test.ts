import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { ManualClock } from '../../src/base/clock';
import { createFitVerifier, type FitVerifier } from '../../src/forge/fit-verifier';
import { invocationOf } from '../../src/forge/invocation';
import { FitIssuer, fitClaims, forgeClaims, type FitClaims, type FitForgery } from '../../src/host-simulator/forge/fit';

const APP_ID = `ari:cloud:ecosystem::app/${randomUUID()}`;
const INSTALLATION = `ari:cloud:ecosystem::installation/${randomUUID()}`;

/** Atlassian's JWKS on loopback, counting how often it is fetched; `up` false answers 503. */
interface Jwks {
  url: string;
  fetches: number;
  up: boolean;
  close(): Promise<void>;
}

async function serveJwks(issuer: FitIssuer): Promise<Jwks> {
  const state = { fetches: 0, up: true };
  const server = http.createServer((_req, res) => {
    state.fetches++;
    if (!state.up) return void res.writeHead(503).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issuer.jwks()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get fetches() {
      return state.fetches;
    },
    set up(value: boolean) {
      state.up = value;
    },
    get up() {
      return state.up;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A UI call's claims as Forge signs them, at `now` (epoch seconds). */
function panelClaims(now: number): FitClaims {
  return fitClaims({
    app: {
      id: APP_ID,
      version: '1',
      appVersion: '1.0.0',
      installationId: INSTALLATION,
      apiBaseUrl: 'https://api.atlassian.com/ex/jira/cloud-1',
      installation: { id: INSTALLATION, contexts: [] },
      environment: { type: 'PRODUCTION', id: `ari:cloud:ecosystem::environment/${randomUUID()}` },
    },
    module: { type: 'jira:issuePanel', key: 'panelguard-issue-panel' },
    context: {
      localId: randomUUID(),
      cloudId: 'cloud-1',
      moduleKey: 'panelguard-issue-panel',
      siteUrl: 'https://acme.atlassian.net',
      extension: { type: 'jira:issuePanel', issue: { id: '10001', key: 'DEMO-1' }, project: { id: 10000, key: 'DEMO' } },
    },
    principal: '557058:alice',
    now,
  });
}

describe('FIT verifier', () => {
  let issuer: FitIssuer;
  let jwks: Jwks;
  let clock: ManualClock;
  let verifier: FitVerifier;
  const seconds = () => Math.floor(clock.now() / 1000);

  /** A FIT signed now, changed as `forgery` says. */
  const fit = (forgery: FitForgery = {}) => issuer.sign(forgeClaims(panelClaims(seconds()), forgery, seconds()), forgery.signing);

  before(async () => {
    issuer = new FitIssuer();
    jwks = await serveJwks(issuer);
  });

  after(async () => {
    await jwks.close();
  });

  beforeEach(() => {
    jwks.up = true;
    clock = new ManualClock(Date.now());
    verifier = createFitVerifier({ appId: APP_ID, jwksUrl: jwks.url, clock });
  });

  it('reads the invocation from a genuine FIT', async () => {
    const verified = await verifier.verify(fit());
    expect(verified).to.deep.equal({
      ok: true,
      value: {
        installationId: INSTALLATION,
        apiBaseUrl: 'https://api.atlassian.com/ex/jira/cloud-1',
        principal: '557058:alice',
        moduleKey: 'panelguard-issue-panel',
        extension: { type: 'jira:issuePanel', issueId: '10001', projectId: '10000' },
        siteUrl: 'https://acme.atlassian.net',
        issuedAt: seconds() * 1000,
        expiresAt: (seconds() + 25) * 1000,
      },
    });
  });

  it('fetches the JWKS once for many FITs under one kid', async () => {
    const before = jwks.fetches;
    for (let i = 0; i < 5; i++) expect((await verifier.verify(fit())).ok).to.equal(true);
    expect(jwks.fetches - before).to.equal(1);
  });

  const refusals: Array<[string, FitForgery, string]> = [
    ['a foreign key under the genuine kid (wrong signature)', { signing: 'foreign-key' }, 'token_invalid'],
    ['no signature (alg none)', { signing: 'none' }, 'token_invalid'],
    ['HS256 keyed with the public key', { signing: 'hs256-public-key' }, 'token_invalid'],
    ['the genuine key under RS512', { signing: 'rs512' }, 'token_invalid'],
    ['a kid the JWKS does not list', { signing: 'unknown-kid' }, 'token_invalid'],
    ['another audience', { aud: `ari:cloud:ecosystem::app/${randomUUID()}` }, 'token_invalid'],
    ['another issuer', { iss: 'forge/context-token' }, 'token_invalid'],
    ['an expired FIT', { expired: true }, 'token_expired'],
  ];
  for (const [what, forgery, code] of refusals) {
    it(`refuses ${what} as ${code}`, async () => {
      expect(await verifier.verify(fit(forgery))).to.deep.equal({ ok: false, code });
    });
  }

  it('refuses a FIT signed with the genuine key once the key is cached, if its signature was altered', async () => {
    expect((await verifier.verify(fit())).ok).to.equal(true);
    const genuine = fit();
    const [header, payload, signature] = genuine.split('.');
    const altered = `${header}.${payload}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    expect(await verifier.verify(altered)).to.deep.equal({ ok: false, code: 'token_invalid' });
  });

  it('refuses "none" and HS256 forgeries even with the genuine key already cached', async () => {
    expect((await verifier.verify(fit())).ok).to.equal(true);
    expect(await verifier.verify(fit({ signing: 'none' }))).to.deep.equal({ ok: false, code: 'token_invalid' });
    expect(await verifier.verify(fit({ signing: 'hs256-public-key' }))).to.deep.equal({ ok: false, code: 'token_invalid' });
  });

  it('takes a FIT up to 5 seconds past its exp and before its nbf, for clock skew, and no further', async () => {
    const now = seconds();
    expect((await verifier.verify(fit({ exp: now - 4 }))).ok).to.equal(true);
    expect(await verifier.verify(fit({ exp: now - 6 }))).to.deep.equal({ ok: false, code: 'token_expired' });
    expect((await verifier.verify(fit({ nbf: now + 4 }))).ok).to.equal(true);
    expect(await verifier.verify(fit({ nbf: now + 6 }))).to.deep.equal({ ok: false, code: 'token_invalid' });
  });

  it('refuses a FIT without exp, iat or nbf', async () => {
    for (const claim of ['exp', 'iat', 'nbf'] as const) {
      const forged = fit({ edit: (claims) => Object.fromEntries(Object.entries(claims).filter(([name]) => name !== claim)) });
      expect(await verifier.verify(forged), claim).to.deep.equal({ ok: false, code: 'token_invalid' });
    }
  });

  it('answers keys_unavailable when the JWKS cannot be fetched, and verifies once it can', async () => {
    jwks.up = false;
    expect(await verifier.verify(fit())).to.deep.equal({ ok: false, code: 'keys_unavailable' });
    jwks.up = true;
    const fresh = createFitVerifier({ appId: APP_ID, jwksUrl: jwks.url, clock });
    expect((await fresh.verify(fit())).ok).to.equal(true);
  });
});

describe("FIT claims as PanelGuard reads them (invocationOf)", () => {
  const now = Math.floor(Date.now() / 1000);
  const genuine = (): Record<string, any> => structuredClone(panelClaims(now)) as unknown as Record<string, any>;

  it('reads an event FIT, which has no principal and no context', () => {
    const claims = genuine();
    delete claims.principal;
    delete claims.context;
    expect(invocationOf(claims)).to.include({ principal: null, moduleKey: null, extension: null, siteUrl: null, installationId: INSTALLATION });
  });

  it('takes claims it does not read, anywhere', () => {
    const claims = genuine();
    claims.license = { active: true };
    claims.app.extra = 1;
    claims.context.extension.issue.type = 'Task';
    expect(invocationOf(claims)).to.not.equal(null);
  });

  it('reads Jira ids sent as numbers as their decimal text', () => {
    const claims = genuine();
    claims.context.extension.issue.id = 10001;
    expect(invocationOf(claims)?.extension).to.deep.equal({ type: 'jira:issuePanel', issueId: '10001', projectId: '10000' });
  });

  const malformed: Array<[string, (claims: Record<string, any>) => unknown]> = [
    ['a payload that is no object', () => ['app']],
    ['no app', (c) => ({ ...c, app: undefined })],
    ['an app that is an array', (c) => ({ ...c, app: [c.app] })],
    ['an empty app id', (c) => ((c.app.id = ''), c)],
    ['an app id of 256 characters', (c) => ((c.app.id = 'a'.repeat(256)), c)],
    ['an installation id of another shape', (c) => ((c.app.installationId = 'ari:cloud:ecosystem::installation/nope'), c)],
    ['an apiBaseUrl that is no URL', (c) => ((c.app.apiBaseUrl = 'api.atlassian.com/ex'), c)],
    ['an apiBaseUrl longer than 1024 characters', (c) => ((c.app.apiBaseUrl = `https://a.example/${'x'.repeat(1024)}`), c)],
    ['a module without a key', (c) => ((c.app.module = { type: 'jira:issuePanel' }), c)],
    ['an empty principal', (c) => ((c.principal = ''), c)],
    ['a principal of 129 characters', (c) => ((c.principal = 'p'.repeat(129)), c)],
    ['a principal that is null', (c) => ((c.principal = null), c)],
    ['an iat that is text', (c) => ((c.iat = String(c.iat)), c)],
    ['no exp', (c) => ({ ...c, exp: undefined })],
    ['an empty jti', (c) => ((c.jti = ''), c)],
    ['a context that is text', (c) => ((c.context = 'issue'), c)],
    ['an empty moduleKey', (c) => ((c.context.moduleKey = ''), c)],
    ['a cloudId that is a number', (c) => ((c.context.cloudId = 1), c)],
    ['a siteUrl that is no URL', (c) => ((c.context.siteUrl = 'acme'), c)],
    ['an extension without a type', (c) => (delete c.context.extension.type, c)],
    ['an issue id that is not decimal', (c) => ((c.context.extension.issue.id = '10001a'), c)],
    ['an issue id that is negative', (c) => ((c.context.extension.issue.id = -10001), c)],
    ['an issue id of 19 digits', (c) => ((c.context.extension.issue.id = '1'.repeat(19)), c)],
    ['an issue without an id', (c) => ((c.context.extension.issue = { key: 'DEMO-1' }), c)],
    ['a project that is text', (c) => ((c.context.extension.project = '10000'), c)],
  ];
  for (const [what, change] of malformed) {
    it(`refuses ${what}`, () => {
      expect(invocationOf(change(genuine()))).to.equal(null);
    });
  }
});
