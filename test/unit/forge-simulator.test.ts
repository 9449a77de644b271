import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startHostSimulator, type HostSimulator, type IssueContext } from '../../src/host-simulator';
import {
  CONTRACT_LAYOUT,
  ForgeInvokeError,
  loadForgeLayout,
  startForgeSimulator,
  type FitLicense,
  type ForgeSimulator,
  type UiCall,
} from '../../src/host-simulator/forge';
import { PROJECT_ROOT } from '../../src/app/paths';
import { startStandInRemote, type Seen, type StandInRemote } from '../support/forge-remote';

const ISSUE: IssueContext = { issueId: '10001', issueKey: 'PG-1', projectId: '10000', projectKey: 'PG' };
const ADMIN = '557058:ada';
const USER = '557058:uma';
const PANEL: UiCall = { accountId: USER, moduleKey: 'panelguard-issue-panel', issue: ISSUE };
const ADMIN_PAGE: UiCall = { accountId: ADMIN, moduleKey: 'panelguard-admin-page' };
const MY_SESSIONS: UiCall = { accountId: USER, moduleKey: 'panelguard-my-sessions' };

/** Atlassian's documented FIT example (docs mirror minhhai2209/forge-docs-snapshot@39ba7b91b, mirror/remote/essentials/index.md). */
const DOCUMENTED_FIT = {
  app: {
    id: 'ari:cloud:ecosystem::app/8db33809-1f32-48bb-8c52-5877dab48107',
    version: '16',
    appVersion: '16.0.1',
    installationId: 'ari:cloud:ecosystem::installation/0a3a7799-53ae-4a5b-9e7e-03338980abb5',
    apiBaseUrl: 'https://api.stg.atlassian.com/ex/confluence/d0d52620-3203-4cfa-8db5-f2587155f0dd',
    installation: {
      id: 'ari:cloud:ecosystem::installation/0a3a7799-53ae-4a5b-9e7e-03338980abb5',
      contexts: [
        {
          name: 'confluence',
          apiBaseUrl: 'https://api.stg.atlassian.com/ex/confluence/d0d52620-3203-4cfa-8db5-f2587155f0dd',
          cloudId: 'd0d52620-3203-4cfa-8db5-f2587155f0dd',
        },
        { name: 'bitbucket', apiBaseUrl: 'https://api.bitbucket.org', workspaceId: 'b7ea02c9-0871-4858-a2a6-a190d7de977c' },
      ],
    },
    environment: {
      type: 'DEVELOPMENT',
      id: 'ari:cloud:ecosystem::environment/8db33809-1f32-48bb-8c52-5877dab48107/aa911f10-c54b-4b93-9e27-dd2947840b9e',
    },
    module: { type: 'xen:macro', key: 'forge-remote-app-boot' },
    license: {
      active: true,
      billingPeriod: 'MONTHLY',
      capabilitySet: 'capabilityAdvanced',
      ccpEntitlementId: '5e176cc2-6fa0-3c7b-8fc4-302443a16e86',
      ccpEntitlementSlug: 'X-3SH-1A6-33A-AS0',
      isEvaluation: false,
      subscriptionEndDate: '2026-12-08T00:00:00.000Z',
      supportEntitlementNumber: null,
      trialEndDate: '2027-06-08T00:00:00.000Z',
      type: 'commercial',
      modes: ['USER_ACCESS'],
    },
  },
  context: {
    localId: '4654fa12-4c7c-4792-95a9-6019edb27953',
    cloudId: 'd0d52620-3203-4cfa-8db5-f2587155f0dd',
    moduleKey: 'forge-remote-app-boot',
    siteUrl: 'https://pbray2.jira-dev.com',
    extension: {
      type: 'macro',
      content: { id: '5341185' },
      space: { key: '~655362312d3308895442b0aa38771a10c88656', id: '65538' },
      isEditing: false,
      references: [],
    },
  },
  principal: '655362:312d3308-8954-42b0-aa38-771a10c88656',
  icLabel: 'orange',
  aud: 'ari:cloud:ecosystem::app/8db33809-1f32-48bb-8c52-5877dab48107',
  iss: 'forge/invocation-token',
  iat: 1700175149,
  nbf: 1700175149,
  exp: 1700175174,
  jti: 'd8a496253ec8c18a54631e4c82cbedd5d0ae8570',
};

/** Names and value types, recursively: what "the same shape" means. */
function shapeOf(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.map(shapeOf);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, v]) => [key, shapeOf(v)]).sort(([a], [b]) => String(a).localeCompare(String(b))));
  }
  return typeof value;
}

function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString('utf8')) as Record<string, unknown>;
}

function claimsOf(seen: Seen): Record<string, unknown> {
  if (!seen.verdict.ok) throw new Error(`the remote refused the FIT: ${seen.verdict.code}`);
  return seen.verdict.claims;
}

function only(requests: Seen[]): Seen {
  expect(requests).to.have.length(1);
  return requests[0];
}

interface Stack {
  site: HostSimulator;
  forge: ForgeSimulator;
  remote: StandInRemote;
  sleeps: number[];
}

async function startStack(opts: { license?: FitLicense } = {}): Promise<Stack> {
  const sleeps: number[] = [];
  const site = await startHostSimulator({
    users: [
      { accountId: ADMIN, displayName: 'Ada Admin', siteAdmin: true },
      { accountId: USER, displayName: 'Uma User' },
    ],
  });
  const forge = await startForgeSimulator(site, {
    layout: CONTRACT_LAYOUT,
    license: opts.license,
    // deadlines short enough for a test; waits between retries recorded, not slept
    eventPolicy: { timeoutMs: 300 },
    invokeTimeoutMs: 300,
    sleep: async (ms) => void sleeps.push(ms),
  });
  const remote = await startStandInRemote({ jwksUrl: forge.jwksUrl, appId: forge.appId });
  return { site, forge, remote, sleeps };
}

async function stopStack(stack: Stack | undefined): Promise<void> {
  await stack?.remote.close();
  await stack?.forge.close();
  await stack?.site.close();
}

describe('host simulator, Forge mode', () => {
  let stack: Stack;
  let site: HostSimulator;
  let forge: ForgeSimulator;
  let remote: StandInRemote;

  before(async () => {
    stack = await startStack();
    ({ site, forge, remote } = stack);
    const installed = await forge.install(remote.baseUrl, { installerAccountId: ADMIN });
    expect(installed?.delivered).to.equal(true);
  });

  after(() => stopStack(stack));

  beforeEach(() => {
    remote.reset();
    stack.sleeps.length = 0;
    for (const accountId of [ADMIN, USER]) site.directory.setActive(accountId, true);
  });

  describe('JWKS', () => {
    it('serves its signing key as a JWKS on the CDN, an origin apart from the site', async () => {
      expect(new URL(forge.jwksUrl).origin).to.not.equal(new URL(site.baseUrl).origin);
      const response = await fetch(forge.jwksUrl);
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^application\/json/);
      const { keys } = (await response.json()) as { keys: Array<Record<string, string>> };
      expect(keys).to.have.length(1);
      expect(keys[0]).to.include({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: forge.signingKeyId });
      expect(keys[0].n).to.be.a('string').with.length.above(300);
      expect(keys[0]).to.not.have.property('d');
    });

    it('signs with a new kid after a rotation and keeps the old key listed until retired', async () => {
      const before = forge.signingKeyId;
      const after = forge.rotateSigningKey();
      const kids = ((await (await fetch(forge.jwksUrl)).json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
      expect(kids).to.deep.equal([after, before]);
      await forge.invokeRemote(PANEL, { path: '/forge/sessions', method: 'POST' });
      const seen = only(remote.at('/forge/sessions'));
      expect(decodePart(String(seen.headers.authorization).slice(7), 0).kid).to.equal(after);
      expect(seen.verdict.ok).to.equal(true);
    });
  });

  describe('FITs', () => {
    it('signs RS256 under the JWKS kid, iss forge/invocation-token, aud the app id, living 25 seconds', () => {
      const fit = forge.fit(PANEL);
      expect(decodePart(fit, 0)).to.deep.equal({ alg: 'RS256', kid: forge.signingKeyId });
      const claims = decodePart(fit, 1);
      expect(claims).to.include({ iss: 'forge/invocation-token', aud: forge.appId });
      expect(forge.appId).to.match(/^ari:cloud:ecosystem::app\/[0-9a-f-]{36}$/);
      expect(claims.nbf).to.equal(claims.iat);
      expect(Number(claims.exp) - Number(claims.iat)).to.equal(25);
      expect(Math.abs(Number(claims.iat) - Math.floor(Date.now() / 1000))).to.be.at.most(2);
      expect(claims.jti).to.match(/^[0-9a-f]{40}$/);
      expect(forge.fit(PANEL)).to.not.equal(fit);
    });

    it('names the app, its installation on this site and the issue panel, with the user as principal', () => {
      const claims = forge.fitClaims(PANEL);
      const installationId = forge.installationId();
      expect(installationId).to.match(/^ari:cloud:ecosystem::installation\/[0-9a-f-]{36}$/);
      expect(claims.app).to.deep.include({
        id: forge.appId,
        version: '1',
        appVersion: '1.0.0',
        installationId,
        apiBaseUrl: forge.apiBaseUrl,
        installation: { id: installationId, contexts: [{ name: 'jira', apiBaseUrl: forge.apiBaseUrl, cloudId: site.cloudId }] },
        environment: { type: 'DEVELOPMENT', id: forge.environmentId },
        module: { type: 'jira:issuePanel', key: 'panelguard-issue-panel' },
      });
      expect(claims.app).to.not.have.property('license');
      expect(claims.principal).to.equal(USER);
      expect(claims.context).to.deep.include({ cloudId: site.cloudId, moduleKey: 'panelguard-issue-panel', siteUrl: site.baseUrl });
      expect(claims.context?.localId).to.match(/^ari:cloud:ecosystem::extension\//);
    });

    it("puts the issue and its project in the issue panel's extension, as the module reference documents", () => {
      const extension = forge.fitClaims(PANEL).context?.extension;
      expect(extension).to.deep.equal({
        type: 'jira:issuePanel',
        issue: { id: '10001', key: 'PG-1', type: 'Task', typeId: '10001' },
        project: { id: '10000', key: 'PG', type: 'software' },
        isNewToIssue: false,
        location: `${site.baseUrl}/forge/browse/PG-1?as=${encodeURIComponent(USER)}`,
      });
      expect(shapeOf(extension)).to.deep.equal({
        type: 'string',
        issue: { id: 'string', key: 'string', type: 'string', typeId: 'string' },
        project: { id: 'string', key: 'string', type: 'string' },
        isNewToIssue: 'boolean',
        location: 'string',
      });
    });

    it('gives admin and global pages an extension of their type and location only', () => {
      expect(forge.fitClaims(ADMIN_PAGE).context?.extension).to.deep.equal({
        type: 'jira:adminPage',
        location: `${site.baseUrl}/forge/apps/panelguard-admin-page?as=${encodeURIComponent(ADMIN)}`,
      });
      expect(forge.fitClaims(ADMIN_PAGE).app.module).to.deep.equal({ type: 'jira:adminPage', key: 'panelguard-admin-page' });
      expect(forge.fitClaims(MY_SESSIONS).context?.extension).to.include({ type: 'jira:globalPage' });
      expect(forge.fitClaims(MY_SESSIONS).app.module).to.deep.equal({ type: 'jira:globalPage', key: 'panelguard-my-sessions' });
    });

    it('refuses an issue panel call that names no issue, and a module the app does not have', () => {
      expect(() => forge.fit({ accountId: USER, moduleKey: 'panelguard-issue-panel' })).to.throw().with.property('code', 'issue_unknown');
      expect(() => forge.fit({ accountId: USER, moduleKey: 'nope' })).to.throw().with.property('code', 'module_not_found');
    });

    it('gives trigger deliveries a FIT without principal or context, module core:endpoint', () => {
      const claims = forge.eventFitClaims('avi:jira:deleted:user');
      expect(claims).to.not.have.property('principal');
      expect(claims).to.not.have.property('context');
      expect(claims.app.module).to.deep.equal({ type: 'core:endpoint', key: 'events-user-deleted' });
      expect(claims.app.installationId).to.equal(forge.installationId());
    });
  });

  describe('forged FITs, as a remote verifying with jose sees them', () => {
    async function verdictFor(fit: string): Promise<Seen['verdict']> {
      await fetch(`${remote.baseUrl}/probe`, { headers: { authorization: `Bearer ${fit}` } });
      return only(remote.at('/probe')).verdict;
    }

    it('accepts the genuine FIT', async () => {
      expect((await verdictFor(forge.fit(PANEL))).ok).to.equal(true);
    });

    it('carries another principal or installation in a validly signed token (the remote must compare them)', async () => {
      const verdict = await verdictFor(forge.fit(PANEL, { principal: ADMIN, installationId: 'ari:cloud:ecosystem::installation/00000000-0000-4000-8000-000000000000' }));
      expect(verdict.ok).to.equal(true);
      const claims = verdict.ok ? (verdict.claims as Record<string, any>) : {};
      expect(claims.principal).to.equal(ADMIN);
      expect(claims.app.installationId).to.equal('ari:cloud:ecosystem::installation/00000000-0000-4000-8000-000000000000');
      expect(claims.app.installation.id).to.equal(claims.app.installationId);
    });

    it('drops the principal when told to', () => {
      expect(decodePart(forge.fit(PANEL, { principal: null }), 1)).to.not.have.property('principal');
    });

    it('changes the module, the context module key and the extension', () => {
      const claims = decodePart(forge.fit(PANEL, { module: { type: 'jira:adminPage', key: 'panelguard-admin-page' }, moduleKey: 'panelguard-admin-page', extension: { type: 'jira:adminPage' } }), 1) as Record<string, any>;
      expect(claims.app.module).to.deep.equal({ type: 'jira:adminPage', key: 'panelguard-admin-page' });
      expect(claims.context.moduleKey).to.equal('panelguard-admin-page');
      expect(claims.context.extension).to.deep.equal({ type: 'jira:adminPage' });
    });

    const refusals: Array<[string, Parameters<ForgeSimulator['fit']>[1], string]> = [
      ['another audience', { aud: 'ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000000' }, 'ERR_JWT_CLAIM_VALIDATION_FAILED:aud'],
      ['another issuer', { iss: 'forge/context-token' }, 'ERR_JWT_CLAIM_VALIDATION_FAILED:iss'],
      ['an expired token', { expired: true }, 'ERR_JWT_EXPIRED'],
      ['a token not yet valid', { nbf: Math.floor(Date.now() / 1000) + 600 }, 'ERR_JWT_CLAIM_VALIDATION_FAILED:nbf'],
      ['a kid the JWKS does not list', { signing: 'unknown-kid' }, 'ERR_JWKS_NO_MATCHING_KEY'],
      ['a foreign key under the genuine kid', { signing: 'foreign-key' }, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
      ['the genuine key under RS512', { signing: 'rs512' }, 'ERR_JOSE_ALG_NOT_ALLOWED'],
      ['HS256 keyed with the public key', { signing: 'hs256-public-key' }, 'ERR_JOSE_ALG_NOT_ALLOWED'],
      ['no signature (alg none)', { signing: 'none' }, 'ERR_JOSE_ALG_NOT_ALLOWED'],
    ];
    for (const [what, forgery, code] of refusals) {
      it(`is refused for ${what}`, async () => {
        expect(await verdictFor(forge.fit(PANEL, forgery))).to.deep.equal({ ok: false, code });
      });
    }

    it('signs the forgeries the way they claim: HS256 over the public key PEM, and alg none with an empty signature', () => {
      expect(decodePart(forge.fit(PANEL, { signing: 'hs256-public-key' }), 0)).to.include({ alg: 'HS256', kid: forge.signingKeyId });
      const none = forge.fit(PANEL, { signing: 'none' });
      expect(decodePart(none, 0)).to.include({ alg: 'none' });
      expect(none.endsWith('.')).to.equal(true);
    });

    it('sends a forged FIT through invokeRemote, so refusals can be tested over HTTP', async () => {
      remote.script('/forge/sessions', { status: 401, json: { code: 'token_invalid' } });
      const failure = await forge.invokeRemote(PANEL, { path: '/forge/sessions', method: 'POST' }, { expired: true }).catch((error: unknown) => error);
      expect(failure).to.be.instanceOf(ForgeInvokeError).with.property('code', 'fit_rejected');
      expect(only(remote.at('/forge/sessions')).verdict).to.deep.equal({ ok: false, code: 'ERR_JWT_EXPIRED' });
    });
  });

  describe('invokeRemote', () => {
    it('sends the request to the remote with a fresh FIT, the caller headers and trace headers', async () => {
      remote.script('/api/issues/10001/notes', { status: 201, json: { id: 'n1' }, headers: { 'page-token-next': 'next-token' } });
      const answer = await forge.invokeRemote(PANEL, {
        path: '/api/issues/10001/notes',
        method: 'POST',
        headers: { 'X-Page-Token': 'page-token-1', Authorization: 'Bearer forged-by-the-page' },
        body: { text: 'hello' },
      });
      expect(answer.status).to.equal(201);
      expect(answer.body).to.deep.equal({ id: 'n1' });
      expect(answer.headers['page-token-next']).to.equal('next-token');
      expect(answer.headers['content-type']).to.match(/^application\/json/);

      const seen = only(remote.at('/api/issues/10001/notes'));
      expect(seen.method).to.equal('POST');
      expect(claimsOf(seen).principal).to.equal(USER);
      expect(seen.headers['x-page-token']).to.equal('page-token-1');
      expect(seen.headers['content-type']).to.equal('application/json');
      expect(seen.text).to.equal('{"text":"hello"}');
      // the issue panel's endpoint asks for it: the server names the notes' writers
      expect(seen.headers['x-forge-oauth-system']).to.equal(forge.systemToken());
      expect(seen.headers['x-b3-traceid']).to.match(/^[0-9a-f]{32}$/);
      expect(seen.headers['x-b3-spanid']).to.match(/^[0-9a-f]{16}$/);
    });

    it("adds the app system token to calls through an endpoint whose auth asks for it (the admin page's among them)", async () => {
      await forge.invokeRemote(ADMIN_PAGE, { path: '/forge/sessions', method: 'POST' });
      expect(only(remote.at('/forge/sessions')).headers['x-forge-oauth-system']).to.equal(forge.systemToken());
    });

    it('answers what @forge/bridge resolves: status, headers joined, body; non-2xx with JSON resolves too', async () => {
      remote.script('/api/me/sessions', { status: 403, json: { code: 'token_revoked' }, headers: { 'set-cookie': ['a=1', 'b=2'] } });
      const answer = await forge.invokeRemote(MY_SESSIONS, { path: '/api/me/sessions', method: 'GET' });
      expect(answer.status).to.equal(403);
      expect(answer.body).to.deep.equal({ code: 'token_revoked' });
      expect(answer.headers['set-cookie']).to.equal('a=1,b=2');
    });

    it('gives the bridge a 2xx as a payload and any other answer as an error, headers as lists', async () => {
      remote.script('/ok', { status: 200, json: { fine: true } });
      remote.script('/no', { status: 404, json: { code: 'not_found' } });
      const ok = await forge.bridgeInvoke(PANEL, { path: '/ok', method: 'GET', invokeType: 'ui-remote-fetch' });
      const no = await forge.bridgeInvoke(PANEL, { path: '/no', method: 'GET', invokeType: 'ui-remote-fetch' });
      expect(ok).to.deep.include({ success: true });
      expect(ok.success && ok.payload.body).to.deep.equal({ fine: true });
      expect(ok.success && ok.payload.headers['content-type']).to.be.an('array');
      expect(no.success).to.equal(false);
      expect(!no.success && no.error).to.deep.include({ status: 404, body: { code: 'not_found' } });
    });

    it('resolves a 204 without a body', async () => {
      remote.script('/empty', { status: 204 });
      const answer = await forge.invokeRemote(PANEL, { path: '/empty', method: 'DELETE' });
      expect(answer.status).to.equal(204);
      expect(answer).to.not.have.property('body');
    });

    const rejections: Array<[string, { status: number; json?: unknown; text?: string; contentType?: string; delayMs?: number }, string, string]> = [
      ['a 401, reserved for FIT refusals', { status: 401, json: { code: 'token_invalid' } }, 'fit_rejected', 'Remote could not verify the Forge Invocation Token'],
      ['a non-2xx that is not JSON', { status: 500, text: 'oops', contentType: 'text/html' }, 'invalid_content_type', 'Invalid response from remote - content-type header must be set to application/json and is currently: text/html; charset=utf-8. Status: 500.'],
      ['a non-2xx without a body', { status: 500 }, 'invalid_json', 'Invalid response from remote - cannot parse body as JSON. Status: 500.'],
      ['a 2xx body that does not parse', { status: 200, text: 'not json', contentType: 'application/json' }, 'invalid_json', 'Invalid response from remote - cannot parse body as JSON. Status: 200.'],
      ['a remote slower than the timeout', { status: 200, json: {}, delayMs: 600 }, 'timeout', 'Remote invocation timed out after 0.3 seconds'],
    ];
    for (const [what, answer, code, message] of rejections) {
      it(`rejects ${what} with the documented message`, async () => {
        remote.script('/fails', answer);
        const failure = await forge.invokeRemote(PANEL, { path: '/fails', method: 'GET' }).catch((error: unknown) => error);
        expect(failure).to.be.instanceOf(ForgeInvokeError);
        expect(failure).to.include({ code, message });
      });
    }

    it('rejects a remote that cannot be reached', async () => {
      const dead = await startStandInRemote({ jwksUrl: forge.jwksUrl, appId: forge.appId });
      const deadUrl = dead.baseUrl;
      await dead.close();
      await forge.uninstall();
      await forge.install(deadUrl).catch(() => null);
      try {
        const failure = await forge.invokeRemote(PANEL, { path: '/x', method: 'GET' }).catch((error: unknown) => error);
        expect(failure).to.include({ code: 'network_error', message: 'Invalid response from remote - remote network error' });
      } finally {
        await forge.uninstall();
        await forge.install(remote.baseUrl);
      }
    });

    it('refuses a path that leaves the remote, and a method Forge does not proxy', async () => {
      const away = await forge.invokeRemote(PANEL, { path: 'http://example.com/steal', method: 'GET' }).catch((error: unknown) => error);
      expect(away).to.include({ code: 'bad_request' });
      const head = await forge.bridgeInvoke(PANEL, { path: '/x', method: 'HEAD' }).catch((error: unknown) => error);
      expect(head).to.include({ code: 'bad_request' });
      expect(remote.seen).to.have.length(0);
    });
  });

  describe("the site's REST API at apiBaseUrl", () => {
    async function check(token: string, accountId?: string, cloudPath = forge.apiBaseUrl): Promise<{ status: number; body: any }> {
      const response = await fetch(`${cloudPath}/rest/api/3/permissions/check`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...(accountId === undefined ? {} : { accountId }), globalPermissions: ['ADMINISTER'] }),
      });
      return { status: response.status, body: await response.json() };
    }

    it('answers the bulk permission check from the directory for the system token the remote received', async () => {
      await forge.invokeRemote(ADMIN_PAGE, { path: '/forge/sessions', method: 'POST' });
      const token = String(only(remote.at('/forge/sessions')).headers['x-forge-oauth-system']);
      expect(await check(token, ADMIN)).to.deep.equal({ status: 200, body: { globalPermissions: ['ADMINISTER'], projectPermissions: [] } });
      expect((await check(token, USER)).body.globalPermissions).to.deep.equal([]);
      expect((await check(token)).body.globalPermissions).to.deep.equal([]);
    });

    it('tells the app a deactivated admin holds nothing', async () => {
      site.directory.setActive(ADMIN, false);
      expect((await check(forge.systemToken(), ADMIN)).body.globalPermissions).to.deep.equal([]);
    });

    it("answers project search for the projects asked for by id, with the site's project log, and refuses a token it never issued", async () => {
      site.issues.put(ISSUE);
      const search = (token: string, query: string) =>
        fetch(`${forge.apiBaseUrl}/rest/api/3/project/search?${query}`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
      const answered = await search(forge.systemToken(), `id=${ISSUE.projectId}&id=99999&maxResults=2`);
      expect(answered.status).to.equal(200);
      const page = (await answered.json()) as { values: Array<{ id: string; key: string; self: string }>; isLast: boolean };
      expect(page.values.map(({ id, key }) => ({ id, key }))).to.deep.equal([{ id: ISSUE.projectId, key: ISSUE.projectKey }]);
      expect(page.isLast).to.equal(true);
      expect(site.projectLookups.received.at(-1)).to.deep.equal([ISSUE.projectId, '99999']);
      expect((await search('forge-system.made-up', `id=${ISSUE.projectId}`)).status).to.equal(401);
    });

    it('refuses a token it never issued, another cloud, and an unknown user', async () => {
      expect((await check('forge-system.made-up', ADMIN)).status).to.equal(401);
      expect((await check(forge.systemToken(), ADMIN, `${site.baseUrl}/ex/jira/00000000-0000-4000-8000-000000000000`)).status).to.equal(404);
      expect((await check(forge.systemToken(), '557058:nobody')).status).to.equal(404);
    });
  });

  describe('events', () => {
    it('delivered avi:forge:installed:app to the installed route at install, as the life-cycle reference shapes it', async () => {
      const other = await startStack();
      try {
        await other.forge.install(other.remote.baseUrl, { installerAccountId: ADMIN });
        const seen = only(other.remote.at('/forge/lifecycle/installed'));
        expect(seen.method).to.equal('POST');
        const claims = claimsOf(seen) as Record<string, any>;
        expect(claims).to.not.have.property('principal');
        expect(claims.app.module).to.deep.equal({ type: 'core:endpoint', key: 'lifecycle-installed' });
        const installationUuid = String(other.forge.installationId()).split('/').pop();
        expect(seen.body).to.deep.equal({
          payload: {
            id: installationUuid,
            installerAccountId: ADMIN,
            app: { id: other.forge.appUuid, version: '1.0.0' },
            environment: { id: other.forge.environmentUuid },
          },
        });
        expect(seen.headers).to.not.have.property('x-forge-oauth-system');
      } finally {
        await stopStack(other);
      }
    });

    it('removes a user and sends avi:jira:deleted:user to the user-deleted route', async () => {
      const delivery = await forge.removeUser(USER, { timestamp: 1700000000123 });
      expect(delivery).to.include({ delivered: true, status: 200, endpoint: 'events-user-deleted' });
      expect(site.directory.get(USER)?.active).to.equal(false);
      const seen = only(remote.at('/forge/events/user-deleted'));
      expect(claimsOf(seen)).to.not.have.property('principal');
      expect(seen.body).to.deep.equal({
        payload: {
          eventType: 'avi:jira:deleted:user',
          selfGenerated: false,
          timestamp: '1700000000123',
          user: { accountId: USER, accountType: 'atlassian', displayName: 'Uma User', active: false },
        },
      });
    });

    it('sends avi:jira:updated:user with active false on deactivation and true on reactivation', async () => {
      await forge.deactivateUser(USER);
      await forge.reactivateUser(USER);
      const [deactivated, reactivated] = remote.at('/forge/events/user-updated').map((seen) => (seen.body as any).payload);
      expect(deactivated).to.deep.include({ eventType: 'avi:jira:updated:user' });
      expect(deactivated.user).to.include({ accountId: USER, active: false });
      expect(reactivated.user).to.include({ accountId: USER, active: true });
    });

    it('sends avi:jira:created:user when a user joins', async () => {
      await forge.createUser({ accountId: '557058:new', displayName: 'Nia New' });
      const payload = (only(remote.at('/forge/events/user-created')).body as any).payload;
      expect(payload).to.deep.include({ eventType: 'avi:jira:created:user' });
      expect(payload.user).to.include({ accountId: '557058:new', active: true });
    });

    it('sends avi:jira:deleted:issue with the issue and its project', async () => {
      site.issues.put(ISSUE);
      await forge.deleteIssue(ISSUE, { actor: ADMIN, timestamp: 5 });
      expect(site.issues.get(ISSUE.issueKey)).to.equal(undefined);
      expect((only(remote.at('/forge/events/issue-deleted')).body as any).payload).to.deep.equal({
        eventType: 'avi:jira:deleted:issue',
        selfGenerated: false,
        timestamp: '5',
        issue: {
          id: '10001',
          key: 'PG-1',
          fields: { issuetype: { id: '10001', name: 'Task' }, project: { id: '10000', key: 'PG', name: 'PG', projectTypeKey: 'software' } },
        },
        atlassianId: ADMIN,
      });
    });

    it('sends avi:jira:deleted:project with the project id as a string', async () => {
      await forge.deleteProject({ id: '10000', key: 'PG' }, { timestamp: 6 });
      expect((only(remote.at('/forge/events/project-deleted')).body as any).payload).to.deep.equal({
        eventType: 'avi:jira:deleted:project',
        selfGenerated: false,
        timestamp: '6',
        project: { id: '10000', key: 'PG', name: 'PG', projectTypeKey: 'software' },
      });
    });

    it('retries a failed delivery after 60 s with retryContext and a fresh FIT, until a 2xx', async () => {
      remote.script('/forge/events/user-deleted', { status: 500, json: {} }, { status: 503, json: {} }, { status: 204 });
      const delivery = await forge.removeUser(USER);
      expect(delivery?.delivered).to.equal(true);
      expect(delivery?.attempts.map((attempt) => [attempt.retryCount, attempt.status, attempt.failure])).to.deep.equal([
        [0, 500, 'INVALID_REMOTE_INVOCATION_ERROR'],
        [1, 503, 'INVALID_REMOTE_INVOCATION_ERROR'],
        [2, 204, undefined],
      ]);
      expect(stack.sleeps).to.deep.equal([60_000, 60_000]);
      const bodies = remote.at('/forge/events/user-deleted').map((seen) => (seen.body as any).payload);
      expect(bodies[0]).to.not.have.property('retryContext');
      expect(bodies[1].retryContext).to.deep.equal({ retryData: null, retryCount: 1, retryReason: 'INVALID_REMOTE_INVOCATION_ERROR' });
      expect(bodies[2].retryContext).to.deep.equal({ retryData: null, retryCount: 2, retryReason: 'INVALID_REMOTE_INVOCATION_ERROR' });
      const jtis = remote.at('/forge/events/user-deleted').map((seen) => claimsOf(seen).jti);
      expect(new Set(jtis).size).to.equal(3);
    });

    it('gives up after four retries', async () => {
      remote.script('/forge/events/user-deleted', { status: 500, json: {} });
      const delivery = await forge.removeUser(USER);
      expect(delivery).to.include({ delivered: false, status: 500 });
      expect(delivery?.attempts).to.have.length(5);
      expect(remote.at('/forge/events/user-deleted')).to.have.length(5);
      expect((remote.at('/forge/events/user-deleted')[4].body as any).payload.retryContext.retryCount).to.equal(4);
    });

    it('names a 401 INVALID_FORGE_INVOCATION_TOKEN and a slow answer TIMEOUT_ERROR', async () => {
      remote.script('/forge/events/user-updated', { status: 401, json: {} }, { status: 200, json: {}, delayMs: 600 }, { status: 200, json: {} });
      const delivery = await forge.deactivateUser(USER);
      expect(delivery?.attempts.map((attempt) => attempt.failure)).to.deep.equal(['INVALID_FORGE_INVOCATION_TOKEN', 'TIMEOUT_ERROR', undefined]);
      expect(delivery?.attempts[1].status).to.equal(null);
      const last = remote.at('/forge/events/user-updated')[2].body as any;
      expect(last.payload.retryContext).to.deep.equal({ retryData: null, retryCount: 2, retryReason: 'TIMEOUT_ERROR' });
    });

    it('delivers an event with a forged FIT when asked, once with no retries', async () => {
      const delivery = await forge.sendEvent('avi:jira:deleted:user', { eventType: 'avi:jira:deleted:user' }, { forgery: { principal: USER, signing: 'foreign-key' }, policy: { maxRetries: 0 } });
      expect(delivery).to.include({ delivered: false, status: 401 });
      const seen = only(remote.at('/forge/events/user-deleted'));
      expect(seen.verdict).to.deep.equal({ ok: false, code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
      expect(decodePart(String(seen.headers.authorization).slice(7), 1).principal).to.equal(USER);
    });

    it('refuses an event no trigger subscribes to', async () => {
      const failure = await forge.sendEvent('avi:jira:created:issue', {}).catch((error: unknown) => error);
      expect(failure).to.have.property('code', 'trigger_not_declared');
    });
  });

  describe('uninstall', () => {
    it('calls preUninstall once whatever it answers, ends the installation and its system token, and reinstalls under a new id', async () => {
      const other = await startStack();
      try {
        await other.forge.install(other.remote.baseUrl);
        const firstId = other.forge.installationId();
        const token = other.forge.systemToken();
        other.remote.script('/forge/lifecycle/uninstalled', { status: 500, json: {} });
        const delivery = await other.forge.uninstall();
        expect(delivery).to.include({ delivered: false, status: 500, event: 'core:preUninstall' });
        expect(delivery?.attempts).to.have.length(1);
        const seen = only(other.remote.at('/forge/lifecycle/uninstalled'));
        expect(claimsOf(seen)).to.not.have.property('principal');
        expect((claimsOf(seen) as any).app.installationId).to.equal(firstId);
        expect(seen.body).to.have.nested.property('payload.context.cloudId', other.site.cloudId);
        expect(seen.body).to.have.nested.property('payload.context.moduleKey', 'on-app-uninstalling');
        expect(seen.body).to.have.nested.property('payload.contextToken').that.is.a('string');

        expect(other.forge.installationId()).to.equal(undefined);
        expect(() => other.forge.fit(PANEL)).to.throw().with.property('code', 'not_installed');
        const refused = await fetch(`${other.forge.apiBaseUrl}/rest/api/3/permissions/check`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ accountId: ADMIN, globalPermissions: ['ADMINISTER'] }),
        });
        expect(refused.status).to.equal(401);
        expect(await other.forge.removeUser(USER)).to.equal(null);

        await other.forge.install(other.remote.baseUrl);
        expect(other.forge.installationId()).to.match(/^ari:cloud:ecosystem::installation\//).and.not.equal(firstId);
      } finally {
        await stopStack(other);
      }
    });

    it('refuses a second install while installed', async () => {
      const failure = await forge.install(remote.baseUrl).catch((error: unknown) => error);
      expect(failure).to.have.property('code', 'already_installed');
    });
  });

  describe('host pages and the bridge channel', () => {
    async function page(url: string): Promise<{ status: number; html: string }> {
      const response = await fetch(url);
      return { status: response.status, html: await response.text() };
    }

    function viewIdIn(html: string): string {
      const match = /data-forge-view="([^"]+)"/.exec(html);
      if (match === null) throw new Error('no Forge frame on the page');
      return match[1];
    }

    async function bridge(viewId: string, name: string, payload?: unknown): Promise<any> {
      const response = await fetch(`${site.baseUrl}/forge/bridge/${viewId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, payload }),
      });
      return response.json();
    }

    it('embeds the issue panel from the CDN origin in iframe#panel, for the user the page is shown to', async () => {
      const { status, html } = await page(forge.hostPageUrl(USER, 'panelguard-issue-panel', ISSUE));
      expect(status).to.equal(200);
      expect(html).to.match(new RegExp(`<iframe id="panel" data-module-key="panelguard-issue-panel" data-forge-view="[^"]+" src="${forge.cdnUrl}/${forge.appUuid}/${forge.environmentUuid}/issue-panel/index.html"`));
      expect(html).to.include('data-account-id="557058:uma"');
    });

    it('answers getContext with the view context of that page', async () => {
      const url = forge.hostPageUrl(USER, 'panelguard-issue-panel', ISSUE);
      const answer = await bridge(viewIdIn((await page(url)).html), 'getContext');
      expect(answer.ok).to.equal(true);
      expect(answer.value).to.deep.equal({
        accountId: USER,
        cloudId: site.cloudId,
        extension: {
          type: 'jira:issuePanel',
          issue: { id: '10001', key: 'PG-1', type: 'Task', typeId: '10001' },
          project: { id: '10000', key: 'PG', type: 'software' },
          isNewToIssue: false,
          location: url,
        },
        localId: forge.fitClaims(PANEL).context?.localId,
        locale: 'en-US',
        moduleKey: 'panelguard-issue-panel',
        siteUrl: site.baseUrl,
        timezone: 'UTC',
        environmentId: forge.environmentUuid,
        environmentType: 'DEVELOPMENT',
      });
    });

    it("forwards invoke to the remote with a FIT for the page's user, module and issue", async () => {
      const viewId = viewIdIn((await page(forge.hostPageUrl(USER, 'panelguard-issue-panel', ISSUE))).html);
      const answer = await bridge(viewId, 'invoke', { path: '/forge/sessions', method: 'POST', body: {}, headers: { 'X-Page-Token': 't' }, invokeType: 'ui-remote-fetch' });
      expect(answer).to.deep.include({ ok: true });
      expect(answer.value).to.deep.include({ success: true });
      const claims = claimsOf(only(remote.at('/forge/sessions'))) as any;
      expect(claims.principal).to.equal(USER);
      expect(claims.context.extension.issue.id).to.equal('10001');
    });

    it('answers a failed invoke, an unknown call and an unknown page with an error', async () => {
      const viewId = viewIdIn((await page(forge.hostPageUrl(USER, 'panelguard-my-sessions'))).html);
      remote.script('/api/me/sessions', { status: 401, json: {} });
      expect(await bridge(viewId, 'invoke', { path: '/api/me/sessions', method: 'GET', invokeType: 'ui-remote-fetch' })).to.deep.equal({
        ok: false,
        error: 'Remote could not verify the Forge Invocation Token',
      });
      expect(await bridge(viewId, 'invoke', { functionKey: 'resolver', payload: {} })).to.have.property('ok', false);
      expect(await bridge(viewId, 'showFlag', { id: 'x' })).to.deep.equal({ ok: false, error: 'The host simulator does not implement the bridge call showFlag.' });
      expect(await bridge('no-such-view', 'getContext')).to.deep.equal({ ok: false, error: 'This page is no longer open; reload it.' });
      expect(forge.bridgeCalls().slice(-3).map((call) => call.name)).to.deep.equal(['invoke', 'invoke', 'showFlag']);
    });

    it('shows the admin page to site admins only, and the global page to anyone', async () => {
      expect((await page(forge.hostPageUrl(ADMIN, 'panelguard-admin-page'))).status).to.equal(200);
      expect((await page(forge.hostPageUrl(USER, 'panelguard-admin-page'))).status).to.equal(403);
      expect((await page(forge.hostPageUrl(USER, 'panelguard-my-sessions'))).status).to.equal(200);
    });

    it('refuses the page to an inactive user', async () => {
      site.directory.setActive(USER, false);
      expect((await page(forge.hostPageUrl(USER, 'panelguard-my-sessions'))).status).to.equal(403);
    });

    it('removes the user from the page button and tells the app', async () => {
      const response = await fetch(`${site.baseUrl}/forge/admin/users/${encodeURIComponent(USER)}/remove`, { method: 'POST', headers: { accept: 'application/json' } });
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.include({ accountId: USER, active: false, appStatus: 200 });
      expect(remote.at('/forge/events/user-deleted')).to.have.length(1);
    });
  });

  describe('the Custom UI CDN', () => {
    let dir: string;
    let cdn: { site: HostSimulator; forge: ForgeSimulator };

    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'forge-cdn-'));
      mkdirSync(path.join(dir, 'assets'));
      writeFileSync(path.join(dir, 'index.html'), '<!doctype html><html><head><title>t</title><script src="./assets/app.js"></script></head><body></body></html>');
      writeFileSync(path.join(dir, 'assets', 'app.js'), 'window.loaded = true;');
      writeFileSync(path.join(os.tmpdir(), 'forge-cdn-secret.txt'), 'secret');
      const cdnSite = await startHostSimulator();
      cdn = { site: cdnSite, forge: await startForgeSimulator(cdnSite, { layout: CONTRACT_LAYOUT, resources: { 'issue-panel': dir } }) };
    });

    after(async () => {
      await cdn.forge.close();
      await cdn.site.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(path.join(os.tmpdir(), 'forge-cdn-secret.txt'), { force: true });
    });

    const resource = (rest: string) => `${cdn.forge.cdnUrl}/${cdn.forge.appUuid}/${cdn.forge.environmentUuid}/issue-panel${rest}`;

    it('serves index.html with the bridge script first in head, under Forge-like CSP framed only by the site', async () => {
      const response = await fetch(resource('/index.html'));
      expect(response.status).to.equal(200);
      expect(await response.text()).to.match(/^<!doctype html><html><head><script src="\/__forge\/bridge.js"><\/script><title>/);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).to.include("script-src 'self'");
      expect(csp).to.include("connect-src 'self'");
      expect(csp).to.include(`frame-ancestors ${new URL(cdn.site.baseUrl).origin}`);
    });

    it('serves the bridge script, bound to the site origin', async () => {
      const response = await fetch(`${cdn.forge.cdnUrl}/__forge/bridge.js`);
      expect(response.headers.get('content-type')).to.match(/javascript/);
      const script = await response.text();
      expect(script).to.include(JSON.stringify(new URL(cdn.site.baseUrl).origin));
      expect(script).to.include('globalThis.__bridge');
    });

    it("serves the resource's assets and nothing outside it", async () => {
      expect(await (await fetch(resource('/assets/app.js'))).text()).to.equal('window.loaded = true;');
      expect((await fetch(resource('/../forge-cdn-secret.txt'))).status).to.equal(404);
      expect((await fetch(resource('/%2e%2e/%2e%2e/forge-cdn-secret.txt'))).status).to.equal(404);
      expect((await fetch(`${cdn.forge.cdnUrl}/${cdn.forge.appUuid}/${cdn.forge.environmentUuid}/no-such-resource/index.html`)).status).to.equal(404);
    });
  });
});

describe('host simulator, Forge mode: the documented FIT example', () => {
  let stack: Stack;

  before(async () => {
    // a paid production app's FIT carries a license: give the simulator one so every documented claim has a counterpart
    stack = await startStack({ license: DOCUMENTED_FIT.app.license as FitLicense });
    await stack.forge.install(stack.remote.baseUrl);
  });

  after(() => stopStack(stack));

  it('mints, for an equivalent call, the claims of the documented example with the same names and value types', () => {
    const minted = stack.forge.fitClaims(PANEL) as unknown as Record<string, any>;
    const expected = structuredClone(DOCUMENTED_FIT) as Record<string, any>;
    // the documented differences of an equivalent call: a Jira site (one installation context, shaped like the
    // example's site context), a Jira module's extension (checked against the module reference above), and
    // commercial cloud rather than Isolated Cloud (no icLabel)
    expected.app.installation.contexts = [expected.app.installation.contexts[0]];
    delete expected.icLabel;
    const extension = minted.context.extension;
    minted.context.extension = expected.context.extension;
    expect(shapeOf(minted)).to.deep.equal(shapeOf(expected));
    expect(extension.type).to.equal('jira:issuePanel');
  });

  it('keeps the relations the example shows: aud is app.id, installation.id is installationId, nbf is iat, 25 s to exp', () => {
    const minted = stack.forge.fitClaims(PANEL);
    for (const claims of [DOCUMENTED_FIT, minted]) {
      expect(claims.aud).to.equal(claims.app.id);
      expect(claims.app.installation.id).to.equal(claims.app.installationId);
      expect(claims.context?.moduleKey).to.equal(claims.app.module.key);
      expect(claims.nbf).to.equal(claims.iat);
      expect(claims.exp - claims.iat).to.equal(25);
      expect(claims.jti).to.match(/^[0-9a-f]{40}$/);
    }
  });
});

describe('host simulator, Forge mode: the app layout', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'forge-manifest-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the committed forge/manifest.yml as the constant the simulator falls back on, its app id left to the simulator', async () => {
    const manifestPath = path.join(PROJECT_ROOT, 'forge', 'manifest.yml');
    const layout = await loadForgeLayout(path.join(PROJECT_ROOT, 'forge'));
    expect(layout.source).to.deep.equal({ kind: 'manifest', path: manifestPath });
    expect(layout.appId).to.equal(undefined);
    expect({ ...layout, source: CONTRACT_LAYOUT.source, appId: undefined }).to.deep.equal({ ...CONTRACT_LAYOUT, appId: undefined });
  });

  it('uses the contract of docs/FORGE.md when there is no manifest', async () => {
    const layout = await loadForgeLayout(dir);
    expect(layout.source).to.deep.equal({ kind: 'constant' });
    expect(layout.uiModules.map((module) => [module.key, module.type])).to.deep.equal([
      ['panelguard-issue-panel', 'jira:issuePanel'],
      ['panelguard-admin-page', 'jira:adminPage'],
      ['panelguard-my-sessions', 'jira:globalPage'],
    ]);
  });

  it('reads modules, endpoints, routes, triggers, preUninstall, resources and content permissions from manifest.yml', async () => {
    writeFileSync(
      path.join(dir, 'manifest.yml'),
      `app:
  id: ari:cloud:ecosystem::app/11111111-2222-4333-8444-555555555555
  runtime:
    name: nodejs22.x
modules:
  jira:issuePanel:
    - key: panelguard-issue-panel
      resource: panel
      title: PanelGuard
      resolver:
        endpoint: ui-remote
  jira:globalPage:
    - key: panelguard-my-sessions
      resource: sessions
      title: My sessions
      resolver:
        endpoint: ui-remote
  endpoint:
    - key: ui-remote
      remote: panelguard
      auth:
        appSystemToken:
          enabled: true
    - key: user-deleted
      remote: panelguard
      route:
        path: /forge/events/user-deleted
    - key: uninstalled
      remote: panelguard
      route:
        path: /forge/lifecycle/uninstalled
  trigger:
    - key: on-user-deleted
      endpoint: user-deleted
      events:
        - avi:jira:deleted:user
  preUninstall:
    - key: pre-uninstall
      endpoint: uninstalled
resources:
  - key: panel
    path: static/panel/build
  - key: sessions
    path: static/sessions/build
remotes:
  - key: panelguard
    baseUrl: https://panelguard.example.com
permissions:
  scopes:
    - read:app-system-token
  content:
    styles:
      - unsafe-inline
  external:
    fetch:
      client:
        - address: https://cdn.example.com
`,
    );
    const layout = await loadForgeLayout(dir);
    expect(layout.source).to.deep.equal({ kind: 'manifest', path: path.join(dir, 'manifest.yml') });
    expect(layout.appId).to.equal('ari:cloud:ecosystem::app/11111111-2222-4333-8444-555555555555');
    expect(layout.uiModules).to.deep.equal([
      { key: 'panelguard-issue-panel', type: 'jira:issuePanel', resource: 'panel', endpoint: 'ui-remote', title: 'PanelGuard' },
      { key: 'panelguard-my-sessions', type: 'jira:globalPage', resource: 'sessions', endpoint: 'ui-remote', title: 'My sessions' },
    ]);
    expect(layout.endpoints).to.deep.equal([
      { key: 'ui-remote', appSystemToken: true },
      { key: 'user-deleted', routePath: '/forge/events/user-deleted', appSystemToken: false },
      { key: 'uninstalled', routePath: '/forge/lifecycle/uninstalled', appSystemToken: false },
    ]);
    expect(layout.triggers).to.deep.equal([{ key: 'on-user-deleted', endpoint: 'user-deleted', events: ['avi:jira:deleted:user'] }]);
    expect(layout.preUninstall).to.deep.equal({ key: 'pre-uninstall', endpoint: 'uninstalled' });
    expect(layout.resources).to.deep.equal({ panel: 'static/panel/build', sessions: 'static/sessions/build' });
    expect(layout.permissions).to.deep.equal({ scripts: [], styles: ['unsafe-inline'], fetchClient: ['https://cdn.example.com'], images: [] });
  });

  it('refuses a manifest whose UI module names no resource', async () => {
    writeFileSync(path.join(dir, 'manifest.yml'), 'modules:\n  jira:issuePanel:\n    - key: p\n      title: P\n');
    const failure = await loadForgeLayout(dir).catch((error: unknown) => error);
    expect(failure).to.have.property('code', 'manifest_invalid');
  });
});
