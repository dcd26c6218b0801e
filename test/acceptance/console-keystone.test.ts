import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, pageReady, screenshot } from './harness/browser.js';
import { issueToken, type KeystoneEnv, keystoneServiceEnv, sharedOrPrivateKeystone } from './harness/keystone.js';
import { type RunningService, startService } from './harness/service.js';

/**
 * The console with AUTH_STRATEGY=keystone against the real Keystone CI runs: the sign-in form's
 * password goes to Keystone (through the service, as a client would send it), the token stays in
 * sessionStorage, and each user sees their own project only.
 */
describe('operator console, Keystone sign-in', () => {
  let ks: KeystoneEnv;
  let svc: RunningService;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ks = await sharedOrPrivateKeystone();
    svc = await startService({
      ...keystoneServiceEnv(ks),
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    await ks?.stop();
  });

  const signIn = async (user: string, password: string, project: string) => {
    await page.goto('about:blank');
    await page.goto(`${svc.url}/console/`);
    await pageReady(page, 'signin');
    await page.getByLabel('Username').fill(user);
    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Project').fill(project);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  it("shows Keystone's own message for a wrong password and stores nothing", async () => {
    await signIn('alice', 'not-the-password', 'cbt-alpha');
    await page.getByRole('alert').waitFor();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('The request you have made requires authentication.');
    expect(await page.evaluate<string | null>("sessionStorage.getItem('cbt-console-session')")).toBeNull();
    await screenshot(page, '11-keystone-sign-in-refused');
  });

  it("signs in with username, password and project; the overview shows that project's volumes", async () => {
    const token = await issueToken(ks, 'alice', ks.testPassword, 'cbt-alpha');
    const created = await fetch(`${svc.url}/v3/${ks.alphaProjectId}/volumes`, {
      method: 'POST',
      headers: { 'x-auth-token': token, 'content-type': 'application/json' },
      body: JSON.stringify({ volume: { size: 1, name: 'alpha-console' } }),
    });
    expect(created.status).toBe(202);
    const volumeId = ((await created.json()) as { volume: { id: string } }).volume.id;
    await signIn('alice', ks.testPassword, 'cbt-alpha');
    await pageReady(page, 'overview');
    const session = JSON.parse((await page.evaluate<string | null>("sessionStorage.getItem('cbt-console-session')"))!) as Record<
      string,
      string
    >;
    expect(session.project).toBe(ks.alphaProjectId);
    expect(session.token).not.toContain(ks.testPassword);
    expect(await page.evaluate<number>('localStorage.length')).toBe(0);
    await page.locator(`tr[data-volume="${volumeId}"]`).waitFor();
    await screenshot(page, '12-keystone-overview');
  });

  it("a user of another project sees none of the first project's volumes", async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn('bob', ks.testPassword, 'cbt-beta');
    await pageReady(page, 'overview');
    const session = JSON.parse((await page.evaluate<string | null>("sessionStorage.getItem('cbt-console-session')"))!) as Record<
      string,
      string
    >;
    expect(session.project).toBe(ks.betaProjectId);
    expect(await page.locator('tr[data-volume]').count()).toBe(0);
    await expect(page.getByText('No volumes in this project.').isVisible()).resolves.toBe(true);
  });
});
