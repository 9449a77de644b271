/**
 * The Forge front door over real HTTP, with FITs crafted claim by claim (test/support/fit-signer.ts): what a
 * FIT may and may not mint, the admin page's check with Jira, the logs, and Connect on Forge. The flows as
 * the simulated Forge plays them (forgeries, events, uninstall and reinstall) are in forge-host.test.ts.
 */
import { expect } from 'chai';
import { startFitSigner, type FitOptions, type FitSigner } from '../support/fit-signer';
import { ALICE, BOB, ISSUE, startStack, type Stack } from './harness';

interface Answer {
  status: number;
  body: { error?: { code: string }; pageToken?: string; accountId?: string | null; displayName?: string | null; expiresAt?: number; apiBase?: string; notes?: { text: string }[]; applied?: boolean; revoked?: number };
}

const ADMIN_PAGE = { moduleKey: 'panelguard-admin-page', extension: { type: 'jira:adminPage' } };
const MY_SESSIONS = { moduleKey: 'panelguard-my-sessions', extension: { type: 'jira:globalPage' } };

describe('HTTP: the Forge front door', () => {
  let fits: FitSigner;
  let stack: Stack;

  beforeEach(async () => {
    fits = await startFitSigner();
    stack = await startStack({ env: { FORGE_APP_ID: fits.appId, FORGE_JWKS_URL: fits.jwksUrl } });
  });

  afterEach(async () => {
    await stack.stop();
    await fits.close();
  });

  async function call(path: string, options: { method?: string; fit?: string | null; pageToken?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.fit !== null && options.fit !== undefined) headers.authorization = `Bearer ${options.fit}`;
    if (options.pageToken !== undefined) headers['x-page-token'] = options.pageToken;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${stack.app.baseUrl}${path}`, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Answer['body']) };
  }

  /** What Forge sends for an event or lifecycle call: a FIT without a principal. */
  const systemFit = (options: FitOptions = {}) => fits.sign({ principal: null, extension: null, ...options });

  async function install(installationId = fits.installationId): Promise<void> {
    const answer = await call('/forge/lifecycle/installed', {
      method: 'POST',
      fit: await systemFit({ installationId }),
      body: { id: installationId, app: { id: fits.appId, version: '1.0.0' } },
    });
    expect(answer.status, JSON.stringify(answer.body)).to.equal(204);
  }

  async function session(options: FitOptions = {}, headers: Record<string, string> = {}): Promise<string> {
    const answer = await call('/forge/sessions', { method: 'POST', fit: await fits.sign(options), headers });
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    return answer.body.pageToken as string;
  }

  async function notes(pageToken: string, options: FitOptions = {}, issueId = ISSUE.issueId): Promise<Answer> {
    return call(`/api/issues/${issueId}/notes`, { fit: await fits.sign(options), pageToken });
  }

  describe('lifecycle and the first call', () => {
    it('refuses a page before the installed event made its installation a tenant', async () => {
      const answer = await call('/forge/sessions', { method: 'POST', fit: await fits.sign() });
      // 403, not 401: Forge keeps 401 for a FIT that did not verify, and would hide this answer from the page.
      expect(answer.status).to.equal(403);
      expect(answer.body.error?.code).to.equal('tenant_unknown');
    });

    it('mints a page token for the issue the FIT names, and serves notes to the FIT and page token together', async () => {
      await install();
      const answer = await call('/forge/sessions', { method: 'POST', fit: await fits.sign() });
      expect(answer.body.expiresAt).to.be.greaterThan(Date.now());
      const pageToken = answer.body.pageToken as string;
      const added = await call(`/api/issues/${ISSUE.issueId}/notes`, { method: 'POST', fit: await fits.sign(), pageToken, body: { text: 'from Forge' } });
      expect(added.status).to.equal(201);
      const listed = await notes(pageToken);
      expect(listed.status).to.equal(200);
      expect(listed.body.notes?.map((note) => note.text)).to.deep.equal(['from Forge']);
    });

    it("names the app's public base URL, which a key-bound page's proofs must sign with the path", async () => {
      await install();
      const answer = await call('/forge/sessions', { method: 'POST', fit: await fits.sign() });
      expect(answer.status).to.equal(200);
      expect(answer.body.apiBase).to.equal(stack.app.baseUrl);
    });

    it('takes the resource from the signed context only: a module it does not know mints nothing', async () => {
      await install();
      const unknown = await call('/forge/sessions', { method: 'POST', fit: await fits.sign({ moduleKey: 'someone-elses-module' }) });
      expect(unknown.status).to.equal(403);
      const mismatched = await call('/forge/sessions', { method: 'POST', fit: await fits.sign({ ...MY_SESSIONS, extension: { type: 'jira:issuePanel' } }) });
      expect(mismatched.status).to.equal(403);
    });

    it('refuses to mint from a FIT without a principal, and events from a FIT with one', async () => {
      await install();
      expect((await call('/forge/sessions', { method: 'POST', fit: await systemFit() })).status).to.equal(403);
      const event = await call('/forge/events/user-deleted', { method: 'POST', fit: await fits.sign(), body: { payload: { user: { accountId: BOB } } } });
      expect(event.status).to.equal(403);
    });

    it('accepts an installed call once: its FIT replayed is refused', async () => {
      const fit = await systemFit();
      const body = { id: fits.installationId, app: { id: fits.appId, version: '1.0.0' } };
      expect((await call('/forge/lifecycle/installed', { method: 'POST', fit, body })).status).to.equal(204);
      const replay = await call('/forge/lifecycle/installed', { method: 'POST', fit, body });
      expect(replay.status).to.equal(401);
      expect(replay.body.error?.code).to.equal('token_replayed');
    });
  });

  describe('the two doors keep apart', () => {
    let pageToken: string;

    beforeEach(async () => {
      await install();
      pageToken = await session();
    });

    it('does not take a Connect page token through the Forge door', async () => {
      const connect = await stack.loadPanel(ALICE);
      const linked = await notes(connect.token as string);
      expect([linked.status, linked.body.error?.code]).to.deep.equal([403, 'token_invalid']);
    });
  });

  describe('the admin page', () => {
    beforeEach(async () => {
      await install();
    });

    it('mints app:admin only for a user Jira reports as a site admin, asked with the app system token', async () => {
      const headers = { 'x-forge-oauth-system': fits.systemToken };
      const refused = await call('/forge/sessions', { method: 'POST', fit: await fits.sign(ADMIN_PAGE), headers });
      expect([refused.status, refused.body.error?.code]).to.deep.equal([403, 'forbidden']);
      fits.siteAdmins.add(BOB);
      const pageToken = await session({ ...ADMIN_PAGE, principal: BOB }, headers);
      const sessions = await call('/api/admin/sessions', { fit: await fits.sign({ ...ADMIN_PAGE, principal: BOB }), pageToken });
      expect(sessions.status).to.equal(200);
    });

    it("never writes a FIT, a page token or Forge's OAuth token to its logs", async () => {
      fits.siteAdmins.add(ALICE);
      const headers = { 'x-forge-oauth-system': fits.systemToken };
      const fit = await fits.sign(ADMIN_PAGE);
      const pageToken = await session(ADMIN_PAGE, headers);
      await call('/api/admin/sessions', { fit, pageToken });
      await call('/api/admin/sessions', { fit: `${fit}x`, pageToken });
      await call('/forge/sessions', { method: 'POST', fit: await fits.sign(ADMIN_PAGE), headers: { 'x-forge-oauth-system': 'wrong-system-token' } });
      const logs = stack.logs.text();
      for (const secret of [fit, fit.split('.')[1], pageToken, pageToken.split('.')[1], fits.systemToken, 'wrong-system-token']) {
        expect(logs).not.to.include(secret);
      }
    });

    it("names the admin through Forge's product API with the call's system token, on a site Connect cannot ask", async () => {
      fits.siteAdmins.add(ALICE);
      fits.displayNames.set(ALICE, 'Alice Forge');
      const headers = { 'x-forge-oauth-system': fits.systemToken };
      // without the system token there is no way to ask: the id alone, and nothing kept that would hide the name next
      const unnamed = await call('/api/admin/me', { fit: await fits.sign(ADMIN_PAGE), pageToken: await session(ADMIN_PAGE, headers) });
      expect(unnamed).to.deep.equal({ status: 200, body: { accountId: ALICE, displayName: null } });
      const named = await call('/api/admin/me', { fit: await fits.sign(ADMIN_PAGE), pageToken: await session(ADMIN_PAGE, headers), headers });
      expect(named).to.deep.equal({ status: 200, body: { accountId: ALICE, displayName: 'Alice Forge' } });
    });

    it('refuses without the system token, rather than minting an admin page it cannot confirm', async () => {
      fits.siteAdmins.add(ALICE);
      const answer = await call('/forge/sessions', { method: 'POST', fit: await fits.sign(ADMIN_PAGE) });
      expect(answer.status).to.equal(403);
    });
  });
});

describe('HTTP: Connect on Forge', () => {
  it("is the same tenant: a page token minted through Forge reads the notes added through Connect", async () => {
    const fits = await startFitSigner();
    const stack = await startStack({ env: { FORGE_APP_ID: fits.appId, FORGE_JWKS_URL: fits.jwksUrl }, forgeInstallationId: fits.installationId });
    try {
      const connect = (await stack.loadPanel(ALICE)).token as string;
      expect((await stack.api(connect, 'POST', ISSUE.issueId, { text: 'from Connect' })).status).to.equal(201);
      const minted = await fetch(`${stack.app.baseUrl}/forge/sessions`, { method: 'POST', headers: { authorization: `Bearer ${await fits.sign()}` } });
      expect(minted.status).to.equal(200);
      const { pageToken } = (await minted.json()) as { pageToken: string };
      const listed = await fetch(`${stack.app.baseUrl}/api/issues/${ISSUE.issueId}/notes`, {
        headers: { authorization: `Bearer ${await fits.sign()}`, 'x-page-token': pageToken },
      });
      const body = (await listed.json()) as { notes: { text: string }[] };
      expect(body.notes.map((note) => note.text)).to.deep.equal(['from Connect']);
    } finally {
      await stack.stop();
      await fits.close();
    }
  });
});
