import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import type { IssueContext } from '../../src/host-simulator';
import { PROJECT_ROOT } from '../../src/paths';
import { startStack, type Stack } from '../integration/harness';
import { chromiumOrSkip, launchChromium } from './chromium';

const RESULTS_DIR = path.join(PROJECT_ROOT, 'test-results');
/** Long enough for a slow CI machine, short enough that a hang fails well inside mocha's timeout. */
const WAIT = { timeout: 10_000 };

/** One browser tab on a host page, with the app's iframe inside it. */
interface HostPage {
  page: Page;
  frame: FrameLocator;
}

describe('browser: the "my sessions" page inside the host page', function () {
  let browser: Browser;
  let stack: Stack;
  let context: BrowserContext;
  // One stack for the suite; each test gets its own user and issues, so ended sessions never leak between tests.
  let issue: IssueContext;
  let otherIssue: IssueContext;
  let alice: string;
  let run = 0;

  before(async function () {
    const executablePath = chromiumOrSkip(this);
    [browser, stack] = await Promise.all([launchChromium(executablePath), startStack()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });
  beforeEach(async () => {
    run += 1;
    issue = { issueId: String(50000 + 2 * run), issueKey: `MINE-${2 * run}`, projectId: '50000', projectKey: 'MINE' };
    otherIssue = { issueId: String(50001 + 2 * run), issueKey: `MINE-${2 * run + 1}`, projectId: '50000', projectKey: 'MINE' };
    alice = stack.sim.directory.add({ accountId: `557058:alice-${run}`, displayName: 'Alice' }).accountId;
    context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && context !== undefined) {
      mkdirSync(RESULTS_DIR, { recursive: true });
      const name = (this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60) || 'my-sessions').toLowerCase();
      for (const [i, page] of context.pages().entries()) {
        await page.screenshot({ path: path.join(RESULTS_DIR, `my-sessions-failed-${name}-${i}.png`), fullPage: true });
      }
    }
    await context?.close();
  });

  async function openIssue(ctx: IssueContext): Promise<HostPage> {
    const page = await context.newPage();
    await page.goto(stack.sim.hostPageUrl(alice, ctx));
    const frame = page.frameLocator('#panel');
    await frame.locator('#status:not(:empty)').waitFor(WAIT);
    return { page, frame };
  }

  async function openMySessions(): Promise<HostPage> {
    const page = await context.newPage();
    await page.goto(stack.sim.appPageUrl(alice, 'my-sessions'));
    const frame = page.frameLocator('#page');
    // the page's script has answered once the status line says something
    await frame.locator('#status:not(:empty)').waitFor(WAIT);
    return { page, frame };
  }

  function rowOn({ frame }: HostPage, ctx: IssueContext) {
    return frame.locator(`#sessions tr[data-resource="jira:issue:${ctx.issueId}"]`);
  }

  async function expectRevoked({ frame }: HostPage): Promise<void> {
    await frame.locator('#refresh').click();
    await frame.locator('#status.denied').waitFor(WAIT);
    const status = frame.locator('#status');
    expect(await status.innerText()).to.match(/access revoked/i);
    expect(await status.getAttribute('data-code')).to.equal('token_revoked');
  }

  it("lists the issue panel's session and marks this one; ending the panel's session shows access revoked in that tab", async () => {
    const tabA = await openIssue(issue);
    const mine = await openMySessions();

    const sessionA = rowOn(mine, issue);
    expect(await sessionA.count()).to.equal(1);
    expect(await sessionA.locator('.where').innerText()).to.equal(`Issue ${issue.issueId}`);
    const current = mine.frame.locator('#sessions tr[data-current="true"]');
    expect(await current.count()).to.equal(1);
    expect(await current.locator('.where').innerText()).to.match(/this session/i);
    expect(await current.locator('button.end').count()).to.equal(0);

    await sessionA.locator('button.end').click();
    await mine.frame.locator('#status.done').waitFor(WAIT);
    expect(await mine.frame.locator('#status').innerText()).to.equal(`Ended the session on Issue ${issue.issueId}.`);
    expect(await rowOn(mine, issue).count()).to.equal(0);
    expect(await current.count()).to.equal(1);

    await expectRevoked(tabA);

    mkdirSync(RESULTS_DIR, { recursive: true });
    await mine.page.screenshot({ path: path.join(RESULTS_DIR, 'my-sessions-ended.png') });
  });

  it('ends every other session at once and keeps this page working', async () => {
    const tabA = await openIssue(issue);
    const tabB = await openIssue(otherIssue);
    const mine = await openMySessions();
    expect(await mine.frame.locator('#sessions tr[data-current="false"]').count()).to.equal(2);

    await mine.frame.locator('#end-others').click();
    await mine.frame.locator('#status.done').waitFor(WAIT);
    expect(await mine.frame.locator('#status').innerText()).to.match(/^Ended 2 other sessions; 1\/1 nodes confirmed\.$/);
    expect(await mine.frame.locator('#sessions tbody tr').count()).to.equal(1);
    expect(await mine.frame.locator('#end-others').isDisabled()).to.equal(true);

    await mine.frame.locator('#refresh').click();
    await mine.frame.locator('#status:not(.denied)').waitFor(WAIT);
    await expectRevoked(tabA);
    await expectRevoked(tabB);
  });

  it('shows access revoked and disables its buttons when its own session is ended from another tab', async () => {
    const first = await openMySessions();
    const second = await openMySessions();

    // in the second tab, the first tab's page is the other "My sessions page"
    await second.frame.locator('#sessions tr[data-current="false"] button.end').click();
    await second.frame.locator('#status.done').waitFor(WAIT);

    await expectRevoked(first);
    expect(await first.frame.locator('#end-others').isDisabled()).to.equal(true);
    expect(await first.frame.locator('#sessions tbody tr').count()).to.equal(0);
  });
});
