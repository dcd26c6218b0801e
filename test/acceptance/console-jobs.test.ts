import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, pageReady, screenshot, signInNoauth } from './harness/browser.js';
import { putVolumeData, testPattern } from './harness/data.js';
import { type RunningService, startService } from './harness/service.js';

/**
 * The console's view of finished jobs: a verify that fails on a corrupted object shows its
 * reason on the backup's page, and the overview charts the project's recent jobs (duration,
 * MiB/s, stored bytes) from the progress extension. Checked against the API.
 */
const P = 'c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6';
const MiB = 1024 ** 2;

describe('operator console: failed verify and recent jobs', () => {
  let svc: RunningService;
  let browser: Browser;
  let page: Page;
  const ids: { good?: string; bad?: string } = {};

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${svc.url}/v3/${P}${path}`, {
      method,
      headers: { 'x-auth-token': `ops:${P}`, 'openstack-api-version': 'volume 3.70', 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : {} };
  };
  const waitFor = async (what: string, fn: () => Promise<boolean>, ms = 120_000) => {
    const deadline = Date.now() + ms;
    while (!(await fn())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${svc.logTail()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const backedUp = async (name: string) => {
    const v = await api('POST', '/volumes', { volume: { size: 1, name } });
    const vol = v.json.volume.id as string;
    await waitFor(`volume ${vol}`, async () => (await api('GET', `/volumes/${vol}`)).json.volume.status === 'available');
    await putVolumeData(svc.url, P, vol, `ops:${P}`, testPattern(6 * MiB));
    const b = await api('POST', '/backups', { backup: { volume_id: vol, name } });
    const id = b.json.backup.id as string;
    await waitFor(`backup ${id}`, async () => (await api('GET', `/backups/${id}`)).json.backup.status === 'available');
    return id;
  };

  beforeAll(async () => {
    svc = await startService({ BACKUP_STORE: 'posix', NOAUTH_ADMIN_PROJECTS: '*' });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    ids.good = await backedUp('kept-well');
    ids.bad = await backedUp('to-corrupt');
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
  });

  it("shows the reason of a verify that fails on a corrupted object, the API's own words", async () => {
    // The posix store keeps each object as a file whose name ends with the backup id and its index.
    const files = (readdirSync(join(svc.dataDir, 'backups'), { recursive: true }) as string[]).filter((f) =>
      f.includes(`backup_${ids.bad}-00001`),
    );
    expect(files).toHaveLength(1);
    const path = join(svc.dataDir, 'backups', files[0]!);
    const buf = readFileSync(path);
    buf.fill(0x5a, 0, Math.min(buf.length, 64));
    writeFileSync(path, buf);

    await signInNoauth(page, svc.url, 'ops', P);
    await page.goto(`${svc.url}/console/#/backups/${ids.bad}`);
    await pageReady(page, 'backup');
    await page.getByRole('button', { name: 'Verify' }).click();
    const reason = page.locator('section.progress .fail-reason');
    await reason.waitFor({ timeout: 120_000 });
    const progress = (await api('GET', `/backups/${ids.bad}/progress`)).json.progress;
    expect(progress).toMatchObject({ operation: 'verify', verify_result: 'mismatch' });
    expect(progress.fail_reason).toBeTruthy();
    await expect(reason.textContent()).resolves.toBe(`Failed: ${progress.fail_reason}`);
    await page
      .locator('section.progress')
      .getByText(/: mismatch$/)
      .waitFor();
    // A failed verify leaves the backup available (its data may still restore partly elsewhere).
    expect((await api('GET', `/backups/${ids.bad}`)).json.backup.status).toBe('available');
    await screenshot(page, '15-verify-failed');
  });

  it("charts the project's recent jobs on the overview: one bar per finished job in each of duration, MiB/s and stored bytes", async () => {
    await page.goto(`${svc.url}/console/#/overview`);
    await pageReady(page, 'overview');
    const chart = page.locator('svg.project-jobs');
    await chart.waitFor({ timeout: 30_000 });
    expect(await chart.getAttribute('data-jobs')).toBe('2');
    for (const id of [ids.good!, ids.bad!]) {
      // Three rows: duration, MiB/s, stored.
      await expect(chart.locator(`rect[data-job="${id}"]`).count()).resolves.toBe(3);
    }
    const good = (await api('GET', `/backups/${ids.good}/progress`)).json.progress;
    expect(good).toMatchObject({ operation: 'backup', phase: 'done' });
    const stored = await chart.locator(`rect[data-job="${ids.good}"] title`).nth(2).textContent();
    expect(stored).toContain('backup (done): stored');
    expect(good.bytes_stored).toBeGreaterThan(0);
    const verified = await chart.locator(`rect[data-job="${ids.bad}"] title`).first().textContent();
    expect(verified).toContain('verify (failed)');
    await screenshot(page, '16-recent-jobs');
  });
});
