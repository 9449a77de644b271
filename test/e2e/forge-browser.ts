/**
 * The Forge browser suites' shared setup: PanelGuard's built Custom UI (with the real @forge/bridge) in the host
 * simulator's Forge frames, calling the running app as a Forge Remote with FITs the simulator signs. One Chromium,
 * app and simulated Forge per suite, a fresh context per test.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext } from 'playwright-core';
import { buildForgeUi } from '../../forge/build';
import type { IssueContext } from '../../src/host-simulator';
import type { ForgeSimulator } from '../../src/host-simulator/forge';
import { startForgeStack, type ForgeStack, type Stack } from '../integration/harness';
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
  let stack: ForgeStack | undefined;
  let forge: ForgeSimulator | undefined;

  before(async function () {
    const executablePath = chromiumOrSkip(this);
    await buildForgeUi();
    // The simulated Forge listens first; the app starts with its app id and JWKS.
    const [launched, forgeStack] = await Promise.all([launchChromium(executablePath), startForgeStack({ env })]);
    browser = launched;
    stack = forgeStack;
    forge = forgeStack.forge;
    const installed = await forge.install(forgeStack.app.baseUrl);
    expect(installed?.status).to.equal(204);
  });
  after(async () => {
    await browser?.close();
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
