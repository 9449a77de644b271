import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request } from 'express';
import { expect } from 'chai';
import {
  AsymmetricAlgorithm,
  SymmetricAlgorithm,
  createQueryStringHash,
  decodeAsymmetric,
  decodeSymmetric,
  encodeSymmetric,
  fromExpressRequest,
  fromMethodAndUrl,
  getKeyId,
} from 'atlassian-jwt';
import { HostSimulatorError, startHostSimulator, type HostSimulator, type IssueContext } from '../../src/host-simulator';

/** What the fake app saw: one row per request that reached it. */
interface Received {
  path: string;
  body: Record<string, unknown>;
  claims: Record<string, unknown> | null;
  alg: string | null;
  /** Why the app refused the request, or null when it accepted it. */
  refusal: string | null;
}

interface FakeApp {
  baseUrl: string;
  received: Received[];
  sharedSecret(): string | undefined;
  close(): Promise<void>;
}

const ISSUE: IssueContext = { issueId: '10001', issueKey: 'PG-1', projectId: '10000', projectKey: 'PG' };

function decodeHeader(token: string): { alg?: string; kid?: string } {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as { alg?: string; kid?: string };
}

function bearerOf(req: Request): string {
  const header = req.get('authorization') ?? '';
  return header.startsWith('JWT ') ? header.slice(4) : typeof req.query.jwt === 'string' ? req.query.jwt : '';
}

/**
 * A tiny Connect app that checks what arrives as ACE would: signed installs
 * against the key server, HS256 page and webhook JWTs against the sharedSecret
 * it was given, and the qsh of every request.
 */
async function startFakeApp(keysUrl: () => string, prefix = ''): Promise<FakeApp> {
  const app = express();
  const router = express.Router();
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`;
  const received: Received[] = [];
  let sharedSecret: string | undefined;

  const descriptor = {
    key: 'panelguard',
    name: 'PanelGuard',
    baseUrl,
    authentication: { type: 'jwt' },
    apiMigrations: { 'signed-install': true },
    scopes: ['READ', 'ACT_AS_USER'],
    lifecycle: { installed: '/installed', uninstalled: '/uninstalled', enabled: '/enabled', disabled: '/disabled' },
    modules: {
      webPanels: [
        {
          key: 'issue-notes',
          location: 'atlassian.jira.view.issue.right.context',
          name: { value: 'Notes' },
          url: '/panels/issue-notes?issueId={issue.id}&issueKey={issue.key}&projectId={project.id}',
        },
      ],
      generalPages: [{ key: 'my-sessions', name: { value: 'My sessions' }, url: '/pages/my-sessions' }],
      adminPages: [{ key: 'admin', name: { value: 'PanelGuard' }, url: '/pages/admin' }],
      webhooks: [
        { event: 'user_deleted', url: '/webhooks/user-deleted' },
        { event: 'user_updated', url: '/webhooks/user-updated' },
        { event: 'user_created', url: '/webhooks/user-created' },
        { event: 'jira:issue_deleted', url: '/webhooks/issue-deleted' },
        { event: 'project_deleted', url: '/webhooks/project-deleted' },
      ],
    },
  };

  async function checkAsymmetric(req: Request): Promise<{ claims: Record<string, unknown> | null; refusal: string | null }> {
    const token = bearerOf(req);
    const keyResponse = await fetch(`${keysUrl()}/${String(getKeyId(token))}`);
    if (keyResponse.status !== 200) return { claims: null, refusal: 'key_unknown' };
    const publicKey = await keyResponse.text();
    let claims: Record<string, unknown>;
    try {
      claims = decodeAsymmetric(token, publicKey, AsymmetricAlgorithm.RS256) as Record<string, unknown>;
    } catch {
      return { claims: null, refusal: 'signature' };
    }
    const aud = claims.aud as string[] | undefined;
    if (aud?.[0] !== baseUrl) return { claims, refusal: 'aud' };
    if (claims.qsh !== createQueryStringHash(fromExpressRequest(req), false, baseUrl)) return { claims, refusal: 'qsh' };
    if (claims.iss !== req.body.clientKey) return { claims, refusal: 'iss' };
    return { claims, refusal: null };
  }

  function checkSymmetric(req: Request): { claims: Record<string, unknown> | null; refusal: string | null } {
    const token = bearerOf(req);
    if (sharedSecret === undefined) return { claims: null, refusal: 'not_installed' };
    let claims: Record<string, unknown>;
    try {
      claims = decodeSymmetric(token, sharedSecret, SymmetricAlgorithm.HS256) as Record<string, unknown>;
    } catch {
      return { claims: null, refusal: 'signature' };
    }
    if (claims.qsh !== createQueryStringHash(fromExpressRequest(req), false, baseUrl)) return { claims, refusal: 'qsh' };
    if (typeof claims.exp !== 'number' || claims.exp <= Math.floor(Date.now() / 1000)) return { claims, refusal: 'expired' };
    return { claims, refusal: null };
  }

  router.use(express.json());
  router.get('/atlassian-connect.json', (_req, res) => res.json(descriptor));
  router.post(['/installed', '/uninstalled'], async (req, res) => {
    const check = await checkAsymmetric(req);
    received.push({ path: req.path, body: req.body, alg: decodeHeader(bearerOf(req)).alg ?? null, ...check });
    if (check.refusal !== null) return void res.status(401).end();
    if (req.path === '/installed') sharedSecret = req.body.sharedSecret as string;
    res.status(204).end();
  });
  router.post(['/enabled', '/disabled', '/webhooks/:name'], (req, res) => {
    const check = checkSymmetric(req);
    received.push({ path: req.path, body: req.body, alg: decodeHeader(bearerOf(req)).alg ?? null, ...check });
    res.status(check.refusal === null ? 204 : 401).end();
  });
  router.get(['/panels/issue-notes', '/pages/my-sessions', '/pages/admin'], (req, res) => {
    const check = checkSymmetric(req);
    received.push({ path: req.path, body: {}, alg: decodeHeader(bearerOf(req)).alg ?? null, ...check });
    if (check.refusal !== null) return void res.status(401).json({ refusal: check.refusal });
    res.json({ query: req.query, claims: check.claims });
  });
  app.use(prefix === '' ? '/' : prefix, router);

  return {
    baseUrl,
    received,
    sharedSecret: () => sharedSecret,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A JWT the app signs for a call to Jira, built exactly as ACE's host client builds it. */
function appJwt(sim: HostSimulator, sharedSecret: string, method: string, pathWithQuery: string, overrides: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: 'panelguard',
    iat: now,
    exp: now + 180,
    qsh: createQueryStringHash(fromMethodAndUrl(method, `${sim.baseUrl}${pathWithQuery}`)),
    aud: [sim.clientKey],
    ...overrides,
  };
  return encodeSymmetric(claims, sharedSecret, SymmetricAlgorithm.HS256);
}

function lastAt(app: FakeApp, path: string): Received {
  const found = [...app.received].reverse().find((r) => r.path === path);
  if (found === undefined) throw new Error(`nothing reached ${path}`);
  return found;
}

describe('host simulator', () => {
  let sim: HostSimulator;
  let app: FakeApp;

  before(async () => {
    sim = await startHostSimulator({ signingKeyId: 'kid-test-1' });
    app = await startFakeApp(() => sim.keysUrl);
    sim.directory.add({ accountId: 'admin-1', displayName: 'Ada Admin', siteAdmin: true });
    sim.directory.add({ accountId: 'user-1', displayName: 'Uma User' });
    const response = await sim.install(app.baseUrl);
    expect(response.status).to.equal(204);
  });

  after(async () => {
    await sim.close();
    await app.close();
  });

  describe('install-key server', () => {
    it('serves the public key of its kid as text/plain PEM', async () => {
      const response = await fetch(`${sim.keysUrl}/kid-test-1`);
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^text\/plain/);
      expect(await response.text()).to.match(/^-----BEGIN PUBLIC KEY-----/);
    });

    it('answers 404 for a kid it does not know', async () => {
      expect((await fetch(`${sim.keysUrl}/someone-else`)).status).to.equal(404);
    });
  });

  describe('install', () => {
    it('signs installed with RS256 under its kid, iss the clientKey and aud the descriptor baseUrl', () => {
      const installed = app.received.find((r) => r.path === '/installed');
      expect(installed?.refusal).to.equal(null);
      expect(installed?.alg).to.equal('RS256');
      expect(installed?.claims?.iss).to.equal(sim.clientKey);
      expect(installed?.claims?.aud).to.deep.equal([app.baseUrl]);
      expect(installed?.claims?.exp).to.be.greaterThan(installed?.claims?.iat as number);
    });

    it('sends the Connect install payload with a sharedSecret', () => {
      const body = app.received.find((r) => r.path === '/installed')?.body ?? {};
      expect(body).to.include({ key: 'panelguard', clientKey: sim.clientKey, baseUrl: sim.baseUrl, productType: 'jira', eventType: 'installed' });
      expect(body.sharedSecret).to.be.a('string').with.length.greaterThan(30);
      expect(body).to.have.keys(
        'key', 'clientKey', 'sharedSecret', 'oauthClientId', 'serverVersion', 'pluginsVersion', 'baseUrl', 'displayUrl', 'productType', 'description', 'eventType', 'cloudId',
      );
    });

    it('follows installed with enabled, signed with the new sharedSecret', () => {
      const enabled = lastAt(app, '/enabled');
      expect(enabled.alg).to.equal('HS256');
      expect(enabled.refusal).to.equal(null);
      expect(enabled.body).to.include({ eventType: 'enabled', clientKey: sim.clientKey });
      expect(enabled.body).not.to.have.property('sharedSecret');
    });

    it('forges an install signed by a key the server does not vouch for, under the genuine kid', async () => {
      const secretBefore = app.sharedSecret();
      const response = await sim.forgedInstall(app.baseUrl);
      expect(response.status).to.equal(401);
      expect(lastAt(app, '/installed').refusal).to.equal('signature');
      expect(app.sharedSecret()).to.equal(secretBefore);
    });

    it('forges an install under a kid the key server does not know', async () => {
      const response = await sim.forgedInstall(app.baseUrl, { forgery: 'unknown-kid' });
      expect(response.status).to.equal(401);
      expect(lastAt(app, '/installed').refusal).to.equal('key_unknown');
    });

    it('keeps its own sharedSecret after a forged install', async () => {
      await sim.forgedInstall(app.baseUrl);
      const response = await fetch(sim.panelUrl('issue-notes', ISSUE, 'user-1'));
      expect(response.status).to.equal(200);
    });
  });

  describe('page loads', () => {
    it('substitutes the issue context into the panel URL and adds the iframe parameters', async () => {
      const url = new URL(sim.panelUrl('issue-notes', ISSUE, 'user-1'));
      expect(url.origin + url.pathname).to.equal(`${app.baseUrl}/panels/issue-notes`);
      expect(url.searchParams.get('issueId')).to.equal('10001');
      expect(url.searchParams.get('issueKey')).to.equal('PG-1');
      expect(url.searchParams.get('projectId')).to.equal('10000');
      expect(url.searchParams.get('xdm_e')).to.equal(sim.baseUrl);
      expect(url.searchParams.get('lic')).to.equal('none');
      expect(url.searchParams.get('cp')).to.equal('');
      expect([...url.searchParams.keys()].at(-1)).to.equal('jwt');
    });

    it('signs the panel URL with HS256 and the sharedSecret, qsh over the URL without jwt', async () => {
      const response = await fetch(sim.panelUrl('issue-notes', ISSUE, 'user-1'));
      expect(response.status).to.equal(200);
      const { claims } = (await response.json()) as { claims: Record<string, unknown> };
      expect(claims).to.include({ iss: sim.clientKey, sub: 'user-1' });
      expect(claims.context).to.deep.equal({ user: { accountId: 'user-1' } });
      expect((claims.exp as number) - (claims.iat as number)).to.equal(180);
    });

    it('signs a URL whose query was tampered with so that the qsh no longer matches', async () => {
      const url = new URL(sim.panelUrl('issue-notes', ISSUE, 'user-1'));
      url.searchParams.set('issueId', '99999');
      const response = await fetch(url);
      expect(response.status).to.equal(401);
      expect(await response.json()).to.deep.equal({ refusal: 'qsh' });
    });

    it('honours iat and ttlSeconds for a Connect JWT', () => {
      const token = sim.connectJwt('GET', '/panels/issue-notes?issueId=1', 'user-1', { iat: 1_700_000_000, ttlSeconds: 60 });
      const claims = decodeSymmetric(token, app.sharedSecret() ?? '', SymmetricAlgorithm.HS256) as Record<string, unknown>;
      expect(claims).to.include({ iat: 1_700_000_000, exp: 1_700_000_060, iss: sim.clientKey, sub: 'user-1' });
      expect(claims.qsh).to.equal(
        createQueryStringHash(fromMethodAndUrl('GET', `${app.baseUrl}/panels/issue-notes?issueId=1`), false, app.baseUrl),
      );
    });

    it('signs general and admin pages the same way', async () => {
      expect((await fetch(sim.pageUrl('my-sessions', 'user-1'))).status).to.equal(200);
      expect((await fetch(sim.pageUrl('admin', 'admin-1'))).status).to.equal(200);
    });

    it('refuses a module the descriptor does not declare', () => {
      expect(() => sim.panelUrl('nope', ISSUE, 'user-1')).to.throw(HostSimulatorError).with.property('code', 'module_not_found');
    });
  });

  describe('webhooks', () => {
    it('sends user_deleted signed with the sharedSecret and marks the user inactive', async () => {
      sim.directory.add({ accountId: 'gone-1', displayName: 'Gone Soon' });
      const response = await sim.removeUser('gone-1', { timestamp: 1_700_000_000_123 });
      expect(response?.status).to.equal(204);
      const hook = lastAt(app, '/webhooks/user-deleted');
      expect(hook.alg).to.equal('HS256');
      expect(hook.refusal).to.equal(null);
      expect(hook.claims?.iss).to.equal(sim.clientKey);
      expect(hook.body).to.deep.include({ timestamp: 1_700_000_000_123, webhookEvent: 'user_deleted' });
      expect(hook.body.user).to.include({ accountId: 'gone-1', displayName: 'Gone Soon', active: false });
      expect(sim.directory.get('gone-1')?.active).to.equal(false);
    });

    it('sends user_updated with active false, then true, on deactivation and reactivation', async () => {
      sim.directory.add({ accountId: 'flip-1' });
      await sim.deactivateUser('flip-1');
      expect(lastAt(app, '/webhooks/user-updated').body.user).to.include({ accountId: 'flip-1', active: false });
      await sim.reactivateUser('flip-1');
      expect(lastAt(app, '/webhooks/user-updated').body.user).to.include({ accountId: 'flip-1', active: true });
      expect(sim.directory.get('flip-1')?.active).to.equal(true);
    });

    it('sends user_created when a user joins', async () => {
      await sim.createUser({ accountId: 'new-1', displayName: 'Nia New' });
      expect(lastAt(app, '/webhooks/user-created').body).to.deep.include({ webhookEvent: 'user_created' });
      expect(sim.directory.get('new-1')?.active).to.equal(true);
    });

    it('sends jira:issue_deleted with the issue and its project', async () => {
      await sim.deleteIssue(ISSUE);
      const body = lastAt(app, '/webhooks/issue-deleted').body;
      expect(body.webhookEvent).to.equal('jira:issue_deleted');
      expect(body.issue).to.deep.include({ id: '10001', key: 'PG-1' });
      expect((body.issue as { fields: { project: object } }).fields.project).to.include({ id: '10000', key: 'PG' });
    });

    it('sends project_deleted with the project, its id a number as Jira sends it', async () => {
      await sim.deleteProject('10000', 'PG');
      expect(lastAt(app, '/webhooks/project-deleted').body.project).to.include({ id: 10000, key: 'PG' });
    });

    it('keeps timestamp and webhookEvent when the caller gives them', async () => {
      await sim.sendWebhook('user_deleted', { timestamp: 5, webhookEvent: 'user_deleted', user: { accountId: 'x' } });
      expect(lastAt(app, '/webhooks/user-deleted').body).to.include({ timestamp: 5 });
    });

    it('signs a call whose body the caller sends itself, as it signs webhooks and uninstalls', async () => {
      for (const [path, signing, alg] of [
        ['/webhooks/user-deleted', 'symmetric', 'HS256'],
        ['/uninstalled', 'asymmetric', 'RS256'],
      ] as const) {
        const response = await fetch(`${app.baseUrl}${path}`, {
          method: 'POST',
          headers: { authorization: sim.serverAuthorization('POST', path, signing), 'content-type': 'application/json' },
          body: JSON.stringify({ clientKey: sim.clientKey, anything: [1, 'two'] }),
        });
        expect(response.status, path).to.equal(204);
        const call = lastAt(app, path);
        expect(call.alg).to.equal(alg);
        expect(call.claims?.iss).to.equal(sim.clientKey);
        expect(call.claims).not.to.have.property('sub');
      }
    });

    it('refuses an event the descriptor declares no webhook for', async () => {
      const failure = await sim.sendWebhook('comment_created', {}).catch((error: unknown) => error);
      expect(failure).to.be.instanceOf(HostSimulatorError).with.property('code', 'webhook_not_declared');
    });
  });

  describe('host page', () => {
    const ctx: IssueContext = { issueId: '10002', issueKey: 'PG-2', projectId: '10000', projectKey: 'PG' };

    it('embeds the issue panel in iframe#panel with a fresh signed URL to the app', async () => {
      const response = await fetch(sim.hostPageUrl('user-1', ctx));
      expect(response.status).to.equal(200);
      const html = await response.text();
      const src = /<iframe id="panel" data-module-key="issue-notes" src="([^"]+)"/.exec(html)?.[1];
      expect(src).to.be.a('string');
      const url = (src ?? '').replace(/&amp;/g, '&').replace(/&#x3D;/g, '=');
      expect(url.startsWith(`${app.baseUrl}/panels/issue-notes?issueId=10002&issueKey=PG-2&projectId=10000`)).to.equal(true);
      expect((await fetch(url)).status).to.equal(200);
      expect(html).to.contain('id="remove-user"').and.contain('id="issue-key">PG-2<');
    });

    it('refuses to show the page to an inactive user', async () => {
      sim.directory.add({ accountId: 'idle-1', active: false });
      expect((await fetch(sim.hostPageUrl('idle-1', ctx))).status).to.equal(403);
    });

    it('offers reactivation on the page that refuses a removed user, so the same tab can bring them back', async () => {
      sim.directory.add({ accountId: 'gone-1', displayName: 'Gwen Gone', active: false });
      const response = await fetch(sim.hostPageUrl('gone-1', ctx));
      expect(response.status).to.equal(403);
      const html = await response.text();
      expect(html).to.contain('id="account-inactive"');
      expect(html).to.contain('action="/admin/users/gone-1/reactivate"');
      expect(html).to.contain('<script>');
    });

    it("offers every user's remove and reactivate actions whichever user views the issue", async () => {
      sim.directory.add({ accountId: 'other-1', displayName: 'Otto Other' });
      const html = await (await fetch(sim.hostPageUrl('user-1', ctx))).text();
      for (const accountId of ['user-1', 'admin-1', 'other-1']) {
        expect(html).to.contain(`action="/admin/users/${accountId}/remove"`);
        expect(html).to.contain(`action="/admin/users/${accountId}/reactivate"`);
      }
    });

    it('removes the user from the page button and tells the app', async () => {
      sim.directory.add({ accountId: 'clicker-1', displayName: 'Cleo Clicker' });
      const response = await fetch(`${sim.baseUrl}/admin/users/clicker-1/remove`, { method: 'POST', headers: { Accept: 'application/json' } });
      expect(response.status).to.equal(200);
      expect(await response.json()).to.include({ accountId: 'clicker-1', active: false, event: 'user_deleted', appStatus: 204 });
      expect(lastAt(app, '/webhooks/user-deleted').body.user).to.include({ accountId: 'clicker-1' });
    });

    it('reactivates the user from its route', async () => {
      const response = await fetch(`${sim.baseUrl}/admin/users/clicker-1/reactivate`, { method: 'POST', headers: { Accept: 'application/json' } });
      expect(await response.json()).to.include({ active: true, event: 'user_updated' });
    });

    it('escapes what it renders', async () => {
      sim.directory.add({ accountId: 'evil-1', displayName: '<script>alert(1)</script>' });
      const html = await (await fetch(sim.hostPageUrl('evil-1', ctx))).text();
      expect(html).not.to.contain('<script>alert(1)</script>');
      expect(html).to.contain('&lt;script&gt;');
    });

    it('shows admin pages to site admins only', async () => {
      expect((await fetch(sim.appPageUrl('admin-1', 'admin'))).status).to.equal(200);
      expect((await fetch(sim.appPageUrl('user-1', 'admin'))).status).to.equal(403);
    });
  });

  describe('Jira REST API', () => {
    it('answers mypermissions for the app user under the app JWT (no ADMIN scope: not an admin)', async () => {
      const path = '/rest/api/3/mypermissions?permissions=ADMINISTER';
      const response = await fetch(`${sim.baseUrl}${path}`, { headers: { Authorization: `JWT ${appJwt(sim, app.sharedSecret() ?? '', 'GET', path)}` } });
      expect(response.status).to.equal(200);
      const body = (await response.json()) as { permissions: { ADMINISTER: { havePermission: boolean } } };
      expect(body.permissions.ADMINISTER.havePermission).to.equal(false);
    });

    it('refuses an app JWT whose qsh does not match the request', async () => {
      const token = appJwt(sim, app.sharedSecret() ?? '', 'GET', '/rest/api/3/mypermissions?permissions=BROWSE_PROJECTS');
      const response = await fetch(`${sim.baseUrl}/rest/api/3/mypermissions?permissions=ADMINISTER`, { headers: { Authorization: `JWT ${token}` } });
      expect(response.status).to.equal(401);
    });

    it('refuses an app JWT signed with another secret', async () => {
      const path = '/rest/api/3/mypermissions?permissions=ADMINISTER';
      const response = await fetch(`${sim.baseUrl}${path}`, { headers: { Authorization: `JWT ${appJwt(sim, 'not-the-secret', 'GET', path)}` } });
      expect(response.status).to.equal(401);
    });

    it('tells the app which users hold ADMINISTER through the bulk permission check', async () => {
      sim.directory.add({ accountId: 'admin-2', siteAdmin: true });
      await sim.removeUser('admin-2');
      const ask = async (accountId: string): Promise<string[]> => {
        const path = '/rest/api/3/permissions/check';
        const response = await fetch(`${sim.baseUrl}${path}`, {
          method: 'POST',
          headers: { Authorization: `JWT ${appJwt(sim, app.sharedSecret() ?? '', 'POST', path)}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ accountId, globalPermissions: ['ADMINISTER'] }),
        });
        expect(response.status).to.equal(200);
        return ((await response.json()) as { globalPermissions: string[] }).globalPermissions;
      };
      expect(await ask('admin-1')).to.deep.equal(['ADMINISTER']);
      expect(await ask('user-1')).to.deep.equal([]);
      expect(await ask('admin-2')).to.deep.equal([]);
    });

    it("grants ACE's asUserByAccountId bearer token and answers mypermissions for that user", async () => {
      const oauth2 = require('atlassian-oauth2') as {
        getAccessToken(opts: Record<string, string>): Promise<{ access_token: string; token_type: string }>;
      };
      const token = await oauth2.getAccessToken({
        hostBaseUrl: sim.baseUrl,
        oauthClientId: sim.oauthClientId,
        sharedSecret: app.sharedSecret() ?? '',
        userAccountId: 'admin-1',
        authorizationServerBaseUrl: sim.authorizationServerUrl,
      });
      expect(token.token_type).to.equal('Bearer');
      const response = await fetch(`${sim.baseUrl}/rest/api/3/mypermissions?permissions=ADMINISTER`, {
        headers: { Authorization: `Bearer ${token.access_token}` },
      });
      const body = (await response.json()) as { permissions: { ADMINISTER: { havePermission: boolean } } };
      expect(body.permissions.ADMINISTER.havePermission).to.equal(true);
    });
    it('finds users by a prefix of a name or visible email, as Jira\'s user search does, and never shows a hidden email', async () => {
      sim.directory.add({ accountId: 'jane-1', displayName: 'Jane Smith', email: 'jane.smith@example.com' });
      sim.directory.add({ accountId: 'jane-2', displayName: 'Janet Hidden', email: 'janet@example.com', emailVisible: false });
      const search = async (query: string) => {
        const path = `/rest/api/3/user/search?query=${encodeURIComponent(query)}`;
        const response = await fetch(`${sim.baseUrl}${path}`, { headers: { Authorization: `JWT ${appJwt(sim, app.sharedSecret() ?? '', 'GET', path)}` } });
        expect(response.status).to.equal(200);
        return (await response.json()) as { accountId: string; emailAddress?: string }[];
      };
      expect(await search('jane.smith@example.com')).to.deep.include.members([
        { self: `${sim.baseUrl}/rest/api/3/user?accountId=jane-1`, accountId: 'jane-1', accountType: 'atlassian', emailAddress: 'jane.smith@example.com', displayName: 'Jane Smith', active: true, timeZone: 'Etc/UTC', locale: 'en_US' },
      ]);
      expect((await search('smith')).map((user) => user.accountId)).to.deep.equal(['jane-1']);
      expect(await search('janet@example.com')).to.deep.equal([]);
      const byName = await search('Janet');
      expect(byName.map((user) => [user.accountId, user.emailAddress])).to.deep.equal([['jane-2', undefined]]);
    });

    it('makes up a distinct email for a user given none', () => {
      expect(sim.directory.get('admin-1')?.email).to.equal('admin.1@users.example.com');
      expect(sim.directory.get('user-1')?.email).to.equal('user.1@users.example.com');
    });
  });

  describe('bulk user API', () => {
    async function lookup(query: string): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
      const path = `/rest/api/3/user/bulk?${query}`;
      const response = await fetch(`${sim.baseUrl}${path}`, { headers: { Authorization: `JWT ${appJwt(sim, app.sharedSecret() ?? '', 'GET', path)}` } });
      return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
    }
    const idsOf = (body: Record<string, unknown>) => (body.values as Array<{ accountId: string; active: boolean }>).map((user) => `${user.accountId}:${user.active}`);

    it('answers the users asked for with whether each is active, leaves out unknown ones, and says when it answered', async () => {
      sim.directory.add({ accountId: 'bulk-active' });
      sim.directory.add({ accountId: 'bulk-inactive' });
      await sim.deactivateUser('bulk-inactive');
      const { status, body, headers } = await lookup('accountId=bulk-active&accountId=bulk-inactive&accountId=bulk-unknown&maxResults=50');
      expect(status).to.equal(200);
      expect(idsOf(body)).to.deep.equal(['bulk-active:true', 'bulk-inactive:false']);
      expect(body).to.include({ startAt: 0, maxResults: 50, total: 2, isLast: true });
      expect(Math.abs(Date.parse(headers.get('date') ?? '') - Date.now())).to.be.lessThan(2_000);
    });

    it('pages as Jira does: 10 users unless maxResults says otherwise, 200 at most', async () => {
      const ids = Array.from({ length: 12 }, (_, i) => `bulk-page-${String(i).padStart(2, '0')}`);
      for (const accountId of ids) sim.directory.add({ accountId });
      const query = ids.map((id) => `accountId=${id}`).join('&');
      const first = await lookup(query);
      expect(idsOf(first.body)).to.have.length(10);
      expect(first.body).to.include({ isLast: false, total: 12 });
      expect(first.body.nextPage).to.be.a('string');
      const rest = await lookup(`${query}&startAt=10`);
      expect(idsOf(rest.body)).to.deep.equal([`${ids[10]}:true`, `${ids[11]}:true`]);
      expect((await lookup(`${query}&maxResults=500`)).body).to.include({ maxResults: 200, isLast: true });
    });

    it('answers a queued fault: 429 with Retry-After, then normally again', async () => {
      sim.userLookups.fail({ status: 429, retryAfterSeconds: 7 });
      const limited = await lookup('accountId=user-1');
      expect(limited.status).to.equal(429);
      expect(limited.headers.get('retry-after')).to.equal('7');
      expect((await lookup('accountId=user-1')).status).to.equal(200);
      expect(sim.userLookups.received.slice(-2)).to.deep.equal([['user-1'], ['user-1']]);
    });

    it('refuses a request without an app JWT or accountId', async () => {
      expect((await fetch(`${sim.baseUrl}/rest/api/3/user/bulk?accountId=user-1`, { headers: { Authorization: 'JWT nonsense' } })).status).to.equal(401);
      expect((await lookup('maxResults=5')).status).to.equal(400);
    });
  });

  describe('bulk issue fetch', () => {
    async function fetchIssues(body: unknown, authorization?: string): Promise<{ status: number; body: Record<string, unknown> }> {
      const path = '/rest/api/3/issue/bulkfetch';
      const response = await fetch(`${sim.baseUrl}${path}`, {
        method: 'POST',
        headers: { Authorization: authorization ?? `JWT ${appJwt(sim, app.sharedSecret() ?? '', 'POST', path)}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    }
    const keysOf = (body: Record<string, unknown>) => (body.issues as Array<{ id: string; key: string }>).map((issue) => `${issue.id}:${issue.key}`);

    it('answers the issues asked for by id or key, in ascending id order, and leaves out unknown ones', async () => {
      sim.issues.put({ issueId: '70002', issueKey: 'BULK-2', projectId: '70000' });
      sim.issues.put({ issueId: '70001', issueKey: 'BULK-1', projectId: '70000' });
      const answer = await fetchIssues({ issueIdsOrKeys: ['70002', 'bulk-1', '79999'], fields: ['issuekey'] });
      expect(answer.status).to.equal(200);
      expect(keysOf(answer.body)).to.deep.equal(['70001:BULK-1', '70002:BULK-2']);
      expect(answer.body.issueErrors).to.deep.equal([]);
      expect(sim.issueLookups.received.at(-1)).to.deep.equal(['70002', 'bulk-1', '79999']);
    });

    it('takes 1000 issues when the fields are named, 100 otherwise, as Jira does', async () => {
      const ids = Array.from({ length: 101 }, (_, i) => String(80_000 + i));
      expect((await fetchIssues({ issueIdsOrKeys: ids, fields: ['issuekey'] })).status).to.equal(200);
      expect((await fetchIssues({ issueIdsOrKeys: ids })).status).to.equal(400);
      expect((await fetchIssues({ issueIdsOrKeys: ids, fields: ['-description'] })).status).to.equal(400);
    });

    it('refuses a request without an app JWT or issues, and answers a queued fault', async () => {
      expect((await fetchIssues({ issueIdsOrKeys: ['70001'] }, 'JWT nonsense')).status).to.equal(401);
      expect((await fetchIssues({ issueIdsOrKeys: [] })).status).to.equal(400);
      sim.issueLookups.fail({ status: 503 });
      expect((await fetchIssues({ issueIdsOrKeys: ['70001'] })).status).to.equal(503);
      expect((await fetchIssues({ issueIdsOrKeys: ['70001'] })).status).to.equal(200);
    });
  });

  describe('project search', () => {
    async function search(query: string, authorization?: string): Promise<{ status: number; body: Record<string, unknown> }> {
      const path = `/rest/api/3/project/search?${query}`;
      const response = await fetch(`${sim.baseUrl}${path}`, { headers: { Authorization: authorization ?? `JWT ${appJwt(sim, app.sharedSecret() ?? '', 'GET', path)}` } });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    }
    const keysOf = (body: Record<string, unknown>) => (body.values as Array<{ id: string; key: string }>).map((project) => `${project.id}:${project.key}`);

    // A project exists on the simulated site while one of its issues does.
    before(() => {
      sim.issues.put({ issueId: '71001', issueKey: 'ZED-1', projectId: '71000' });
      sim.issues.put({ issueId: '72001', issueKey: 'ALF-1', projectId: '72000', projectKey: 'ALF' });
      sim.issues.put({ issueId: '72002', issueKey: 'ALF-2', projectId: '72000', projectKey: 'ALF' });
    });

    it('answers the projects asked for by id, ordered by key, leaving out ids the site has no project for', async () => {
      const answer = await search('id=71000&id=72000&id=79000&maxResults=3');
      expect(answer.status).to.equal(200);
      expect(keysOf(answer.body)).to.deep.equal(['72000:ALF', '71000:ZED']);
      expect(answer.body).to.include({ startAt: 0, maxResults: 3, total: 2, isLast: true });
      expect(sim.projectLookups.received.at(-1)).to.deep.equal(['71000', '72000', '79000']);
    });

    it('pages as Jira Cloud does: 50 projects at most, from startAt', async () => {
      const first = await search('id=71000&id=72000&maxResults=1');
      expect(keysOf(first.body)).to.deep.equal(['72000:ALF']);
      expect(first.body).to.include({ isLast: false, total: 2 });
      expect(first.body.nextPage).to.be.a('string');
      expect(keysOf((await search('id=71000&id=72000&maxResults=1&startAt=1')).body)).to.deep.equal(['71000:ZED']);
      expect((await search('id=71000&maxResults=500')).body).to.include({ maxResults: 50 });
    });

    it('no longer shows a deleted project', async () => {
      sim.issues.put({ issueId: '73001', issueKey: 'GONE-1', projectId: '73000' });
      expect(keysOf((await search('id=73000')).body)).to.deep.equal(['73000:GONE']);
      sim.issues.removeProject('73000');
      expect(keysOf((await search('id=73000')).body)).to.deep.equal([]);
    });

    it('refuses a request without an app JWT, ids that are not ids or more than 50, and answers a queued fault', async () => {
      expect((await search('id=71000', 'JWT nonsense')).status).to.equal(401);
      expect((await fetch(`${sim.baseUrl}/rest/api/3/project/search?id=71000`)).status).to.equal(401);
      expect((await search('id=PG')).status).to.equal(400);
      expect((await search(Array.from({ length: 51 }, (_, i) => `id=${80_000 + i}`).join('&'))).status).to.equal(400);
      sim.projectLookups.fail({ status: 429, retryAfterSeconds: 3 });
      expect((await search('id=71000')).status).to.equal(429);
      expect((await search('id=71000')).status).to.equal(200);
    });
  });

  describe('personal data reporting API', () => {
    async function report(accounts: Array<{ accountId: string; updatedAt: string }>, secret = app.sharedSecret() ?? ''): Promise<Response> {
      const path = '/app/report-accounts/';
      return fetch(sim.reportAccountsUrl, {
        method: 'POST',
        headers: { Authorization: `JWT ${appJwt(sim, secret, 'POST', path)}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ accounts }),
      });
    }

    it('answers 204 when no account reported needs anything', async () => {
      const response = await report([{ accountId: 'user-1', updatedAt: new Date().toISOString() }]);
      expect(response.status).to.equal(204);
    });

    it('names the accounts that were closed, and those whose profile changed since the time reported', async () => {
      sim.directory.add({ accountId: 'pd-closed' });
      sim.directory.add({ accountId: 'pd-renamed' });
      const before = new Date(Date.now() - 60_000).toISOString();
      await sim.closeAccount('pd-closed');
      sim.changeProfile('pd-renamed', 'Renata Renamed');
      const response = await report([
        { accountId: 'pd-closed', updatedAt: before },
        { accountId: 'pd-renamed', updatedAt: before },
        { accountId: 'user-1', updatedAt: before },
      ]);
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({
        accounts: [
          { accountId: 'pd-closed', status: 'closed' },
          { accountId: 'pd-renamed', status: 'updated' },
        ],
      });
      expect(lastAt(app, '/webhooks/user-deleted').body.user).to.include({ accountId: 'pd-closed', active: false });
    });

    it('refuses a report signed with another secret, and one of more than 90 accounts', async () => {
      expect((await report([{ accountId: 'user-1', updatedAt: new Date().toISOString() }], 'not-the-secret')).status).to.equal(401);
      const many = Array.from({ length: 91 }, (_, i) => ({ accountId: `many-${i}`, updatedAt: new Date().toISOString() }));
      expect((await report(many)).status).to.equal(400);
    });
  });

  describe('lost webhooks', () => {
    it('changes the directory but sends nothing while dropping webhooks', async () => {
      sim.directory.add({ accountId: 'lost-1' });
      const before = app.received.length;
      sim.dropWebhooks(true);
      try {
        expect(await sim.deactivateUser('lost-1')).to.equal(null);
      } finally {
        sim.dropWebhooks(false);
      }
      expect(app.received.length).to.equal(before);
      expect(sim.directory.get('lost-1')?.active).to.equal(false);
      await sim.reactivateUser('lost-1');
      expect(lastAt(app, '/webhooks/user-updated').body.user).to.include({ accountId: 'lost-1', active: true });
    });
  });

  describe('lifecycle after install', () => {
    it('sends disabled, and no webhooks while disabled', async () => {
      const response = await sim.disable();
      expect(response?.status).to.equal(204);
      expect(lastAt(app, '/disabled').body).to.include({ eventType: 'disabled' });
      sim.directory.add({ accountId: 'quiet-1' });
      expect(await sim.removeUser('quiet-1')).to.equal(null);
      expect((await fetch(sim.hostPageUrl('user-1', ISSUE))).status).to.equal(200);
      await sim.enable();
      expect(lastAt(app, '/enabled').refusal).to.equal(null);
    });

    it('disables, then sends a signed uninstalled without the sharedSecret', async () => {
      const before = app.received.length;
      const response = await sim.uninstall();
      expect(response?.status).to.equal(204);
      const paths = app.received.slice(before).map((r) => r.path);
      expect(paths).to.deep.equal(['/disabled', '/uninstalled']);
      const uninstalled = lastAt(app, '/uninstalled');
      expect(uninstalled.alg).to.equal('RS256');
      expect(uninstalled.refusal).to.equal(null);
      expect(uninstalled.body).to.include({ eventType: 'uninstalled', clientKey: sim.clientKey });
      expect(uninstalled.body).not.to.have.property('sharedSecret');
    });

    it('installs again with a fresh sharedSecret', async () => {
      const old = app.sharedSecret();
      expect((await sim.install(app.baseUrl)).status).to.equal(204);
      expect(app.sharedSecret()).to.be.a('string').and.not.equal(old);
    });
  });
});

describe('host simulator with an app under a path', () => {
  it('computes every qsh relative to the descriptor baseUrl path', async () => {
    const sim = await startHostSimulator();
    const app = await startFakeApp(() => sim.keysUrl, '/app');
    try {
      sim.directory.add({ accountId: 'user-1' });
      expect((await sim.install(app.baseUrl)).status).to.equal(204);
      const page = await fetch(sim.panelUrl('issue-notes', ISSUE, 'user-1'));
      expect(page.status).to.equal(200);
      expect((await sim.removeUser('user-1'))?.status).to.equal(204);
    } finally {
      await sim.close();
      await app.close();
    }
  });
});
