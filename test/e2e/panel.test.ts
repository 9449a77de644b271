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

/** One user's browser on the simulated issue view, with the app's panel inside it. */
interface HostPage {
  page: Page;
  panel: FrameLocator;
}

describe('browser: the issue panel inside the host page', function () {
  let browser: Browser;
  let stack: Stack;
  let context: BrowserContext;
  // One stack for the suite; each test gets its own users and issue, so removals never leak between tests.
  let issue: IssueContext;
  let alice: string;
  let bob: string;
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
    issue = { issueId: String(30000 + run), issueKey: `E2E-${run}`, projectId: '30000', projectKey: 'E2E' };
    alice = stack.sim.directory.add({ accountId: `557058:alice-${run}`, displayName: 'Alice' }).accountId;
    bob = stack.sim.directory.add({ accountId: `557058:bob-${run}`, displayName: 'Bob' }).accountId;
    context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
  });
  afterEach(async () => {
    await context?.close();
  });

  async function openIssueAs(accountId: string): Promise<HostPage> {
    const page = await context.newPage();
    await page.goto(stack.sim.hostPageUrl(accountId, issue));
    const panel = page.frameLocator('#panel');
    // the panel's script has answered once the status line says something
    await panel.locator('#status:not(:empty)').waitFor(WAIT);
    return { page, panel };
  }

  async function addNote({ panel }: HostPage, text: string): Promise<void> {
    const before = await panel.locator('#notes li').count();
    await panel.locator('#note-text').fill(text);
    await panel.locator('#add-note').click();
    await panel.locator('#notes li').nth(before).waitFor(WAIT);
  }

  async function removeUserFromSite({ page }: HostPage): Promise<void> {
    await page.locator('#remove-user').click();
    await page.locator('#admin-status[data-state="done"]').waitFor(WAIT);
  }

  async function statusOf({ panel }: HostPage): Promise<{ text: string; className: string; code: string | null }> {
    const status = panel.locator('#status');
    return { text: await status.innerText(), className: (await status.getAttribute('class')) ?? '', code: await status.getAttribute('data-code') };
  }

  it('lists and adds notes, then shows "access revoked" in the same open panel once the user is removed', async () => {
    const host = await openIssueAs(alice);
    expect(await host.panel.locator('#notes li').count()).to.equal(0);
    expect((await statusOf(host)).text).to.match(/no notes yet/i);

    await addNote(host, 'Customer confirmed the fix on staging.');
    expect(await host.panel.locator('#notes li').first().innerText()).to.include('Customer confirmed the fix on staging.');

    await removeUserFromSite(host);
    await host.panel.locator('#refresh').click();
    await host.panel.locator('#status.denied').waitFor(WAIT);

    const status = await statusOf(host);
    expect(status.text).to.match(/access revoked/i);
    expect(status.code).to.equal('token_revoked');
    expect(await host.panel.locator('#notes li').count()).to.equal(0);
    expect(await host.panel.locator('#add-note').isVisible()).to.equal(false);

    mkdirSync(RESULTS_DIR, { recursive: true });
    await host.page.screenshot({ path: path.join(RESULTS_DIR, 'panel-revoked.png') });
  });

  it('refuses a note sent from the open panel after the user is removed, and stores nothing', async () => {
    const host = await openIssueAs(alice);
    await host.panel.locator('#note-text').fill('written before removal, sent after');

    await removeUserFromSite(host);
    await host.panel.locator('#add-note').click();
    await host.panel.locator('#status.denied').waitFor(WAIT);

    expect((await statusOf(host)).text).to.match(/access revoked/i);
    const bobsToken = (await stack.loadPanel(bob, issue)).token;
    expect((await stack.api(bobsToken, 'GET', issue.issueId)).body.notes).to.deep.equal([]);
  });

  it('keeps the notes and the form when a note is refused as blank', async () => {
    const host = await openIssueAs(alice);
    await addNote(host, 'first');
    await host.panel.locator('#note-text').fill('   ');
    await host.panel.locator('#add-note').click();
    await host.panel.locator('#status.invalid').waitFor(WAIT);

    expect(await host.panel.locator('#notes li').count()).to.equal(1);
    expect(await host.panel.locator('#add-note').isVisible()).to.equal(true);
  });

  it("keeps another user's open panel working after the first user is removed", async () => {
    const alicesHost = await openIssueAs(alice);
    const bobsHost = await openIssueAs(bob);
    await addNote(alicesHost, 'from Alice');

    await removeUserFromSite(alicesHost);
    await bobsHost.panel.locator('#refresh').click();
    await bobsHost.panel.locator('#notes li').first().waitFor(WAIT);
    await addNote(bobsHost, 'from Bob, after Alice left');

    expect((await statusOf(bobsHost)).className).not.to.include('denied');
    expect(await bobsHost.panel.locator('#notes li').allInnerTexts()).to.have.length(2);
  });
});
