import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { launchChromium, pageReady, screenshot } from './harness/browser.js';
import { issueToken, type KeystoneEnv, keystoneServiceEnv, sharedOrPrivateKeystone } from './harness/keystone.js';
import { type RunningService, startService } from './harness/service.js';

/**
 * The console's CBR pages with AUTH_STRATEGY=keystone against the real Keystone: a vault made on the
 * CBR listener with a Keystone token (X-Auth-Token, as Huawei's IAM token travels) shows in the
 * vault list of a user of that project, and a user of another project sees none of it.
 */
describe('operator console CBR pages, Keystone sign-in', () => {
  let ks: KeystoneEnv;
  let svc: RunningService;
  let browser: Browser;
  let page: Page;
  let cbrUrl = '';
  let vaultId = '';

  beforeAll(async () => {
    ks = await sharedOrPrivateKeystone();
    const base = Number(process.env.TEST_PORT_BASE ?? 0);
    const cbrPort = String(base ? base + 3 : await freePort());
    svc = await startService({ ...keystoneServiceEnv(ks), CBR_PORT: cbrPort, ...(base ? { PORT: String(base + 2) } : {}) });
    cbrUrl = `http://127.0.0.1:${cbrPort}`;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    await ks?.stop();
  });

  const signIn = async (user: string, project: string) => {
    await page.goto('about:blank');
    await page.goto(`${svc.url}/console/`);
    await pageReady(page, 'signin');
    await page.getByLabel('Username').fill(user);
    await page.getByLabel('Password').fill(ks.testPassword);
    await page.getByLabel('Project').fill(project);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await pageReady(page, 'overview');
  };

  it("a vault made on the CBR listener with a Keystone token shows in that project's vault list", async () => {
    const token = await issueToken(ks, 'alice', ks.testPassword, 'cbt-alpha');
    const res = await fetch(`${cbrUrl}/v3/${ks.alphaProjectId}/vaults`, {
      method: 'POST',
      headers: { 'x-auth-token': token, 'content-type': 'application/json' },
      body: JSON.stringify({
        vault: {
          name: 'alpha-vault',
          resources: [],
          billing: { consistent_level: 'crash_consistent', object_type: 'disk', protect_type: 'backup', size: 10 },
        },
      }),
    });
    expect(res.status).toBe(200);
    vaultId = ((await res.json()) as { vault: { id: string } }).vault.id;
    await signIn('alice', 'cbt-alpha');
    await page.goto(`${svc.url}/console/#/vaults`);
    await pageReady(page, 'vaults');
    await page.locator(`table.vaults tr[data-vault="${vaultId}"]`).waitFor();
    await expect(page.locator(`tr[data-vault="${vaultId}"] .capacity-text`).textContent()).resolves.toBe('0 B used of 10 GB (0 %)');
    await screenshot(page, 'cbr-8-keystone-vaults');
  });

  it('a user of another project sees no vault, and the vault by URL is refused in the service words', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn('bob', 'cbt-beta');
    await page.goto(`${svc.url}/console/#/vaults`);
    await pageReady(page, 'vaults');
    await expect(page.locator('p.count').getAttribute('data-count')).resolves.toBe('0');
    await page.goto(`${svc.url}/console/#/vaults/${vaultId}`);
    await pageReady(page, 'vault');
    await page
      .locator('[role="alert"]')
      .filter({ hasText: `Vault ${vaultId} Not Found` })
      .waitFor();
  });
});
