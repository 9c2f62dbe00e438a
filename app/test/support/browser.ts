import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * The shared headless browser for tests: Debian's chromium driven by playwright-core (which
 * downloads no browser of its own). Install it with `apt-get install chromium`, or point
 * TK_CHROMIUM_PATH at another Chromium binary.
 */
export const CHROMIUM_PATH = process.env.TK_CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: install it with "apt-get install chromium" or set TK_CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}
