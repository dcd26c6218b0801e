import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';

/** Where the browser tests leave their screenshots (CI artifacts; the README embeds them). */
export const SCREENSHOT_DIR = resolve(import.meta.dirname, '../../../test-artifacts/console');

/** Debian's chromium (apt-get install chromium), headless; CHROMIUM_PATH overrides the path. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    // NOTE: CI runs as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage });
}

/** Resolves once the console's current page has loaded its data (main[aria-busy=false][data-page=name]). */
export async function pageReady(page: Page, name: string): Promise<void> {
  await page.waitForSelector(`main[aria-busy="false"][data-page="${name}"]`);
}

/** Signs in through the noauth form (user, project), landing on the overview. */
export async function signInNoauth(page: Page, baseUrl: string, user: string, project: string): Promise<void> {
  await page.goto(`${baseUrl}/console/`);
  await pageReady(page, 'signin');
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Project id (32 hex digits)').fill(project);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await pageReady(page, 'overview');
}
