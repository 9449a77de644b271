/**
 * Theft detection as people see it, in Chromium through the simulator's host page: an open panel follows its
 * session's rotation without a sound; a copy of its token used from another browser ends the session and the
 * panel says so; the user's and the admin's pages show what happened; with key binding a copy is useless.
 * Rotation runs every second here, so nothing waits a real minute; timing is polled, never assumed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { BrowserContext } from 'playwright-core';
import type { IssueContext } from '../../src/host-simulator';
import type { Stack } from '../integration/harness';
import { saveScreenshot, setUpHostBrowser, statusOf, WAIT, type HostBrowser, type HostPage } from './host-browser';

/** A successor offered once a token has served a second; its predecessor kept half a second after. */
const ROTATION = { ROTATE_AFTER_SECONDS: '1', ROTATION_GRACE_SECONDS: '0.5' };
/** How long a poll may take: several rotations, on a slow machine. */
const POLL_MS = 20_000;
/** The pause between a poll's attempts: pacing, so a poll does not flood the app; never a deadline. */
const PACE_MS = 150;

/** Tries `attempt` until it answers something, for at most POLL_MS. */
async function eventually<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + POLL_MS;
  for (;;) {
    const answer = await attempt();
    if (answer !== undefined) return answer;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, PACE_MS));
  }
}

/** One API call a page made, as it went out and came back. */
interface ApiCall {
  token: string | null;
  proof: string | null;
  status: number;
  next: string | null;
}

/** Records every call the context's pages make to the app's API, from now on. */
function recordApiCalls(context: BrowserContext, baseUrl: string): ApiCall[] {
  const calls: ApiCall[] = [];
  const app = new URL(baseUrl).origin;
  context.on('response', async (response) => {
    const request = response.request();
    const url = new URL(request.url());
    if (url.origin !== app || !url.pathname.startsWith('/api/')) return;
    const [sent, received] = await Promise.all([request.allHeaders(), response.allHeaders()]);
    const bearer = /^Bearer (.+)$/.exec(sent.authorization ?? '');
    calls.push({ token: bearer?.[1] ?? null, proof: sent.dpop ?? null, status: response.status(), next: received['page-token-next'] ?? null });
  });
  return calls;
}

/** The page token the server wrote into a Connect page: what a script injected into it, or a look at its source, would copy. */
async function pageTokenIn({ frame }: HostPage): Promise<string> {
  const token = await frame.locator('meta[name="page-token"]').getAttribute('content');
  if (token === null) throw new Error('the page has no page token');
  return token;
}

/** Clicks the panel's Refresh and waits for its answer. */
async function refreshPanel({ page, frame }: HostPage): Promise<void> {
  const answered = page.waitForResponse((response) => new URL(response.url()).pathname.startsWith('/api/issues/'), WAIT);
  await frame.locator('#refresh').click();
  await answered;
}

/** Keeps the panel working until one of its calls was served with a token other than `first`: it has rotated. */
async function untilRotated(host: HostPage, calls: ApiCall[], first: string): Promise<string> {
  return eventually('the panel to rotate its token', async () => {
    await refreshPanel(host);
    return calls.find((call) => call.status === 200 && call.token !== null && call.token !== first)?.token ?? undefined;
  });
}

/** A tab in a browser of its own, on the app's origin, that calls the API with a copied token as the thief's script would. */
async function thiefWith(browser: HostBrowser, token: string): Promise<(issueId: string) => Promise<{ status: number; code: string | null }>> {
  const page = await (await browser.otherContext()).newPage();
  await page.goto(`${browser.stack.app.baseUrl}/healthz`);
  return (issueId) =>
    page.evaluate(
      async ({ path, bearer }) => {
        const response = await fetch(path, { headers: { Authorization: `Bearer ${bearer}` } });
        const body = (await response.json()) as { error?: { code: string } };
        return { status: response.status, code: body.error?.code ?? null };
      },
      { path: `/api/issues/${encodeURIComponent(issueId)}/notes`, bearer: token },
    );
}

/** Signals the audit holds about `accountId`. */
async function signalsOf(stack: Stack, accountId: string): Promise<unknown[]> {
  await stack.app.audit.drain();
  return (await stack.app.store.listAudit({ clientKey: stack.sim.clientKey, kind: 'signal', accountId, limit: 50 })).records;
}

/** A fork over plain HTTP: a panel session rotates once, then its first token is used again after the grace. */
async function forkOverHttp(stack: Stack, accountId: string, issue: IssueContext): Promise<void> {
  const first = (await stack.loadPanel(accountId, issue)).token;
  if (first === null) throw new Error('no panel token');
  const offered = await eventually('a successor offered', async () => (await stack.api(first, 'GET', issue.issueId)).headers.get('page-token-next') ?? undefined);
  expect((await stack.api(offered, 'GET', issue.issueId)).status).to.equal(200);
  const refused = await eventually('the first token refused', async () => {
    const answer = await stack.api(first, 'GET', issue.issueId);
    return answer.status === 200 ? undefined : answer;
  });
  expect(refused.body.error?.code).to.equal('token_forked');
}

describe('browser: theft detection on open pages', function () {
  this.timeout(60_000);
  const browser = setUpHostBrowser('theft', { width: 1100, height: 700 }, { env: ROTATION });
  let issue: IssueContext;
  let alice: string;
  let run = 0;

  beforeEach(() => {
    run += 1;
    issue = { issueId: String(60000 + run), issueKey: `THF-${run}`, projectId: '60000', projectKey: 'THF' };
    alice = browser.stack.sim.directory.add({ accountId: `557058:alice-theft-${run}`, displayName: 'Alice' }).accountId;
  });

  it('follows its session through several rotations: each call carries the newest token and a proof, and nothing is flagged', async () => {
    const calls = recordApiCalls(browser.context, browser.stack.app.baseUrl);
    const host = await browser.openIssue(alice, issue);
    const first = await pageTokenIn(host);

    const tokens = await eventually('three rotations', async () => {
      await refreshPanel(host);
      const seen = new Set(calls.map((call) => call.token));
      return seen.size >= 4 ? seen : undefined;
    });

    expect(calls.every((call) => call.status === 200), JSON.stringify(calls.map((call) => call.status))).to.equal(true);
    expect(calls.every((call) => call.proof !== null)).to.equal(true);
    // Every token the panel sent was the one it was handed, or a successor an earlier answer offered.
    const offered = new Set<string | null>([first, ...calls.map((call) => call.next)]);
    for (const token of tokens) expect(offered.has(token)).to.equal(true);
    expect((await statusOf(host)).className).to.not.include('denied');
    expect(await signalsOf(browser.stack, alice)).to.deep.equal([]);
  });

  it('ends the session when a copy of its token is used from another browser, and the open panel says it was used elsewhere', async () => {
    const calls = recordApiCalls(browser.context, browser.stack.app.baseUrl);
    const victim = await browser.openIssue(alice, issue);
    const stolen = await pageTokenIn(victim);
    await untilRotated(victim, calls, stolen);

    // The copy works while its grace lasts, as a request in flight would; once the grace is over it is a fork.
    const thief = await thiefWith(browser, stolen);
    const refused = await eventually('the copy refused', async () => {
      const answer = await thief(issue.issueId);
      return answer.status === 200 ? undefined : answer;
    });
    expect(refused).to.deep.equal({ status: 401, code: 'token_forked' });

    // Without a click: the panel's live channel told it.
    await victim.frame.locator('#status[data-code="token_forked"]').waitFor(WAIT);
    const status = await statusOf(victim);
    expect(status.className).to.equal('denied');
    expect(status.text).to.match(/used elsewhere/i);
    expect(await victim.frame.locator('#notes li').count()).to.equal(0);
    expect(await victim.frame.locator('#add-note').isVisible()).to.equal(false);
    await saveScreenshot(victim.page, 'theft-panel-forked.png');
  });

  it("tells the user on their sessions page that a copy of one of their sessions was used, on which issue, and where from", async () => {
    browser.stack.sim.issues.put(issue);
    await forkOverHttp(browser.stack, alice, issue);
    const mine = await browser.openAppPage(alice, 'my-sessions', '#signals[data-loaded]');
    const notice = mine.frame.locator('#signals li.alert[data-kind="fork"]');
    expect(await notice.count()).to.equal(1);
    expect(await notice.innerText()).to.match(new RegExp(`^A copy of one of your sessions \\(${issue.issueKey}\\) was used from .+ at .+; it was ended\\.$`));
    await saveScreenshot(mine.page, 'theft-my-sessions.png');
  });

  it('lists the fork under Suspicious sessions on the admin page, with both sides', async () => {
    const admin = browser.stack.sim.directory.add({ accountId: `557058:ada-theft-${run}`, displayName: 'Ada Admin', siteAdmin: true }).accountId;
    browser.stack.sim.issues.put(issue);
    await forkOverHttp(browser.stack, alice, issue);
    const page = await browser.openAppPage(admin, 'admin', '#signals[data-loaded]');
    const row = page.frame.locator(`#signals tr[data-kind="fork"][data-account-id="${alice}"]`);
    expect(await row.count()).to.equal(1);
    expect(await row.getAttribute('data-action')).to.equal('revoked');
    expect(await row.locator('.kind').innerText()).to.equal('Copy used elsewhere');
    expect(await row.locator('.action').innerText()).to.equal('Ended');
    // the user and the issue by name, their ids as tooltips
    expect(await row.locator('.user').innerText()).to.equal('Alice');
    expect(await row.locator('.user').getAttribute('title')).to.equal(alice);
    expect(await row.locator('.resource').innerText()).to.equal(issue.issueKey);
    expect(await row.locator('.resource').getAttribute('title')).to.equal(`jira:issue:${issue.issueId}`);
    for (const side of ['.presented', '.holder']) {
      expect(await row.locator(`${side} .ip`).innerText(), side).to.match(/[0-9a-f:.]+/);
      expect(await row.locator(`${side} .network`).innerText(), side).to.match(/\/\d+$/);
    }
    await row.scrollIntoViewIfNeeded();
    await saveScreenshot(page.page, 'theft-admin-signals.png');
  });
});

describe('browser: key-bound sessions', function () {
  this.timeout(60_000);
  const clientKey = `e2e-keys-${randomUUID()}`;
  const operatorSecret = randomBytes(24).toString('base64url');
  const browser = setUpHostBrowser('key-binding', { width: 1100, height: 700 }, { clientKey, env: { ...ROTATION, OPERATOR_TOKEN: `${clientKey}:${operatorSecret}` } });
  let issue: IssueContext;
  let alice: string;
  let run = 0;

  before(async () => {
    const answer = await fetch(`${browser.stack.app.baseUrl}/api/admin/policy`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${operatorSecret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ keyBinding: true }),
    });
    expect(answer.status).to.equal(200);
  });

  beforeEach(() => {
    run += 1;
    issue = { issueId: String(61000 + run), issueKey: `KEY-${run}`, projectId: '61000', projectKey: 'KEY' };
    alice = browser.stack.sim.directory.add({ accountId: `557058:alice-keys-${run}`, displayName: 'Alice' }).accountId;
  });

  it('refuses a copied token outright from a browser without the key, while the page that holds the key keeps working across rotations', async () => {
    const calls = recordApiCalls(browser.context, browser.stack.app.baseUrl);
    const victim = await browser.openIssue(alice, issue);
    expect((await statusOf(victim)).text).to.match(/no notes yet/i);
    const stolen = await pageTokenIn(victim);

    const thief = await thiefWith(browser, stolen);
    expect(await thief(issue.issueId)).to.deep.equal({ status: 401, code: 'token_invalid' });

    await victim.frame.locator('#note-text').fill('written after the copy was tried');
    await victim.frame.locator('#add-note').click();
    await victim.frame.locator('#notes li').first().waitFor(WAIT);
    await untilRotated(victim, calls, stolen);
    expect(await thief(issue.issueId)).to.deep.equal({ status: 401, code: 'token_invalid' });

    expect(calls.every((call) => call.status < 300), JSON.stringify(calls.map((call) => call.status))).to.equal(true);
    expect((await statusOf(victim)).className).to.not.include('denied');
    // Refused before its place in the chain was looked at: a copy without the key cannot even end the session.
    expect(await signalsOf(browser.stack, alice)).to.deep.equal([]);
  });
});
