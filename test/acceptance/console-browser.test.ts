import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCREENSHOT_DIR, launchChromium, pageReady, screenshot, signInNoauth } from './harness/browser.js';
import { putVolumeData, sha256, testPattern, volumeDataSha256 } from './harness/data.js';
import { type RunningService, startService } from './harness/service.js';

/**
 * The operator console (/console/) in headless Chromium against the built service: every step
 * is done by clicking in the page, and checked through the public API (never the page's word).
 */

const ADMIN = 'adadadadadadadadadadadadadadadad';
const P1 = 'c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1';
const P2 = 'c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2';
const P3 = 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3';
const MiB = 1024 ** 2;

describe('operator console in headless Chromium', () => {
  let svc: RunningService;
  let browser: Browser;
  let page: Page;
  const ids: { volume?: string; full?: string; incr?: string; restored?: string } = {};

  const api = async (project: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${svc.url}/v3/${project}${path}`, {
      method,
      headers: { 'x-auth-token': `ops:${project}`, 'openstack-api-version': 'volume 3.70', 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : {} };
  };
  const waitFor = async (what: string, fn: () => Promise<boolean>, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!(await fn())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${svc.logTail()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const volumeStatus = async (project: string, id: string) => (await api(project, 'GET', `/volumes/${id}`)).json.volume?.status;
  const newVolume = async (project: string, name: string) => {
    const r = await api(project, 'POST', '/volumes', { volume: { size: 1, name } });
    expect(r.status).toBe(202);
    const id = r.json.volume.id as string;
    await waitFor(`volume ${id}`, async () => (await volumeStatus(project, id)) === 'available');
    return id;
  };

  beforeAll(async () => {
    svc = await startService({
      BACKUP_STORE: 'posix',
      NOAUTH_ADMIN_PROJECTS: ADMIN,
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
  });

  it('signs in with a user and a project (noauth) and shows the project overview', async () => {
    await page.goto(`${svc.url}/console/`);
    await pageReady(page, 'signin');
    await screenshot(page, '01-sign-in');
    await signInNoauth(page, svc.url, 'ops', P1);
    await expect(page.getByRole('heading', { name: 'Overview' }).isVisible()).resolves.toBe(true);
    expect(await page.evaluate<string | null>("sessionStorage.getItem('cbt-console-session')")).toContain(`ops:${P1}`);
    expect(await page.evaluate<number>('localStorage.length')).toBe(0);
  });

  it('backs up a volume from the overview and its progress reaches 100 %', async () => {
    ids.volume = await newVolume(P1, 'db-data');
    await putVolumeData(svc.url, P1, ids.volume, `ops:${P1}`, testPattern(24 * MiB));
    await newVolume(P1, 'scratch'); // never backed up: flagged unprotected
    await page.reload();
    await pageReady(page, 'overview');
    expect(await page.locator('tr.unprotected').count()).toBe(2);
    await page.locator(`tr[data-volume="${ids.volume}"]`).getByRole('button', { name: 'Back up' }).click();
    await pageReady(page, 'backup');
    ids.full = /#\/backups\/(.+)$/.exec(page.url())![1];
    const progress = page.locator('section.progress');
    // What the page shows at each moment, until the job is done: it must have shown it running.
    const seen: string[] = [];
    let shotRunning = false;
    await waitFor('100 % in the page', async () => {
      const state = `${await progress.getAttribute('data-status')} ${await progress.getAttribute('data-percent')}`;
      if (seen.at(-1) !== state) seen.push(state);
      if (!shotRunning && state.startsWith('creating') && Number(state.split(' ')[1]) > 0) {
        shotRunning = true;
        await screenshot(page, '03a-backup-running');
      }
      return state === 'available 100';
    });
    console.log('progress states the page showed:', seen.join(' -> '));
    expect(seen.some((st) => st.startsWith('creating'))).toBe(true);
    await expect(progress.locator('.percent').textContent()).resolves.toBe('100 %');
    const shown = (await api(P1, 'GET', `/backups/${ids.full}`)).json.backup;
    expect(shown).toMatchObject({ status: 'available', volume_id: ids.volume, is_incremental: false });
    await screenshot(page, '03-backup-progress');
    await page.goto(`${svc.url}/console/#/overview`);
    await pageReady(page, 'overview');
    expect(await page.locator('tr.unprotected').count()).toBe(1);
    await screenshot(page, '02-overview');
  });

  it('after an incremental, the chain shows the full as its parent and as needed to restore it', async () => {
    await putVolumeData(svc.url, P1, ids.volume!, `ops:${P1}`, testPattern(1 * MiB));
    await page.locator(`tr[data-volume="${ids.volume}"]`).getByRole('button', { name: 'Incremental' }).click();
    await pageReady(page, 'backup');
    ids.incr = /#\/backups\/(.+)$/.exec(page.url())![1];
    await page.locator('section.progress[data-status="available"][data-percent="100"]').waitFor({ timeout: 60_000 });
    await page.locator('.chain .node.current').waitFor();
    expect(await page.locator('.chain .node.needed').evaluateAll((els) => els.map((e) => e.getAttribute('data-chain-id')))).toEqual([
      ids.full,
      ids.incr,
    ]);
    // The drawing nests the incremental under the full backup.
    expect(await page.locator(`.chain li:has(> a[data-chain-id="${ids.full}"]) a[data-chain-id="${ids.incr}"]`).count()).toBe(1);
    const chain = (await api(P1, 'GET', `/backups/${ids.incr}/chain`)).json.chain;
    expect(chain.needed_to_restore).toEqual([ids.full, ids.incr]);
    await screenshot(page, '04-backup-chain');
    await page.goto(`${svc.url}/console/#/backups`);
    await pageReady(page, 'backups');
    expect(await page.locator('svg.jobs rect').count()).toBe(2);
    await screenshot(page, '04a-backups-history');
    await page.goto(`${svc.url}/console/#/backups/${ids.incr}`);
    await pageReady(page, 'backup');
    await page.locator(`.chain a[data-chain-id="${ids.full}"]`).click();
    await pageReady(page, 'backup');
    expect(await page.locator(`.chain a.child[data-chain-id="${ids.incr}"]`).count()).toBe(1);
  });

  it('restores the incremental into a new volume from the console; the API reads back identical bytes', async () => {
    await page.goto(`${svc.url}/console/#/backups/${ids.incr}`);
    await pageReady(page, 'backup');
    await page.getByLabel('into a new volume named').check();
    await page.locator('form.restore input[name="name"]').fill('db-data-restored');
    await page.locator('form.restore').getByRole('button', { name: 'Restore' }).click();
    const notice = page.locator('[data-restored-volume]');
    await notice.waitFor();
    ids.restored = (await notice.getAttribute('data-restored-volume'))!;
    await waitFor('restored volume', async () => (await volumeStatus(P1, ids.restored!)) === 'available', 120_000);
    await page.locator('section.progress[data-status="available"]').filter({ hasText: 'Last operation: restore' }).waitFor();
    await expect(page.locator('section.progress .percent').textContent()).resolves.toBe('100 %');
    await screenshot(page, '05-restore-done');
    // Through the API: the first 64 MiB, which hold every byte the test wrote.
    const [a, b] = await Promise.all([
      volumeDataSha256(svc.url, P1, ids.volume!, `ops:${P1}`, 64 * MiB),
      volumeDataSha256(svc.url, P1, ids.restored, `ops:${P1}`, 64 * MiB),
    ]);
    expect(b).toBe(a);
    // NOTE: the whole GiB through the API takes over a minute on a loaded CI machine; the files say the same in a second.
    const file = (id: string) => sha256(readFileSync(join(svc.dataDir, 'volumes', `volume-${id}`)));
    expect(file(ids.restored)).toBe(file(ids.volume!));
  });

  it("verifies from the console, and shows the service's own message for an action the policy refuses", async () => {
    await page.goto(`${svc.url}/console/#/backups/${ids.full}`);
    await pageReady(page, 'backup');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page
      .locator('section.progress[data-status="available"]')
      .filter({ hasText: 'Last operation: verify' })
      .waitFor({ timeout: 60_000 });
    await page.locator('section.progress').getByText(/: ok$/).waitFor();
    expect((await api(P1, 'GET', `/backups/${ids.full}/progress`)).json.progress).toMatchObject({
      operation: 'verify',
      verify_result: 'ok',
    });
    // Export is admin-only in Cinder's policy: a member sees the API's 403 message, word for word.
    await page.getByRole('button', { name: 'Export record' }).click();
    const refused = (await api(P1, 'GET', `/backups/${ids.full}/export_record`)).json.forbidden.message as string;
    await page.locator('.action-result [role="alert"]').filter({ hasText: refused }).waitFor();
  });

  it('is keyboard-reachable: Tab reaches the navigation and the volume actions, Enter starts them', async () => {
    await page.goto('about:blank');
    await page.goto(`${svc.url}/console/#/overview`);
    await pageReady(page, 'overview');
    const focused: string[] = [];
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      focused.push((await page.evaluate<string>('document.activeElement ? document.activeElement.textContent.trim() : ""')) ?? '');
    }
    expect(focused).toEqual(expect.arrayContaining(['Overview', 'Backups', 'Sign out', 'Back up', 'Incremental']));
    await page.locator('a[href="#/backups"]').focus();
    await page.keyboard.press('Enter');
    await pageReady(page, 'backups');
  });

  it('shows the reason of a restore that fails on a corrupted object', async () => {
    const other = await newVolume(P1, 'victim');
    await putVolumeData(svc.url, P1, other, `ops:${P1}`, testPattern(6 * MiB));
    const created = await api(P1, 'POST', '/backups', { backup: { volume_id: other, name: 'to-corrupt' } });
    const id = created.json.backup.id as string;
    await waitFor('backup', async () => (await api(P1, 'GET', `/backups/${id}`)).json.backup.status === 'available');
    // The posix store keeps each object as a file whose name ends with the backup id and its index.
    const files = (readdirSync(join(svc.dataDir, 'backups'), { recursive: true }) as string[]).filter((f) =>
      f.includes(`backup_${id}-00001`),
    );
    expect(files).toHaveLength(1);
    const path = join(svc.dataDir, 'backups', files[0]!);
    const buf = readFileSync(path);
    buf.fill(0x5a, 0, Math.min(buf.length, 64));
    writeFileSync(path, buf);
    await page.goto(`${svc.url}/console/#/backups/${id}`);
    await pageReady(page, 'backup');
    await page.locator('form.restore').getByRole('button', { name: 'Restore' }).click();
    const reason = page.locator('section.progress .fail-reason');
    await reason.waitFor({ timeout: 60_000 });
    const apiReason = (await api(P1, 'GET', `/backups/${id}/progress`)).json.progress.fail_reason as string;
    expect(apiReason).toBeTruthy();
    await expect(reason.textContent()).resolves.toBe(`Failed: ${apiReason}`);
    await screenshot(page, '06-restore-failed');
  });

  it('deletes a backup only after confirmation', async () => {
    await page.goto(`${svc.url}/console/#/backups/${ids.incr}`);
    await pageReady(page, 'backup');
    await page.getByRole('button', { name: 'Delete…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await screenshot(page, '07-delete-confirm', false);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await new Promise((r) => setTimeout(r, 500));
    expect((await api(P1, 'GET', `/backups/${ids.incr}`)).json.backup.status).toBe('available');
    await page.getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete backup' }).click();
    await page.locator(`[data-deleted="${ids.incr}"]`).waitFor();
    await waitFor('backup gone', async () => (await api(P1, 'GET', `/backups/${ids.incr}`)).status === 404);
    // The page keeps polling and says so in the service's own words.
    await page.getByText(`Backup ${ids.incr} could not be found.`).first().waitFor();
  });

  it('a second project sees nothing of the first, even by URL', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInNoauth(page, svc.url, 'eve', P2);
    expect(await page.locator('table.volumes').count()).toBe(0);
    await expect(page.getByText('No volumes in this project.').isVisible()).resolves.toBe(true);
    await page.goto(`${svc.url}/console/#/backups`);
    await pageReady(page, 'backups');
    await expect(page.locator('p.count').getAttribute('data-count')).resolves.toBe('0');
    await page.goto(`${svc.url}/console/#/backups/${ids.full}`);
    await pageReady(page, 'backup');
    await page.getByText(`Backup ${ids.full} could not be found.`).first().waitFor();
    await screenshot(page, '08-other-project');
  });

  it('with 10,000 backups in the project, the backups page and the overview are usable within one second', async () => {
    const client = new pg.Client({ connectionString: svc.databaseUrl });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO backups (id, project_id, user_id, volume_id, status, size, display_name, data_timestamp, created_at)
         SELECT gen_random_uuid(), $1, 'ops', gen_random_uuid(), 'available', 1, 'bulk-' || i,
                now() - i * interval '1 minute', now() - i * interval '1 minute'
         FROM generate_series(1, 10000) AS i`,
        [P3],
      );
    } finally {
      await client.end();
    }
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInNoauth(page, svc.url, 'ops', P3);
    const timings: Record<string, number[]> = { backups: [], overview: [], search: [] };
    for (let i = 0; i < 3; i++) {
      for (const name of ['backups', 'overview'] as const) {
        await page.goto('about:blank');
        const t0 = Date.now();
        await page.goto(`${svc.url}/console/#/${name}`);
        await pageReady(page, name);
        timings[name]!.push(Date.now() - t0);
      }
      await pageReady(page, 'overview');
      await page.goto(`${svc.url}/console/#/backups`);
      await pageReady(page, 'backups');
      await page.getByLabel('Name contains').fill('bulk-999');
      const t0 = Date.now();
      await page.getByRole('button', { name: 'Search' }).click();
      await page.locator('p.count[data-count="11"]').waitFor();
      timings.search!.push(Date.now() - t0);
    }
    await page.goto('about:blank');
    await page.goto(`${svc.url}/console/#/backups`);
    await pageReady(page, 'backups');
    await expect(page.locator('p.count').getAttribute('data-count')).resolves.toBe('10000');
    expect(await page.locator('table.backups tr[data-backup]').count()).toBe(50);
    await screenshot(page, '09-backups-10000');
    writeFileSync(join(SCREENSHOT_DIR, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
    console.log('console time-to-usable (ms):', JSON.stringify(timings));
    for (const [name, ms] of Object.entries(timings)) expect(Math.max(...ms), name).toBeLessThan(1000);
  });

  it('fits a phone-width screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      await signInNoauth(phone, svc.url, 'ops', P1);
      const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow).toBeLessThanOrEqual(0);
      await screenshot(phone, '10-overview-phone');
    } finally {
      await phone.close();
    }
  });
});
