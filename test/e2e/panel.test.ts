import { expect } from 'chai';
import type { IssueContext } from '../../src/host-simulator';
import { saveScreenshot, setUpHostBrowser, statusOf, WAIT, type HostPage } from './host-browser';

describe('browser: the issue panel inside the host page', function () {
  const browser = setUpHostBrowser('panel', { width: 1100, height: 640 });
  // One stack for the suite; each test gets its own users and issue, so removals never leak between tests.
  let issue: IssueContext;
  let alice: string;
  let bob: string;
  let run = 0;

  beforeEach(() => {
    run += 1;
    issue = { issueId: String(30000 + run), issueKey: `E2E-${run}`, projectId: '30000', projectKey: 'E2E' };
    alice = browser.stack.sim.directory.add({ accountId: `557058:alice-${run}`, displayName: 'Alice' }).accountId;
    bob = browser.stack.sim.directory.add({ accountId: `557058:bob-${run}`, displayName: 'Bob' }).accountId;
  });

  async function addNote({ frame }: HostPage, text: string): Promise<void> {
    const before = await frame.locator('#notes li').count();
    await frame.locator('#note-text').fill(text);
    await frame.locator('#add-note').click();
    await frame.locator('#notes li').nth(before).waitFor(WAIT);
  }

  async function liveChannels(): Promise<number> {
    const text = await (await fetch(`${browser.stack.app.baseUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('panelguard_live_channels '));
    return line === undefined ? 0 : Number(line.split(' ')[1]);
  }

  async function waitFor(condition: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 200 && !(await condition()); i += 1) await new Promise((resolve) => setTimeout(resolve, 25));
  }

  async function removeUserFromSite({ page }: HostPage): Promise<void> {
    await page.locator('#remove-user').click();
    await page.locator('#admin-status[data-state="done"]').waitFor(WAIT);
  }

  it('lists and adds notes, then shows "access revoked" in the same open panel once the user is removed, without a click', async () => {
    const host = await browser.openIssue(alice, issue);
    expect(await host.frame.locator('#notes li').count()).to.equal(0);
    expect((await statusOf(host)).text).to.match(/no notes yet/i);

    await addNote(host, 'Customer confirmed the fix on staging.');
    expect(await host.frame.locator('#notes li').first().innerText()).to.include('Customer confirmed the fix on staging.');

    await removeUserFromSite(host);
    await host.frame.locator('#status.denied').waitFor(WAIT);

    const status = await statusOf(host);
    expect(status.text).to.match(/access revoked/i);
    expect(status.code).to.equal('token_revoked');
    expect(await host.frame.locator('#notes li').count()).to.equal(0);
    expect(await host.frame.locator('#add-note').isVisible()).to.equal(false);

    await saveScreenshot(host.page, 'panel-revoked.png');
  });

  it("signs each note with its writer's display name, the account id as the tooltip", async () => {
    const alicesHost = await browser.openIssue(alice, issue);
    await addNote(alicesHost, 'from Alice');
    const bobsHost = await browser.openIssue(bob, issue);
    await addNote(bobsHost, 'from Bob');

    const authors = bobsHost.frame.locator('#notes li .author');
    expect(await authors.allInnerTexts()).to.deep.equal(['Alice', 'Bob']);
    expect([await authors.nth(0).getAttribute('title'), await authors.nth(1).getAttribute('title')]).to.deep.equal([alice, bob]);
    expect(await bobsHost.frame.locator('#notes li .meta').first().innerText()).to.match(/^Alice \u00b7 /);
    await saveScreenshot(bobsHost.page, 'panel-names.png');
  });

  it('hides the notes of an open panel and says why within a second of the removal answering', async () => {
    const host = await browser.openIssue(alice, issue);
    await addNote(host, 'seen until the removal');
    // The panel's live channel is open once the server counts it.
    await waitFor(async () => (await liveChannels()) >= 1);

    const removed = await browser.stack.sim.removeUser(alice);
    const answered = Date.now();
    expect(removed?.status).to.equal(200);
    await host.frame.locator('#status.denied').waitFor({ timeout: 1_000 });
    const elapsed = Date.now() - answered;

    expect(elapsed).to.be.below(1_000);
    expect((await statusOf(host)).code).to.equal('token_revoked');
    expect(await host.frame.locator('#notes li').count()).to.equal(0);
    expect(await host.frame.locator('#add-note').isVisible()).to.equal(false);
  });

  it('refuses a note sent from an open panel whose live channel cannot open, after the user is removed, and stores nothing', async () => {
    // Today's behaviour is the fallback: the panel learns of the removal on its next call.
    await browser.context.route('**/api/live**', (route) => route.abort());
    const host = await browser.openIssue(alice, issue);
    await host.frame.locator('#note-text').fill('written before removal, sent after');

    await removeUserFromSite(host);
    await host.frame.locator('#add-note').click();
    await host.frame.locator('#status.denied').waitFor(WAIT);

    expect((await statusOf(host)).text).to.match(/access revoked/i);
    const bobsToken = (await browser.stack.loadPanel(bob, issue)).token;
    expect((await browser.stack.api(bobsToken, 'GET', issue.issueId)).body.notes).to.deep.equal([]);
  });

  it('keeps the notes and the form when a note is refused as blank', async () => {
    const host = await browser.openIssue(alice, issue);
    await addNote(host, 'first');
    await host.frame.locator('#note-text').fill('   ');
    await host.frame.locator('#add-note').click();
    await host.frame.locator('#add-note-form #note-message.invalid').waitFor(WAIT);

    expect(await host.frame.locator('#notes li').count()).to.equal(1);
    expect(await host.frame.locator('#add-note').isVisible()).to.equal(true);
  });

  it("keeps another user's open panel working after the first user is removed", async () => {
    const alicesHost = await browser.openIssue(alice, issue);
    const bobsHost = await browser.openIssue(bob, issue);
    await addNote(alicesHost, 'from Alice');

    await removeUserFromSite(alicesHost);
    await bobsHost.frame.locator('#refresh').click();
    await bobsHost.frame.locator('#notes li').first().waitFor(WAIT);
    await addNote(bobsHost, 'from Bob, after Alice left');

    expect((await statusOf(bobsHost)).className).not.to.include('denied');
    expect(await bobsHost.frame.locator('#notes li').allInnerTexts()).to.have.length(2);
  });
});
