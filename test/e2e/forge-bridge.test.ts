import { mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { build } from 'esbuild';
import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import { startHostSimulator, type HostSimulator, type IssueContext } from '../../src/host-simulator';
import { CONTRACT_LAYOUT, startForgeSimulator, type ForgeSimulator } from '../../src/host-simulator/forge';
import { startStandInRemote, type StandInRemote } from '../support/forge-remote';
import { chromiumOrSkip, launchChromium } from './chromium';

const FIXTURE = path.join(__dirname, 'fixtures', 'forge-bridge');
const WAIT = { timeout: 10_000 };
const ISSUE: IssueContext = { issueId: '20001', issueKey: 'FB-1', projectId: '20000', projectKey: 'FB' };
const ADMIN = '557058:ada';
const USER = '557058:uma';

/** The fixture as an app ships it: index.html and its script bundled with the real @forge/bridge. */
async function buildFixture(): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'forge-bridge-fixture-'));
  copyFileSync(path.join(FIXTURE, 'index.html'), path.join(dir, 'index.html'));
  await build({
    entryPoints: [path.join(FIXTURE, 'main.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    outfile: path.join(dir, 'main.js'),
    logLevel: 'silent',
  });
  return dir;
}

describe('browser: the real @forge/bridge in a Custom UI frame, through the simulated host', function () {
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let site: HostSimulator;
  let forge: ForgeSimulator;
  let remote: StandInRemote;
  let fixtureDir: string;

  before(async function () {
    const executablePath = chromiumOrSkip(this);
    fixtureDir = await buildFixture();
    [browser, site] = await Promise.all([
      launchChromium(executablePath),
      startHostSimulator({ users: [{ accountId: ADMIN, displayName: 'Ada Admin', siteAdmin: true }, { accountId: USER, displayName: 'Uma User' }] }),
    ]);
    const resources = { 'issue-panel': fixtureDir, admin: fixtureDir, 'my-sessions': fixtureDir };
    forge = await startForgeSimulator(site, { layout: CONTRACT_LAYOUT, resources });
    remote = await startStandInRemote({ jwksUrl: forge.jwksUrl, appId: forge.appId });
    await forge.install(remote.baseUrl);
  });

  after(async () => {
    await browser?.close();
    await remote?.close();
    await forge?.close();
    await site?.close();
    if (fixtureDir !== undefined) rmSync(fixtureDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    remote.reset();
    remote.script('/forge/sessions', { status: 200, json: { pageToken: 'pt', expiresAt: 1 }, headers: { 'page-token-next': 'next' } });
    remote.script('/refuse', { status: 401, json: { code: 'token_invalid' } });
    context = await browser!.newContext({ viewport: { width: 1100, height: 640 } });
  });

  afterEach(async () => {
    await context?.close();
  });

  async function open(url: string, frameSelector: string): Promise<{ page: Page; frame: FrameLocator }> {
    const page = await context!.newPage();
    await page.goto(url);
    const frame = page.frameLocator(frameSelector);
    await frame.locator('body[data-state="ready"]').waitFor(WAIT);
    return { page, frame };
  }

  async function runFixture(frame: FrameLocator): Promise<Record<string, any>> {
    await frame.locator('#run').click();
    await frame.locator('body[data-state="done"]').waitFor(WAIT);
    const read = async (id: string) => JSON.parse(await frame.locator(`#${id}`).innerText()) as unknown;
    return { context: await read('context'), invoke: await read('invoke'), rejected: await read('rejected'), direct: await read('direct') };
  }

  it('loads with no bridge call, then answers getContext and invokeRemote for the issue panel as @forge/bridge expects', async () => {
    const before = forge.bridgeCalls().length;
    const { page, frame } = await open(forge.hostPageUrl(USER, 'panelguard-issue-panel', ISSUE), '#panel');
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/.test(message.text())) violations.push(message.text());
    });
    // @forge/bridge only looks for globalThis.__bridge when it loads; it calls nothing until the page does
    expect(forge.bridgeCalls().slice(before)).to.deep.equal([]);

    const results = await runFixture(frame);

    expect(results.context).to.deep.include({ accountId: USER, cloudId: site.cloudId, moduleKey: 'panelguard-issue-panel', siteUrl: site.baseUrl, environmentType: 'DEVELOPMENT' });
    expect(results.context.extension).to.deep.include({
      type: 'jira:issuePanel',
      issue: { id: '20001', key: 'FB-1', type: 'Task', typeId: '10001' },
      project: { id: '20000', key: 'FB', type: 'software' },
    });
    expect(results.invoke).to.deep.include({ status: 200, body: { pageToken: 'pt', expiresAt: 1 } });
    expect(results.invoke.headers['page-token-next']).to.equal('next');
    expect(results.rejected).to.deep.equal({ message: 'Remote could not verify the Forge Invocation Token' });
    expect(results.direct).to.have.property('blocked');
    expect(violations.some((text) => text.includes(`${site.baseUrl}/forge/bridge/any`) && text.includes('connect-src'))).to.equal(true);

    const [session] = remote.at('/forge/sessions');
    expect(session.verdict.ok).to.equal(true);
    const claims = session.verdict.ok ? (session.verdict.claims as Record<string, any>) : {};
    expect(claims.principal).to.equal(USER);
    expect(claims.app.module).to.deep.equal({ type: 'jira:issuePanel', key: 'panelguard-issue-panel' });
    expect(claims.context.extension.issue.id).to.equal('20001');
    expect(session.headers['x-page-token']).to.equal('page-token-1');
    expect(session.text).to.equal('{"from":"fixture"}');
    expect(forge.bridgeCalls().slice(before).map((call) => call.name)).to.deep.equal(['getContext', 'invoke', 'invoke']);
  });

  it('names the admin page and its admin in the context and in the FIT', async () => {
    const { frame } = await open(forge.hostPageUrl(ADMIN, 'panelguard-admin-page'), '#page');
    const results = await runFixture(frame);
    expect(results.context).to.deep.include({ accountId: ADMIN, moduleKey: 'panelguard-admin-page' });
    expect(results.context.extension.type).to.equal('jira:adminPage');
    const [session] = remote.at('/forge/sessions');
    const claims = session.verdict.ok ? (session.verdict.claims as Record<string, any>) : {};
    expect(claims).to.deep.include({ principal: ADMIN });
    expect(claims.app.module).to.deep.equal({ type: 'jira:adminPage', key: 'panelguard-admin-page' });
  });

  it('ignores bridge calls from a frame it did not open as a Forge view, even one at the CDN origin with the bridge', async () => {
    const { page } = await open(forge.hostPageUrl(USER, 'panelguard-my-sessions'), '#page');
    const frameUrl = await page.locator('#page').getAttribute('src');
    const before = forge.bridgeCalls().length;
    await page.evaluate((src) => {
      const stranger = document.createElement('iframe');
      stranger.id = 'stranger';
      stranger.src = String(src);
      document.body.appendChild(stranger);
    }, frameUrl);
    const stranger = page.frameLocator('#stranger');
    await stranger.locator('body[data-state="ready"]').waitFor(WAIT);
    await stranger.locator('#run').click();
    // a round trip through the genuine frame, so the stranger's call has had every chance to be taken
    const results = await runFixture(page.frameLocator('#page'));
    expect(results.context.moduleKey).to.equal('panelguard-my-sessions');
    expect(await stranger.locator('body').getAttribute('data-state')).to.equal('running');
    expect(forge.bridgeCalls().slice(before).map((call) => call.name)).to.deep.equal(['getContext', 'invoke', 'invoke']);
    expect(remote.at('/forge/sessions')).to.have.length(1);
  });
});
