/**
 * The Forge front door against the host simulator's Forge mode, over real HTTP: Forge installs the app,
 * a panel's first call mints through invokeRemote, every FIT the simulator signs or forges is judged, and
 * the simulated site's removals reach the app as Forge events (with Forge's retries).
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { projectResource } from '../../src/allowlist/resource';
import type { IssueContext } from '../../src/host-simulator';
import type { ForgeSimulator } from '../../src/host-simulator/forge';
import type { FitForgery } from '../../src/host-simulator/forge/fit';
import { ALICE, BOB, ISSUE, OTHER_ISSUE, OTHER_PROJECT_ISSUE, startForgeStack, type ForgeStack } from './harness';

const PANEL = 'panelguard-issue-panel';

interface Answer {
  status: number;
  body: { error?: { code: string }; pageToken?: string; notes?: { text: string }[]; applied?: boolean; revoked?: number };
}

describe('HTTP: the Forge front door, played by the simulated Forge', () => {
  let stack: ForgeStack;
  let forge: ForgeSimulator;

  beforeEach(async () => {
    // Retries at once: the tests wait for no timer.
    stack = await startForgeStack({ forge: { eventPolicy: { retryDelayMs: 0 } } });
    forge = stack.forge;
    const installed = await forge.install(stack.app.baseUrl);
    expect(installed?.status, 'the installed event creates the tenant').to.equal(204);
  });

  afterEach(async () => {
    await stack.stop();
  });

  const panel = (accountId: string, issue: IssueContext = ISSUE) => ({ accountId, moduleKey: PANEL, issue });

  /** What the Custom UI's first call does: POST /forge/sessions through the bridge. */
  async function session(accountId: string, issue: IssueContext = ISSUE): Promise<string> {
    const answer = await forge.invokeRemote(panel(accountId, issue), { path: '/forge/sessions', method: 'POST' });
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    return (answer.body as { pageToken: string }).pageToken;
  }

  /** A notes call as the app receives it, with the FIT Forge signs (or a forged one) and the page token. */
  async function notes(accountId: string, pageToken: string | null, options: { forgery?: FitForgery; issue?: IssueContext; fit?: boolean } = {}): Promise<Answer> {
    const issue = options.issue ?? ISSUE;
    const headers: Record<string, string> = {};
    if (options.fit !== false) headers.authorization = `Bearer ${forge.fit(panel(accountId, issue), options.forgery)}`;
    if (pageToken !== null) headers['x-page-token'] = pageToken;
    const response = await fetch(`${stack.app.baseUrl}/api/issues/${issue.issueId}/notes`, { headers });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }

  it('mints on a panel load and serves notes to the FIT and the page token together', async () => {
    const pageToken = await session(ALICE);
    const added = await forge.invokeRemote(panel(ALICE), {
      path: `/api/issues/${ISSUE.issueId}/notes`,
      method: 'POST',
      headers: { 'X-Page-Token': pageToken },
      body: { text: 'through Forge' },
    });
    expect(added.status).to.equal(201);
    const listed = await forge.invokeRemote(panel(ALICE), { path: `/api/issues/${ISSUE.issueId}/notes`, method: 'GET', headers: { 'X-Page-Token': pageToken } });
    expect((listed.body as Answer['body']).notes?.map((note) => note.text)).to.deep.equal(['through Forge']);
  });

  describe('refuses, with its code', () => {
    let pageToken: string;
    beforeEach(async () => {
      pageToken = await session(ALICE);
    });

    const cases: [string, () => Promise<Answer>, number, string][] = [
      ['the FIT alone', () => notes(ALICE, null), 401, 'token_invalid'],
      ['the page token alone', async () => {
        const response = await fetch(`${stack.app.baseUrl}/api/issues/${ISSUE.issueId}/notes`, { headers: { authorization: `Bearer ${pageToken}` } });
        return { status: response.status, body: (await response.json()) as Answer['body'] };
      }, 401, 'token_invalid'],
      ['a FIT of another user', () => notes(BOB, pageToken), 403, 'token_invalid'],
      ['a FIT of another installation', () => notes(ALICE, pageToken, { forgery: { installationId: `ari:cloud:ecosystem::installation/${randomUUID()}` } }), 403, 'token_invalid'],
      ['a FIT for another app (aud)', () => notes(ALICE, pageToken, { forgery: { aud: `ari:cloud:ecosystem::app/${randomUUID()}` } }), 401, 'token_invalid'],
      ['a FIT from another issuer', () => notes(ALICE, pageToken, { forgery: { iss: 'forge/someone-else' } }), 401, 'token_invalid'],
      ['a FIT under an unknown kid', () => notes(ALICE, pageToken, { forgery: { signing: 'unknown-kid' } }), 401, 'token_invalid'],
      ['a FIT signed by a foreign key under the right kid', () => notes(ALICE, pageToken, { forgery: { signing: 'foreign-key' } }), 401, 'token_invalid'],
      ['an expired FIT', () => notes(ALICE, pageToken, { forgery: { expired: true } }), 401, 'token_expired'],
      ['a FIT signed RS512', () => notes(ALICE, pageToken, { forgery: { signing: 'rs512' } }), 401, 'token_invalid'],
      ['a FIT signed HS256 with the public key as its secret', () => notes(ALICE, pageToken, { forgery: { signing: 'hs256-public-key' } }), 401, 'token_invalid'],
      ['a FIT with alg none', () => notes(ALICE, pageToken, { forgery: { signing: 'none' } }), 401, 'token_invalid'],
      ['a page token for another issue', () => notes(ALICE, pageToken, { issue: OTHER_ISSUE }), 403, 'resource_mismatch'],
    ];
    for (const [what, send, status, code] of cases) {
      it(`${what}: ${status} ${code}`, async () => {
        const answer = await send();
        expect([answer.status, answer.body.error?.code]).to.deep.equal([status, code]);
      });
    }
  });

  it("refuses a user removed on the site on the next call of every open page, and Forge's retry of the event changes nothing", async () => {
    const first = await session(ALICE);
    const second = await session(ALICE, OTHER_ISSUE);
    const bobs = await session(BOB);
    const removed = await forge.removeUser(ALICE);
    expect([removed?.status, removed?.attempts.length]).to.deep.equal([200, 1]);
    expect((await notes(ALICE, first)).body.error?.code).to.equal('token_revoked');
    expect((await notes(ALICE, second, { issue: OTHER_ISSUE })).body.error?.code).to.equal('token_revoked');
    expect((await notes(BOB, bobs)).status).to.equal(200);
    // Forge delivers the same event again (a retry after a timeout, say): nothing more to revoke, nothing revived.
    const again = await forge.sendEvent('avi:jira:deleted:user', { eventType: 'avi:jira:deleted:user', user: { accountId: ALICE }, retryContext: { retryData: null, retryCount: 1, retryReason: 'TIMEOUT_ERROR' } });
    expect(again.status).to.equal(200);
    expect((await notes(ALICE, first)).body.error?.code).to.equal('token_revoked');
  });

  it('revokes the tokens of a deleted issue, then of every issue of a deleted project', async () => {
    const onIssue = await session(ALICE);
    const onSibling = await session(BOB, OTHER_ISSUE);
    const elsewhere = await session(BOB, OTHER_PROJECT_ISSUE);
    expect((await forge.deleteIssue(ISSUE))?.status).to.equal(200);
    expect((await notes(ALICE, onIssue)).body.error?.code).to.equal('token_revoked');
    expect((await notes(BOB, onSibling, { issue: OTHER_ISSUE })).status).to.equal(200);
    expect((await forge.deleteProject({ id: ISSUE.projectId, key: ISSUE.projectKey ?? 'DEMO' }))?.status).to.equal(200);
    expect((await notes(BOB, onSibling, { issue: OTHER_ISSUE })).body.error?.code).to.equal('token_revoked');
    expect((await notes(BOB, elsewhere, { issue: OTHER_PROJECT_ISSUE })).status).to.equal(200);
  });

  it("names a project page's session by its project's key through Forge's product API, with the admin page's system token", async () => {
    stack.sim.issues.put(ISSUE);
    const admin = stack.sim.directory.add({ accountId: '557058:forge-ada', displayName: 'Ada Admin', siteAdmin: true }).accountId;
    const installationId = forge.installationId();
    if (installationId === undefined) throw new Error('not installed');
    // A project page of the vendor's own (PanelGuard's modules open on issues and app pages), minted on this
    // Forge-only installation, whose tenant is the installation itself.
    const minted = await stack.app.allowlist.mint({ clientKey: installationId, accountId: ALICE, target: projectResource(ISSUE.projectId), connectIssuedAt: Date.now(), ip: null, userAgent: null });
    expect(minted.ok).to.equal(true);
    const adminPage = { accountId: admin, moduleKey: 'panelguard-admin-page' };
    const opened = await forge.invokeRemote(adminPage, { path: '/forge/sessions', method: 'POST' });
    expect(opened.status, JSON.stringify(opened.body)).to.equal(200);
    const pageToken = (opened.body as { pageToken: string }).pageToken;
    const listed = await forge.invokeRemote(adminPage, { path: '/api/admin/sessions', method: 'GET', headers: { 'X-Page-Token': pageToken } });
    expect(listed.status).to.equal(200);
    const sessions = (listed.body as { sessions: Array<{ resource: string; displayName: string | null; projectKey: string | null }> }).sessions;
    expect(sessions.find((s) => s.resource === `jira:project:${ISSUE.projectId}`)).to.include({ displayName: 'Alice', projectKey: ISSUE.projectKey });
    expect(stack.sim.projectLookups.received).to.deep.equal([[ISSUE.projectId]]);
  });

  it('ends every token on uninstall; a reinstall is a new installation that brings none back', async () => {
    const before = await session(ALICE);
    const gone = await forge.uninstall();
    expect(gone?.status).to.equal(204);
    const reinstalled = await forge.install(stack.app.baseUrl);
    expect(reinstalled?.status).to.equal(204);
    expect((await notes(ALICE, before)).body.error?.code).to.equal('token_revoked');
    const fresh = await session(ALICE);
    expect((await notes(ALICE, fresh)).status).to.equal(200);
  });
});
