/** How the browser suites measure an app's iframe against its content: heights that agree, no sideways scroll. */
import { expect } from 'chai';
import type { Frame } from 'playwright-core';
import type { HostPage } from './host-browser';

/** How far an iframe's height may be from its page's content height: rounding, not a missing scrollbar. */
const TOLERANCE_PX = 3;

/** The app's document inside the host's iframe `selector`. */
export async function appFrame({ page }: HostPage, selector: string): Promise<Frame> {
  const frame = await (await page.locator(selector).elementHandle())?.contentFrame();
  if (frame === null || frame === undefined) throw new Error(`${selector} has no document`);
  return frame;
}

/** The iframe's inner height and its page's content height, once they agree (or the last pair seen, to report). */
async function settledHeights(host: HostPage, selector: string): Promise<{ iframe: number; content: number }> {
  const frame = await appFrame(host, selector);
  let heights = { iframe: 0, content: -1 };
  for (let i = 0; i < 80; i += 1) {
    heights = {
      iframe: await host.page.locator(selector).evaluate((element) => element.clientHeight),
      content: await frame.evaluate(() => document.documentElement.getBoundingClientRect().height),
    };
    if (Math.abs(heights.iframe - heights.content) <= TOLERANCE_PX) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return heights;
}

export async function expectFitted(host: HostPage, selector: string): Promise<number> {
  const { iframe, content } = await settledHeights(host, selector);
  expect(iframe, `${selector}: iframe ${iframe}px, content ${content}px`).to.be.closeTo(content, TOLERANCE_PX);
  return iframe;
}

/** Whether the document scrolls sideways: its content is wider than its window. */
export function overflowsSideways(frame: Frame | HostPage['page']): Promise<boolean> {
  return frame.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}
