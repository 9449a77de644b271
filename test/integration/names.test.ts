/**
 * Names, not ids, over real HTTP: notes, the admin's sessions and audit, and "my sessions" carry display names,
 * issue keys and project keys beside the ids, asked of the simulated Jira as the app; a host that fails leaves the
 * ids, never the page.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { projectResource } from '../../src/allowlist/resource';
import { ALICE, BOB, ISSUE, OTHER_ISSUE, OTHER_PROJECT_ISSUE, pageTokenOf, startStack, type Stack } from './harness';

const OPERATOR_SECRET = randomBytes(24).toString('base64url');

interface Session {
  id: string;
  accountId?: string;
  displayName?: string | null;
  resource: string;
  issueKey: string | null;
  projectKey: string | null;
  agent: string | null;
  network: string | null;
  current?: boolean;
}

describe('names beside ids', function () {
  this.timeout(30_000);
  let stack: Stack;
  let clientKey: string;

  beforeEach(async () => {
    clientKey = `site-${randomBytes(6).toString('hex')}`;
    stack = await startStack({ env: { OPERATOR_TOKEN: `${clientKey}:${OPERATOR_SECRET}` }, clientKey });
    stack.sim.issues.put(ISSUE);
    stack.sim.issues.put(OTHER_ISSUE);
  });
  afterEach(async () => {
    await stack?.stop();
  });

  async function get(path: string, bearer: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${stack.app.baseUrl}${path}`, { headers: { authorization: `Bearer ${bearer}`, 'user-agent': FIREFOX } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function panelToken(accountId: string, ctx = ISSUE): Promise<string> {
    const panel = await stack.loadPanel(accountId, ctx);
    if (panel.token === null) throw new Error(`no panel token: ${panel.status}`);
    return panel.token;
  }

  /**
   * A session of a project page (`jira:project:<id>`), as a vendor's own project page would mint it through
   * mintPage: PanelGuard's own modules open on issues and app pages only, so there is no page to load for it.
   */
  async function projectPageSession(accountId: string, projectId: string): Promise<string> {
    const minted = await stack.app.allowlist.mint({ clientKey, accountId, target: projectResource(projectId), connectIssuedAt: Date.now(), ip: null, userAgent: null });
    if (!minted.ok) throw new Error(`no project page session: ${minted.code}`);
    return minted.value.token;
  }

  it("names each note's writer, and the note just added", async () => {
    const token = await panelToken(ALICE);
    const added = await stack.api(token, 'POST', ISSUE.issueId, { text: 'hello' });
    expect(added.status).to.equal(201);
    expect(added.body.note).to.include({ accountId: ALICE, displayName: 'Alice' });
    const bobs = await panelToken(BOB);
    await stack.api(bobs, 'POST', ISSUE.issueId, { text: 'hi' });
    const listed = await stack.api(bobs, 'GET', ISSUE.issueId);
    expect(listed.body.notes?.map((note) => [note.accountId, (note as { displayName?: string | null }).displayName])).to.deep.equal([
      [ALICE, 'Alice'],
      [BOB, 'Bob'],
    ]);
  });

  it('lists sessions for the admin with display names, issue keys and the device they are grouped by', async () => {
    await panelToken(ALICE);
    await panelToken(BOB, OTHER_ISSUE);
    const listed = await get('/api/admin/sessions', OPERATOR_SECRET);
    expect(listed.status).to.equal(200);
    const sessions = listed.body.sessions as Session[];
    expect(sessions.map(({ accountId, displayName, resource, issueKey }) => ({ accountId, displayName, resource, issueKey }))).to.have.deep.members([
      { accountId: ALICE, displayName: 'Alice', resource: `jira:issue:${ISSUE.issueId}`, issueKey: ISSUE.issueKey },
      { accountId: BOB, displayName: 'Bob', resource: `jira:issue:${OTHER_ISSUE.issueId}`, issueKey: OTHER_ISSUE.issueKey },
    ]);
    // the panels were loaded by Node's fetch from this machine
    for (const session of sessions) expect(session.network).to.match(/^(127\.0\.0\.0\/24|::\/48)$/);
    // one page, one question for its issues
    expect(stack.sim.issueLookups.received).to.have.length(1);
    expect(stack.sim.issueLookups.received[0]).to.have.members([ISSUE.issueId, OTHER_ISSUE.issueId]);
  });

  it("names a project page's session by its project's key, the projects of a page in one question", async () => {
    stack.sim.issues.put(OTHER_PROJECT_ISSUE);
    await projectPageSession(ALICE, ISSUE.projectId);
    await projectPageSession(BOB, OTHER_PROJECT_ISSUE.projectId);
    await projectPageSession(BOB, '90000');
    await panelToken(ALICE);
    const listed = await get('/api/admin/sessions', OPERATOR_SECRET);
    expect(listed.status).to.equal(200);
    const sessions = listed.body.sessions as Session[];
    expect(sessions.map(({ resource, issueKey, projectKey }) => ({ resource, issueKey, projectKey }))).to.have.deep.members([
      { resource: `jira:project:${ISSUE.projectId}`, issueKey: null, projectKey: ISSUE.projectKey },
      { resource: `jira:project:${OTHER_PROJECT_ISSUE.projectId}`, issueKey: null, projectKey: OTHER_PROJECT_ISSUE.projectKey },
      // a project the site does not show (deleted, or never there) stays its id
      { resource: 'jira:project:90000', issueKey: null, projectKey: null },
      { resource: `jira:issue:${ISSUE.issueId}`, issueKey: ISSUE.issueKey, projectKey: null },
    ]);
    expect(stack.sim.projectLookups.received).to.have.length(1);
    expect(stack.sim.projectLookups.received[0]).to.have.members([ISSUE.projectId, OTHER_PROJECT_ISSUE.projectId, '90000']);
    // kept: the next page asks nothing, including about the project the site did not show
    await get('/api/admin/sessions', OPERATOR_SECRET);
    expect(stack.sim.projectLookups.received).to.have.length(1);
  });

  it("names the project of a project page's mint in the audit, and in the user's own sessions", async () => {
    await projectPageSession(ALICE, ISSUE.projectId);
    await stack.app.audit.drain();
    const minted = await get('/api/admin/audit?kind=mint', OPERATOR_SECRET);
    const mint = (minted.body.records as Array<Record<string, unknown>>).find((r) => r.resource === `jira:project:${ISSUE.projectId}`);
    expect(mint).to.include({ accountId: ALICE, displayName: 'Alice', issueKey: null, projectKey: ISSUE.projectKey });
    const page = await fetch(stack.sim.pageUrl('my-sessions', ALICE));
    const token = pageTokenOf(await page.text());
    if (token === null) throw new Error(`no my-sessions token: ${page.status}`);
    const mine = (await get('/api/me/sessions', token)).body.sessions as Session[];
    expect(mine.find((s) => s.resource === `jira:project:${ISSUE.projectId}`)).to.include({ issueKey: null, projectKey: ISSUE.projectKey });
    expect(mine.find((s) => s.resource === 'app:self')).to.include({ projectKey: null });
  });

  it('names the audit\u2019s users, actors and issues', async () => {
    await panelToken(BOB);
    const admin = '557058:ada';
    stack.sim.directory.add({ accountId: admin, displayName: 'Ada Admin', siteAdmin: true });
    const page = await fetch(stack.sim.pageUrl('admin', admin));
    const adminToken = pageTokenOf(await page.text());
    if (adminToken === null) throw new Error(`no admin page token: ${page.status}`);
    const revoked = await fetch(`${stack.app.baseUrl}/api/admin/users/${encodeURIComponent(BOB)}/sessions`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}` } });
    expect(revoked.status).to.equal(204);
    await stack.app.audit.drain();
    const audit = await get('/api/admin/audit?kind=revoke', OPERATOR_SECRET);
    const record = (audit.body.records as Array<Record<string, unknown>>).find((r) => r.accountId === BOB);
    expect(record).to.include({ displayName: 'Bob', actor: `admin:${admin}`, actorDisplayName: 'Ada Admin' });
    const minted = await get('/api/admin/audit?kind=mint', OPERATOR_SECRET);
    const mint = (minted.body.records as Array<Record<string, unknown>>).find((r) => r.accountId === BOB);
    expect(mint).to.include({ resource: `jira:issue:${ISSUE.issueId}`, issueKey: ISSUE.issueKey });
  });

  it('names the signed-in admin to their own page, and no one to an operator', async () => {
    const admin = '557058:ada';
    stack.sim.directory.add({ accountId: admin, displayName: 'Ada Admin', siteAdmin: true });
    const page = await fetch(stack.sim.pageUrl('admin', admin));
    const adminToken = pageTokenOf(await page.text());
    if (adminToken === null) throw new Error(`no admin page token: ${page.status}`);
    const me = await get('/api/admin/me', adminToken);
    expect(me).to.deep.equal({ status: 200, body: { accountId: admin, displayName: 'Ada Admin' } });
    expect(await get('/api/admin/me', OPERATOR_SECRET)).to.deep.equal({ status: 200, body: { accountId: null, displayName: null } });
    // and the id alone while Jira cannot say
    const other = '557058:ben';
    stack.sim.directory.add({ accountId: other, displayName: 'Ben Admin', siteAdmin: true });
    const bens = pageTokenOf(await (await fetch(stack.sim.pageUrl('admin', other))).text());
    if (bens === null) throw new Error('no admin page token for Ben');
    stack.sim.userLookups.fail({ status: 503 });
    expect((await get('/api/admin/me', bens)).body).to.deep.equal({ accountId: other, displayName: null });
  });

  it('names the issues of "my sessions", and marks the one in hand', async () => {
    await panelToken(ALICE);
    const page = await fetch(stack.sim.pageUrl('my-sessions', ALICE));
    const token = pageTokenOf(await page.text());
    if (token === null) throw new Error(`no my-sessions token: ${page.status}`);
    const mine = await get('/api/me/sessions', token);
    const sessions = mine.body.sessions as Session[];
    expect(sessions.find((s) => s.resource === `jira:issue:${ISSUE.issueId}`)).to.include({ issueKey: ISSUE.issueKey, current: false });
    expect(sessions.find((s) => s.resource === 'app:self')).to.include({ issueKey: null, current: true });
    // the user's own name is not repeated to them
    for (const session of sessions) expect(session).to.not.have.any.keys('accountId', 'displayName');
  });

  it('answers with the ids alone when Jira fails, and names them once it answers again', async () => {
    await panelToken(ALICE);
    stack.sim.userLookups.fail({ status: 503 });
    stack.sim.issueLookups.fail({ status: 429, retryAfterSeconds: 30 });
    const listed = await get('/api/admin/sessions', OPERATOR_SECRET);
    expect(listed.status).to.equal(200);
    expect((listed.body.sessions as Session[])[0]).to.include({ accountId: ALICE, displayName: null, issueKey: null });
    // nothing failed was kept: the next page names them
    const again = await get('/api/admin/sessions', OPERATOR_SECRET);
    expect((again.body.sessions as Session[])[0]).to.include({ displayName: 'Alice', issueKey: ISSUE.issueKey });
  });

  it("answers a project page's session with its id alone when project search fails, and names it once it answers", async () => {
    await projectPageSession(ALICE, ISSUE.projectId);
    stack.sim.projectLookups.fail({ status: 503 });
    const listed = await get('/api/admin/sessions', OPERATOR_SECRET);
    expect(listed.status).to.equal(200);
    expect((listed.body.sessions as Session[])[0]).to.include({ displayName: 'Alice', resource: `jira:project:${ISSUE.projectId}`, projectKey: null });
    const again = await get('/api/admin/sessions', OPERATOR_SECRET);
    expect((again.body.sessions as Session[])[0]).to.include({ projectKey: ISSUE.projectKey });
  });
});

const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
