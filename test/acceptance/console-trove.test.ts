import { randomInt } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, pageReady, screenshot, signInNoauth } from './harness/browser.js';
import { type RunningService, startService } from './harness/service.js';
import { type PgTarget, psqlOk, waitTroveStatus } from './harness/trove.js';

/**
 * The console's database instances page against real instances (PostgreSQL clusters the service
 * runs): an instance with its backups, and a restore as a new instance started from the page,
 * checked with psql in the new instance.
 */
const P = 'c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4';
const TOKEN = `ops:${P}`;
const APP = { user: 'app', password: 'app-s3cret', database: 'appdb' };

describe('operator console: Trove instances', () => {
  let svc: RunningService;
  let browser: Browser;
  let page: Page;

  const trove = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${svc.url}/v1.0/${P}${path}`, {
      method,
      headers: { 'x-auth-token': TOKEN, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : {};
  };
  const waitStatus = (kind: 'instances' | 'backups', id: string, want: string) => waitTroveStatus(svc, P, TOKEN, kind, id, want);
  const pgOf = async (id: string): Promise<PgTarget> => {
    const { instance } = await trove('GET', `/instances/${id}`);
    return { host: instance.ip[0] ?? instance.ip, port: Number(instance.port), ...APP };
  };

  beforeAll(async () => {
    // NOTE: a 20-port window of its own, so parallel files never collide.
    const first = 26000 + randomInt(0, 150) * 20; // below the ephemeral range, as trove-noauth's
    svc = await startService({ NOAUTH_ADMIN_PROJECTS: '*', TROVE_INSTANCE_PORTS: `${first}-${first + 19}` });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
  });

  it('lists an instance with its backups and restores one as a new instance holding the same rows', async () => {
    const { instance } = await trove('POST', '/instances', {
      instance: {
        name: 'orders-db',
        flavorRef: '1',
        volume: { size: 1 },
        datastore: { type: 'postgresql', version: '15' },
        databases: [{ name: APP.database }],
        users: [{ name: APP.user, password: APP.password, databases: [{ name: APP.database }] }],
      },
    });
    await waitStatus('instances', instance.id, 'ACTIVE');
    const source = await pgOf(instance.id);
    await psqlOk(
      source,
      "CREATE TABLE items (id int PRIMARY KEY, note text); INSERT INTO items SELECT i, 'row ' || i FROM generate_series(1, 500) i",
    );
    const { backup } = await trove('POST', '/backups', { backup: { name: 'orders-full', instance: instance.id } });
    await waitStatus('backups', backup.id, 'COMPLETED');

    await signInNoauth(page, svc.url, 'ops', P);
    await page.getByRole('link', { name: 'Instances (Trove)' }).click();
    await pageReady(page, 'instances');
    const row = page.locator(`section[data-instance="${instance.id}"] tr[data-trove-backup="${backup.id}"]`);
    await expect(row.textContent()).resolves.toContain('orders-full');
    await row.getByRole('textbox').fill('orders-db-copy');
    await row.getByRole('button', { name: 'Restore' }).click();
    const notice = page.locator('[data-new-instance]');
    await notice.waitFor();
    const restoredId = (await notice.getAttribute('data-new-instance'))!;
    await screenshot(page, '13-instances');
    await waitStatus('instances', restoredId, 'ACTIVE');
    const restored = await trove('GET', `/instances/${restoredId}`);
    expect(restored.instance.name).toBe('orders-db-copy');
    const q = "SELECT count(*) || ':' || md5(string_agg(id || note, ',' ORDER BY id)) FROM items";
    expect(await psqlOk(await pgOf(restoredId), q)).toEqual(await psqlOk(source, q));
    await page.reload();
    await pageReady(page, 'instances');
    await page.locator(`section[data-instance="${restoredId}"]`).waitFor();
  });
});
