/**
 * The Forge issue panel end to end: PanelGuard's built Custom UI (with the real @forge/bridge) in the host
 * simulator's Forge frame, calling the running app as a Forge Remote with FITs the simulator signs. A user
 * removed on the site is refused on the open panel's next action.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Browser, BrowserContext } from 'playwright-core';
import { buildForgeUi } from '../../forge/build';
import type { IssueContext } from '../../src/host-simulator';
import { startForgeSimulator, type ForgeSimulator } from '../../src/host-simulator/forge';
import { startStack, type Stack } from '../integration/harness';
import { freePort } from '../support/ports';
import { chromiumOrSkip, launchChromium } from './chromium';
import { saveScreenshot, statusOf, WAIT, type HostPage } from './host-browser';

const ISSUE: IssueContext = { issueId: '41001', issueKey: 'FRG-1', projectId: '41000', projectKey: 'FRG' };
const PANEL = 'panelguard-issue-panel';

describe('browser: the Forge issue panel, through the simulated Forge host', function () {
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let stack: Stack;
  let forge: ForgeSimulator;
  let run = 0;

  before(async function () {
    const executablePath = chromiumOrSkip(this);
    await buildForgeUi();
    // The app is configured with the simulated Forge's app id and JWKS before either starts.
    const appId = `ari:cloud:ecosystem::app/${randomUUID()}`;
    const cdnPort = await freePort();
    const jwksUrl = `http://127.0.0.1:${cdnPort}/.well-known/jwks.json`;
    [browser, stack] = await Promise.all([launchChromium(executablePath), startStack({ env: { FORGE_APP_ID: appId, FORGE_JWKS_URL: jwksUrl } })]);
    forge = await startForgeSimulator(stack.sim, { appId, cdnPort });
    expect(forge.jwksUrl).to.equal(jwksUrl);
    const installed = await forge.install(stack.app.baseUrl);
    expect(installed?.status).to.equal(204);
  });

  after(async () => {
    await browser?.close();
    await forge?.close();
    await stack?.stop();
  });

  beforeEach(async () => {
    context = await browser!.newContext({ viewport: { width: 1100, height: 640 } });
  });

  afterEach(async () => {
    await context?.close();
  });

  function newUser(): string {
    run += 1;
    return stack.sim.directory.add({ accountId: `557058:forge-${run}`, displayName: `Forge user ${run}` }).accountId;
  }

  async function openPanel(accountId: string): Promise<HostPage> {
    const page = await context!.newPage();
    await page.goto(forge.hostPageUrl(accountId, PANEL, ISSUE));
    const frame = page.frameLocator('#panel');
    await frame.locator('#status').and(frame.locator(':not(:empty)')).waitFor(WAIT);
    return { page, frame };
  }

  it('lists and adds a note, then shows "access revoked" on the open panel once the user is removed', async () => {
    const user = newUser();
    const host = await openPanel(user);
    expect(await host.frame.locator('#issue-key').innerText()).to.equal(ISSUE.issueKey);

    await host.frame.locator('#note-text').fill('Added through the Forge bridge.');
    await host.frame.locator('#add-note').click();
    await host.frame.locator('#notes li').first().waitFor(WAIT);
    expect(await host.frame.locator('#notes li').first().innerText()).to.include('Added through the Forge bridge.');
    // the writer by name, asked of Jira through Forge's product API with the call's app system token; the id as tooltip
    const author = host.frame.locator('#notes li .author').first();
    expect(await author.innerText()).to.equal(`Forge user ${run}`);
    expect(await author.getAttribute('title')).to.equal(user);

    const removed = await forge.removeUser(user);
    expect(removed?.status).to.equal(200);
    await host.frame.locator('#refresh').click();
    await host.frame.locator('#status.denied').waitFor(WAIT);

    const status = await statusOf(host);
    expect(status.text).to.match(/access revoked/i);
    expect(status.code).to.equal('token_revoked');
    expect(await host.frame.locator('#notes li').count()).to.equal(0);
    await saveScreenshot(host.page, 'forge-panel-revoked.png');
  });

  it('reaches the app only through the bridge: every call the page makes is an invoke or a getContext', async () => {
    const user = newUser();
    const host = await openPanel(user);
    await host.frame.locator('#refresh').click();
    await host.frame.locator('#status:not(.denied)').waitFor(WAIT);
    const calls = forge.bridgeCalls().filter((call) => call.accountId === user);
    expect(calls.map((call) => call.name)).to.include('invoke');
    expect(calls.every((call) => call.name === 'invoke' || call.name === 'getContext')).to.equal(true);
  });

  it('says who is signed in on the Forge admin page by display name, the account id as the tooltip', async () => {
    run += 1;
    const admin = stack.sim.directory.add({ accountId: `557058:forge-admin-${run}`, displayName: 'Forge admin', siteAdmin: true }).accountId;
    const adminPage = await context!.newPage();
    await adminPage.goto(forge.hostPageUrl(admin, 'panelguard-admin-page'));
    const signedInAs = adminPage.frameLocator('#page').locator(`#admin-account[data-account-id="${admin}"]`);
    await signedInAs.waitFor(WAIT);
    expect(await signedInAs.innerText()).to.equal('Forge admin');
    expect(await signedInAs.getAttribute('title')).to.equal(admin);
  });

  it('keeps working with key binding on: its proofs name the URL the app was called at, which only /forge/sessions could tell it', async () => {
    run += 1;
    const admin = stack.sim.directory.add({ accountId: `557058:forge-admin-${run}`, displayName: 'Forge admin', siteAdmin: true }).accountId;
    const adminPage = await context!.newPage();
    await adminPage.goto(forge.hostPageUrl(admin, 'panelguard-admin-page'));
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
