/**
 * The Forge browser suites' shared setup: PanelGuard's built Custom UI (with the real @forge/bridge) in the host
 * simulator's Forge frames, calling the running app as a Forge Remote with FITs the simulator signs. One Chromium,
 * app and simulated Forge per suite, a fresh context per test.
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
import { WAIT, type HostPage } from './host-browser';

export const PANEL = 'panelguard-issue-panel';
export const ADMIN_PAGE = 'panelguard-admin-page';
export const MY_SESSIONS = 'panelguard-my-sessions';

export interface ForgeBrowser {
  readonly stack: Stack;
  readonly forge: ForgeSimulator;
  /** The test's browser context. */
  readonly context: BrowserContext;
  /** A tab on the issue view as `accountId`; resolves once the Forge panel's status line says something. */
  openPanel(accountId: string, issue: IssueContext): Promise<HostPage>;
  /** A tab on a Forge admin or global page as `accountId`; resolves once every `ready` selector shows inside it. */
  openPage(accountId: string, moduleKey: string, ...ready: string[]): Promise<HostPage>;
}

/** Call inside describe(): registers the hooks. `env` configures the suite's app on top of the Forge settings. */
export function setUpForgeBrowser(viewport: { width: number; height: number }, env: Record<string, string> = {}): ForgeBrowser {
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let stack: Stack | undefined;
  let forge: ForgeSimulator | undefined;

  before(async function () {
    const executablePath = chromiumOrSkip(this);
    await buildForgeUi();
    // The app is configured with the simulated Forge's app id and JWKS before either starts.
    const appId = `ari:cloud:ecosystem::app/${randomUUID()}`;
    const cdnPort = await freePort();
    const jwksUrl = `http://127.0.0.1:${cdnPort}/.well-known/jwks.json`;
    [browser, stack] = await Promise.all([launchChromium(executablePath), startStack({ env: { FORGE_APP_ID: appId, FORGE_JWKS_URL: jwksUrl, ...env } })]);
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
    context = await started(browser).newContext({ viewport });
  });
  afterEach(async () => {
    await context?.close();
  });

  async function open(url: string, frameSelector: string, ready: string[]): Promise<HostPage> {
    const page = await started(context).newPage();
    await page.goto(url);
    const frame = page.frameLocator(frameSelector);
    for (const selector of ready) await frame.locator(selector).waitFor(WAIT);
    return { page, frame };
  }

  return {
    get stack() {
      return started(stack);
    },
    get forge() {
      return started(forge);
    },
    get context() {
      return started(context);
    },
    openPanel: (accountId, issue) => open(started(forge).hostPageUrl(accountId, PANEL, issue), '#panel', ['#status:not(:empty)']),
    openPage: (accountId, moduleKey, ...ready) => open(started(forge).hostPageUrl(accountId, moduleKey), '#page', ready),
  };
}

function started<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the Forge browser suite has not started (is Chromium missing?)');
  return value;
}
