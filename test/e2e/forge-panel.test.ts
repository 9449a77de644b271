/**
 * The Forge issue panel end to end: PanelGuard's built Custom UI (with the real @forge/bridge) in the host
 * simulator's Forge frame, calling the running app as a Forge Remote with FITs the simulator signs. A user
 * removed on the site sees the open panel hide its notes and say why, without a click: the panel long-polls
 * through invokeRemote. Where the poll cannot be held, the panel's next action is refused instead.
 */
import { expect } from 'chai';
import type { IssueContext } from '../../src/host-simulator';
import { setUpForgeBrowser } from './forge-browser';
import { saveScreenshot, statusOf, WAIT, type HostPage } from './host-browser';

const ISSUE: IssueContext = { issueId: '41001', issueKey: 'FRG-1', projectId: '41000', projectKey: 'FRG' };

describe('browser: the Forge issue panel, through the simulated Forge host', function () {
  const browser = setUpForgeBrowser({ width: 1100, height: 640 });
  let run = 0;

  function newUser(): string {
    run += 1;
    return browser.stack.sim.directory.add({ accountId: `557058:forge-${run}`, displayName: `Forge user ${run}` }).accountId;
  }

  const openPanel = (accountId: string): Promise<HostPage> => browser.openPanel(accountId, ISSUE);

  async function addNote({ frame }: HostPage, text: string): Promise<void> {
    const before = await frame.locator('#notes li').count();
    await frame.locator('#note-text').fill(text);
    await frame.locator('#add-note').click();
    await frame.locator('#notes li').nth(before).waitFor(WAIT);
  }

  /** Resolves once the host has passed on a poll of `accountId`'s panel to Forge (the app holds it a moment later). */
  async function polling(accountId: string): Promise<void> {
    const sent = () => browser.forge.bridgeCalls().some((call) => call.accountId === accountId && call.path?.startsWith('/api/live/poll?') === true);
    for (let i = 0; i < 400 && !sent(); i += 1) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(sent(), 'the panel polls').to.equal(true);
  }

  it('lists and adds a note, then shows "access revoked" on the open panel once the user is removed, without a click', async () => {
    const user = newUser();
    const host = await openPanel(user);
    expect(await host.frame.locator('#issue-key').innerText()).to.equal(ISSUE.issueKey);

    await addNote(host, 'Added through the Forge bridge.');
    expect(await host.frame.locator('#notes li').first().innerText()).to.include('Added through the Forge bridge.');
    // the writer by name, asked of Jira through Forge's product API with the call's app system token; the id as tooltip
    const author = host.frame.locator('#notes li .author').first();
    expect(await author.innerText()).to.equal(`Forge user ${run}`);
    expect(await author.getAttribute('title')).to.equal(user);

    const removed = await browser.forge.removeUser(user);
    expect(removed?.status).to.equal(200);
    await host.frame.locator('#status.denied').waitFor(WAIT);

    const status = await statusOf(host);
    expect(status.text).to.match(/access revoked/i);
    expect(status.code).to.equal('token_revoked');
    expect(await host.frame.locator('#notes li').count()).to.equal(0);
    expect(await host.frame.locator('#add-note').isVisible()).to.equal(false);
    await saveScreenshot(host.page, 'forge-panel-revoked.png');
  });

  it('hides the notes of an open panel and says why within a second of the removal answering', async () => {
    const user = newUser();
    const host = await openPanel(user);
    await addNote(host, 'seen until the removal');
    await polling(user);

    const removed = await browser.forge.removeUser(user);
    const answered = Date.now();
    expect(removed?.status).to.equal(200);
    await host.frame.locator('#status.denied').waitFor({ timeout: 1_000 });
    const elapsed = Date.now() - answered;

    expect(elapsed).to.be.below(1_000);
    expect((await statusOf(host)).code).to.equal('token_revoked');
    expect(await host.frame.locator('#notes li').count()).to.equal(0);
  });

  it('refuses the next action of an open panel whose poll cannot be held, after the user is removed', async () => {
    // Today's behaviour is the fallback: every poll the bridge carries fails, and the panel learns on its next call.
    await browser.context.route('**/forge/bridge/**', (route) =>
      route.request().postData()?.includes('/api/live/poll') === true ? route.fulfill({ json: { ok: false, error: 'An unexpected error happened' } }) : route.continue(),
    );
    const user = newUser();
    const host = await openPanel(user);
    await addNote(host, 'written before removal');

    expect((await browser.forge.removeUser(user))?.status).to.equal(200);
    expect((await statusOf(host)).className).to.not.include('denied');
    await host.frame.locator('#refresh').click();
    await host.frame.locator('#status.denied').waitFor(WAIT);

    expect((await statusOf(host)).code).to.equal('token_revoked');
    expect(await host.frame.locator('#notes li').count()).to.equal(0);
  });

  it('reaches the app only through the bridge: every call the page makes is an invoke or a getContext', async () => {
    const user = newUser();
    const host = await openPanel(user);
    await host.frame.locator('#refresh').click();
    await host.frame.locator('#status:not(.denied)').waitFor(WAIT);
    const calls = browser.forge.bridgeCalls().filter((call) => call.accountId === user);
    expect(calls.map((call) => call.name)).to.include('invoke');
    expect(calls.every((call) => call.name === 'invoke' || call.name === 'getContext')).to.equal(true);
  });

  it('says who is signed in on the Forge admin page by display name, the account id as the tooltip', async () => {
    run += 1;
    const admin = browser.stack.sim.directory.add({ accountId: `557058:forge-admin-${run}`, displayName: 'Forge admin', siteAdmin: true }).accountId;
    const adminPage = await browser.context.newPage();
    await adminPage.goto(browser.forge.hostPageUrl(admin, 'panelguard-admin-page'));
    const signedInAs = adminPage.frameLocator('#page').locator(`#admin-account[data-account-id="${admin}"]`);
    await signedInAs.waitFor(WAIT);
    expect(await signedInAs.innerText()).to.equal('Forge admin');
    expect(await signedInAs.getAttribute('title')).to.equal(admin);
  });

  it('keeps working with key binding on: its proofs name the URL the app was called at, which only /forge/sessions could tell it', async () => {
    run += 1;
    const admin = browser.stack.sim.directory.add({ accountId: `557058:forge-admin-${run}`, displayName: 'Forge admin', siteAdmin: true }).accountId;
    const adminPage = await browser.context.newPage();
    await adminPage.goto(browser.forge.hostPageUrl(admin, 'panelguard-admin-page'));
    const adminFrame = adminPage.frameLocator('#page');
    const setKeyBinding = async (on: boolean): Promise<void> => {
      await adminFrame.locator('#policy-form[data-loaded]').waitFor(WAIT);
      await adminFrame.locator('#key-binding').setChecked(on);
      await adminFrame.locator('#policy-save').click();
      await adminFrame.locator('#status.done', { hasText: `key binding ${on ? 'on' : 'off'}.` }).waitFor(WAIT);
    };
    await setKeyBinding(true);
    try {
      const host = await openPanel(newUser());
      expect((await statusOf(host)).className).to.not.include('denied');
      await host.frame.locator('#note-text').fill('Signed with a key the page cannot export.');
      await host.frame.locator('#add-note').click();
      await host.frame.locator('#notes li').first().waitFor(WAIT);
      expect((await statusOf(host)).className).to.not.include('denied');
    } finally {
      // The suite shares one site: the next test starts from the default policy.
      await setKeyBinding(false);
    }
  });
});
