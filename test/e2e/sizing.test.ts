import { expect } from 'chai';
import type { IssueContext } from '../../src/host-simulator';
import { appFrame, expectFitted, overflowsSideways } from './frame-size';
import { saveDocScreenshot, setUpHostBrowser, WAIT, type HostPage } from './host-browser';

async function addNote({ frame }: HostPage, text: string): Promise<void> {
  const before = await frame.locator('#notes li').count();
  await frame.locator('#note-text').fill(text);
  await frame.locator('#add-note').click();
  await frame.locator('#notes li').nth(before).waitFor(WAIT);
}

describe('browser: the Connect pages fit the host', function () {
  const browser = setUpHostBrowser('sizing', { width: 1100, height: 640 });
  let issue: IssueContext;
  let alice: string;
  let run = 0;

  beforeEach(() => {
    run += 1;
    issue = { issueId: String(60000 + run), issueKey: `FIT-${run}`, projectId: '60000', projectKey: 'FIT' };
    alice = browser.stack.sim.directory.add({ accountId: `557058:alice-${run}`, displayName: 'Alice' }).accountId;
  });

  it('sizes the issue panel to its content on load, and again as notes are added', async () => {
    const host = await browser.openIssue(alice, issue);
    const loaded = await expectFitted(host, '#panel');

    for (let i = 1; i <= 4; i += 1) await addNote(host, `Note ${i}: checked on staging, then again on production.`);
    const grown = await expectFitted(host, '#panel');

    expect(grown).to.be.above(loaded);
    await saveDocScreenshot(host.page, 'issue-panel.png');
  });

  it('wraps a long unbroken word in a note instead of scrolling the panel sideways', async () => {
    const host = await browser.openIssue(alice, issue);
    await addNote(host, `https://example.com/${'a'.repeat(300)}`);

    expect(await overflowsSideways(await appFrame(host, '#panel'))).to.equal(false);
    await expectFitted(host, '#panel');
  });

  it('says a refused note beside the form, and sizes the panel to hold it', async () => {
    const host = await browser.openIssue(alice, issue);
    await host.frame.locator('#note-text').fill('   ');
    await host.frame.locator('#add-note').click();

    await host.frame.locator('#add-note-form #note-message.invalid').waitFor(WAIT);
    expect(await host.frame.locator('#note-message').innerText()).to.match(/write something/i);
    await expectFitted(host, '#panel');
  });

  it('sizes the "my sessions" page to its content', async () => {
    await browser.openIssue(alice, issue);
    const host = await browser.openAppPage(alice, 'my-sessions', '#sessions tbody tr[data-current="true"]');

    await expectFitted(host, '#page');
    expect(await overflowsSideways(await appFrame(host, '#page'))).to.equal(false);
    await saveDocScreenshot(host.page, 'my-sessions.png');
  });

  it('sizes the admin page to its content', async () => {
    const admin = browser.stack.sim.directory.add({ accountId: `557058:ada-${run}`, displayName: 'Ada Admin', siteAdmin: true }).accountId;
    await browser.openIssue(alice, issue);
    const host = await browser.openAppPage(admin, 'admin', '#sessions[data-loaded]', '#audit[data-loaded]');

    await expectFitted(host, '#page');
  });
});

describe('browser: the admin page in a narrow window', function () {
  const browser = setUpHostBrowser('sizing-narrow', { width: 800, height: 700 });

  it('has no sideways overflow of its own at 800 px, with long ids in its tables, and fits its iframe', async () => {
    const issue = { issueId: '61001', issueKey: 'NARROW-1', projectId: '61000', projectKey: 'NARROW' };
    // an account id as long as they come, to widen the tables
    const user = browser.stack.sim.directory.add({ accountId: `557058:${'f'.repeat(8)}-${'0123456789abcdef'.repeat(3)}`, displayName: 'Long' }).accountId;
    const admin = browser.stack.sim.directory.add({ accountId: '557058:ada-narrow', displayName: 'Ada Admin', siteAdmin: true }).accountId;
    await browser.openIssue(user, issue);
    const host = await browser.openAppPage(admin, 'admin', '#sessions[data-loaded]', '#audit[data-loaded]');

    expect(await overflowsSideways(await appFrame(host, '#page')), 'the admin page').to.equal(false);
    expect(await overflowsSideways(host.page), 'the host page').to.equal(false);
    await expectFitted(host, '#page');
    await saveDocScreenshot(host.page, 'admin-narrow.png');
  });
});
