/** Finds the system Chromium for the browser tests, or skips them (fails them under REQUIRE_SERVICES=1). */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Answers Chromium's path; without one, skips the suite with a one-line reason, or throws when services are required. */
export function chromiumOrSkip(ctx: Mocha.Context): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const reason = `Chromium not found at ${CHROMIUM_PATH} (set CHROMIUM_PATH to point at one)`;
  if (process.env.REQUIRE_SERVICES === '1') throw new Error(`REQUIRE_SERVICES=1 but ${reason}`);
  console.log(`    skipping browser tests: ${reason}`);
  ctx.skip();
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}
