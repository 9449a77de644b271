/** The browser suites' shared setup: one Chromium and one app stack per suite, a fresh context per test, and tabs opened on the host's pages. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import type { IssueContext } from '../../src/host-simulator';
import { PROJECT_ROOT } from '../../src/app/paths';
import { startStack, type Stack, type StackOptions } from '../integration/harness';
import { chromiumOrSkip, launchChromium } from './chromium';

const RESULTS_DIR = path.join(PROJECT_ROOT, 'test-results');
/** The pictures docs/DESIGN.md shows; rewritten only when a run asks for them with SCREENSHOTS=1. */
const DOC_SCREENSHOTS_DIR = path.join(PROJECT_ROOT, 'docs', 'screenshots');
/** Long enough for a slow CI machine, short enough that a hang fails well inside mocha's timeout. */
export const WAIT = { timeout: 10_000 };

/** One browser tab on a host page, with the app's iframe inside it. */
export interface HostPage {
  page: Page;
  frame: FrameLocator;
}

/** A suite's browser on the simulated host. */
export interface HostBrowser {
  /** The app and the host simulator, up for the whole suite. */
  readonly stack: Stack;
  /** A tab on the issue view as `accountId` (in `context`, the test's unless said); resolves once the panel's script has answered. */
  openIssue(accountId: string, issue: IssueContext, context?: BrowserContext): Promise<HostPage>;
  /** A tab on one of the app's pages as `accountId`; resolves once every `ready` selector shows inside it. */
  openAppPage(accountId: string, moduleKey: string, ...ready: string[]): Promise<HostPage>;
  /** The test's browser context, where openIssue and openAppPage open their tabs. */
  readonly context: BrowserContext;
  /**
   * Another browser context in the same test (someone else's browser, sharing nothing with the first), as the browser
   * `userAgent` names when given (another device); closed after the test.
   */
  otherContext(options?: { userAgent?: string }): Promise<BrowserContext>;
}

/**
 * Call inside describe(): registers the hooks. Each test gets its own context; a failed test's tabs are saved as
 * `<name>-failed-…png`. `stackOptions` configure the suite's app (rotation times, operator tokens…).
 */
export function setUpHostBrowser(name: string, viewport: { width: number; height: number }, stackOptions: StackOptions = {}): HostBrowser {
  let browser: Browser | undefined;
  let stack: Stack | undefined;
  let context: BrowserContext | undefined;
  let others: BrowserContext[] = [];

  before(async function () {
    const executablePath = chromiumOrSkip(this);
    [browser, stack] = await Promise.all([launchChromium(executablePath), startStack(stackOptions)]);
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });
  beforeEach(async () => {
    context = await started(browser).newContext({ viewport });
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && context !== undefined) {
      const title = (this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60) || name).toLowerCase();
      for (const [i, page] of context.pages().entries()) {
        await saveScreenshot(page, `${name}-failed-${title}-${i}.png`, { fullPage: true });
      }
    }
    await context?.close();
    await Promise.all(others.map((other) => other.close()));
    others = [];
  });

  async function open(url: string, frameSelector: string, ready: string[], into: BrowserContext = started(context)): Promise<HostPage> {
    const page = await into.newPage();
    await page.goto(url);
    const frame = page.frameLocator(frameSelector);
    for (const selector of ready) await frame.locator(selector).waitFor(WAIT);
    return { page, frame };
  }

  return {
    get stack() {
      return started(stack);
    },
    get context() {
      return started(context);
    },
    // the panel's script has answered once the status line says something
    openIssue: (accountId, issue, into) => open(started(stack).sim.hostPageUrl(accountId, issue), '#panel', ['#status:not(:empty)'], into),
    openAppPage: (accountId, moduleKey, ...ready) => open(started(stack).sim.appPageUrl(accountId, moduleKey), '#page', ready),
    async otherContext(options = {}) {
      const other = await started(browser).newContext({ viewport, ...options });
      others.push(other);
      return other;
    },
  };
}

/** The app's status line: its words, its class, and the failure code it names. */
export async function statusOf({ frame }: HostPage): Promise<{ text: string; className: string; code: string | null }> {
  const status = frame.locator('#status');
  return { text: await status.innerText(), className: (await status.getAttribute('class')) ?? '', code: await status.getAttribute('data-code') };
}

/** Saves a screenshot of `page` under test-results/. */
export async function saveScreenshot(page: Page, fileName: string, options: { fullPage?: boolean } = {}): Promise<void> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(RESULTS_DIR, fileName), fullPage: options.fullPage });
}

/** Saves `page` as docs/screenshots/<fileName> when SCREENSHOTS=1, so ordinary runs leave the committed pictures alone. */
export async function saveDocScreenshot(page: Page, fileName: string): Promise<void> {
  if (process.env.SCREENSHOTS !== '1') return;
  mkdirSync(DOC_SCREENSHOTS_DIR, { recursive: true });
  // A full-page capture leaves an iframe's part below the first viewport unpainted: grow the window to the page instead.
  const width = page.viewportSize()?.width ?? 1280;
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width, height });
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await page.screenshot({ path: path.join(DOC_SCREENSHOTS_DIR, fileName) });
}

function started<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the browser suite has not started (is Chromium missing?)');
  return value;
}
