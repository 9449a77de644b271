/**
 * The Forge pages fit the host as Custom UI does: the script Forge puts in every Custom UI frame reports the
 * content's height, the host sizes the iframe to it, and the page itself asks for nothing. The same checks as
 * sizing.test.ts makes of the Connect pages.
 */
import { expect } from 'chai';
import type { IssueContext } from '../../src/host-simulator';
import { ADMIN_PAGE, MY_SESSIONS, setUpForgeBrowser } from './forge-browser';
import { appFrame, expectFitted, overflowsSideways } from './frame-size';
import { WAIT, type HostPage } from './host-browser';

async function addNote({ frame }: HostPage, text: string): Promise<void> {
  const before = await frame.locator('#notes li').count();
  await frame.locator('#note-text').fill(text);
  await frame.locator('#add-note').click();
  await frame.locator('#notes li').nth(before).waitFor(WAIT);
}

describe('browser: the Forge pages fit the host', function () {
  const browser = setUpForgeBrowser({ width: 1100, height: 640 });
  let issue: IssueContext;
  let alice: string;
  let run = 0;

  beforeEach(() => {
    run += 1;
    issue = { issueId: String(62000 + run), issueKey: `FFIT-${run}`, projectId: '62000', projectKey: 'FFIT' };
    alice = browser.stack.sim.directory.add({ accountId: `557058:forge-fit-${run}`, displayName: 'Alice' }).accountId;
  });

  it('sizes the issue panel to its content on load, and again as notes are added', async () => {
    const host = await browser.openPanel(alice, issue);
    const loaded = await expectFitted(host, '#panel');

    for (let i = 1; i <= 4; i += 1) await addNote(host, `Note ${i}: checked on staging, then again on production.`);
    const grown = await expectFitted(host, '#panel');

    expect(grown).to.be.above(loaded);
  });

  it('wraps a long unbroken word in a note instead of scrolling the panel sideways', async () => {
    const host = await browser.openPanel(alice, issue);
    await addNote(host, `https://example.com/${'a'.repeat(300)}`);

    expect(await overflowsSideways(await appFrame(host, '#panel'))).to.equal(false);
    await expectFitted(host, '#panel');
  });

  it('shrinks the panel when it goes dark and its notes are hidden', async () => {
    const host = await browser.openPanel(alice, issue);
    for (let i = 1; i <= 3; i += 1) await addNote(host, `Note ${i}`);
    const full = await expectFitted(host, '#panel');

    await browser.forge.removeUser(alice);
    await host.frame.locator('#status.denied').waitFor(WAIT);
    const dark = await expectFitted(host, '#panel');

    expect(dark).to.be.below(full);
  });

  it('sizes the "my sessions" page to its content', async () => {
    await browser.openPanel(alice, issue);
    const host = await browser.openPage(alice, MY_SESSIONS, '#sessions tbody tr[data-current="true"]');

    await expectFitted(host, '#page');
    expect(await overflowsSideways(await appFrame(host, '#page'))).to.equal(false);
  });

  it('sizes the admin page to its content', async () => {
    const admin = browser.stack.sim.directory.add({ accountId: `557058:forge-ada-${run}`, displayName: 'Ada Admin', siteAdmin: true }).accountId;
    await browser.openPanel(alice, issue);
    const host = await browser.openPage(admin, ADMIN_PAGE, '#sessions[data-loaded]', '#audit[data-loaded]');

    await expectFitted(host, '#page');
  });
});
