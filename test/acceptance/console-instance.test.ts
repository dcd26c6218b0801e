import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCREENSHOT_DIR, launchChromium, pageReady, screenshot, signInNoauth } from './harness/browser.js';
import { type RunningService, startService } from './harness/service.js';
import { waitTroveStatus } from './harness/trove.js';

/**
 * A Trove instance's own console page (console/src/instance.ts) against real instances: created
 * from the console's form, backed up from its page, restored as a new instance from its page, and
 * the copy deleted from its page after confirmation. Each step is checked through the Trove API.
 */
const P = 'c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5';
const TOKEN = `ops:${P}`;

describe('operator console: one Trove instance', () => {
  let svc: RunningService;
  let browser: Browser;
  let page: Page;
  const ids: { instance?: string; backup?: string } = {};

  const trove = async (method: string, path: string) => {
    const res = await fetch(`${svc.url}/v1.0/${P}${path}`, { method, headers: { 'x-auth-token': TOKEN } });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : {} };
  };
  const waitStatus = (kind: 'instances' | 'backups', id: string, want: string) => waitTroveStatus(svc, P, TOKEN, kind, id, want, 300_000);

  beforeAll(async () => {
    // A port window of this file's own, below the ephemeral range (as the other Trove tests).
    svc = await startService({ NOAUTH_ADMIN_PROJECTS: '*', TROVE_INSTANCE_PORTS: '18340-18359' });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
  });

  it('creates an instance from the form, backs it up and restores it as a new one from its page, and deletes the copy after confirming', async () => {
    await signInNoauth(page, svc.url, 'ops', P);
    await page.getByRole('link', { name: 'Instances (Trove)' }).click();
    await pageReady(page, 'instances');
    const form = page.getByRole('form', { name: 'New instance' });
    await form.getByLabel('Name').fill('billing-db');
    await form.getByLabel('Volume (GB)').fill('1');
    await form.getByRole('button', { name: 'Create instance' }).click();
    await page.waitForURL(/#\/instances\/[0-9a-f-]{36}$/);
    await pageReady(page, 'instance');
    const id = page.url().split('/').pop()!;
    ids.instance = id;
    const created = (await trove('GET', `/instances/${id}`)).json.instance;
    expect(created).toMatchObject({ name: 'billing-db', volume: { size: 1 }, datastore: { type: 'postgresql' } });
    await waitStatus('instances', id, 'ACTIVE');
    // The page re-reads itself until the instance is settled.
    await page.locator('h1 .badge', { hasText: 'active' }).waitFor({ timeout: 30_000 });

    await page.getByRole('button', { name: 'Back up now' }).click();
    const row = page.locator('tr[data-trove-backup]');
    await row.first().waitFor({ timeout: 30_000 });
    const backupId = (await row.first().getAttribute('data-trove-backup'))!;
    ids.backup = backupId;
    expect((await trove('GET', `/instances/${id}/backups`)).json.backups.map((b: { id: string }) => b.id)).toEqual([backupId]);
    await waitStatus('backups', backupId, 'COMPLETED');
    await page.locator(`tr[data-trove-backup="${backupId}"] .badge`, { hasText: 'completed' }).waitFor({ timeout: 30_000 });
    await screenshot(page, '14-instance');

    await row.first().getByRole('textbox').fill('billing-db-copy');
    await row.first().getByRole('button', { name: 'Restore' }).click();
    const notice = page.locator('[data-new-instance]');
    await notice.waitFor();
    const copyId = (await notice.getAttribute('data-new-instance'))!;
    await waitStatus('instances', copyId, 'ACTIVE');
    expect((await trove('GET', `/instances/${copyId}`)).json.instance.name).toBe('billing-db-copy');

    await page.goto(`${svc.url}/console/#/instances/${copyId}`);
    await pageReady(page, 'instance');
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.textContent()).resolves.toContain('Delete instance billing-db-copy?');
    await screenshot(page, '14a-instance-delete-confirm', false);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await trove('GET', `/instances/${copyId}`)).status).toBe(200);
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete instance' }).click();
    await pageReady(page, 'instances');
    const deadline = Date.now() + 120_000;
    while ((await trove('GET', `/instances/${copyId}`)).status !== 404) {
      if (Date.now() > deadline) throw new Error(`instance ${copyId} was not deleted\n${svc.logTail()}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect((await trove('GET', `/instances/${id}`)).json.instance.status).toBe('ACTIVE');
  });
  it('with 10,000 backups of the instance, the instances page and the instance page are usable within one second', async () => {
    // Copies of the instance's real backup (every column as the service wrote it), older than it.
    // NOTE: LATERAL, not (jsonb_populate_record(...)).*, which Postgres evaluates once per column.
    const client = new pg.Client({ connectionString: svc.databaseUrl });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO trove_backups
         SELECT r.* FROM trove_backups b, generate_series(1, 10000) AS i,
                LATERAL jsonb_populate_record(NULL::trove_backups, to_jsonb(b) || jsonb_build_object(
                  'id', gen_random_uuid(), 'name', 'bulk-' || i,
                  'created_at', b.created_at - i * interval '1 minute', 'updated_at', b.created_at - i * interval '1 minute')) r
          WHERE b.id = $1`,
        [ids.backup],
      );
    } finally {
      await client.end();
    }
    const all = (await trove('GET', `/instances/${ids.instance}/backups?limit=20000`)).json.backups as Array<{ id: string }>;
    expect(all).toHaveLength(10_001);
    const runs: Record<string, number[]> = { instances: [], instance: [] };
    for (let i = 0; i < 3; i++) {
      for (const [name, hash] of [
        ['instances', '#/instances'],
        ['instance', `#/instances/${ids.instance}`],
      ] as const) {
        await page.goto('about:blank');
        const t0 = Date.now();
        await page.goto(`${svc.url}/console/${hash}`);
        await pageReady(page, name);
        runs[name]!.push(Date.now() - t0);
      }
    }
    // The instance page shows Trove's first page of backups (20, newest first): the real one first.
    const shown = await page.locator('tr[data-trove-backup]').evaluateAll((els) => els.map((e) => e.getAttribute('data-trove-backup')));
    expect(shown).toHaveLength(20);
    expect(shown[0]).toBe(ids.backup);
    await expect(page.locator('p.more-backups').textContent()).resolves.toBe('The newest 20 backups are listed.');
    await screenshot(page, '14b-instance-10000');
    writeFileSync(join(SCREENSHOT_DIR, 'timings-instance-10000.json'), `${JSON.stringify(runs, null, 2)}\n`);
    console.log('instance pages with 10,000 backups, time-to-usable (ms):', JSON.stringify(runs));
    for (const [name, ms] of Object.entries(runs)) expect(Math.max(...ms), name).toBeLessThan(1000);
  });
});
