import { randomInt } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writerTag } from '../../src/storage/posix-paths.js';
import { createServiceRunner, ensureBuilt, type ServiceRunner } from './service-runner.js';

// SIGKILL of the service mid database backup and mid restore: after a restart nothing is stuck.
vi.setConfig({ testTimeout: 600_000, hookTimeout: 300_000 });
const P = 'projcrash1';
const H = { 'x-auth-token': `u:${P}`, 'content-type': 'application/json' };
let s: ServiceRunner;
let instanceId = '';

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${s.url}/v1.0/${P}${path}`, { method, headers: H, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
};
async function until<T>(what: string, read: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}\n${s.logTail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const statusOf = async (kind: 'instances' | 'backups', id: string) => {
  const r = await api('GET', `/${kind}/${id}`);
  return r.status === 404 ? 'GONE' : (Object.values(r.json)[0] as { status: string }).status;
};
const waitFor = (kind: 'instances' | 'backups', id: string, want: string[], ms?: number) =>
  until(
    `${kind} ${id} ${want.join('|')}`,
    async () => {
      const st = await statusOf(kind, id);
      return want.includes(st) ? st : undefined;
    },
    ms,
  );
const backupFiles = (backupId: string) => {
  const dir = join(s.dataDir, 'backups', 'volumebackups', `trove_${instanceId}`);
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith(backupId)) : [];
};
/** The backup's objects in the posix store (a write cut by the kill leaves a `.partial~` temp file, which is no object). */
const objectsOf = (backupId: string) => backupFiles(backupId).filter((n) => !n.endsWith('.partial~'));
/** Temp files of the backup's writes; the restarted service removes those of the killed process. */
const temporariesOf = (backupId: string) => backupFiles(backupId).filter((n) => n.endsWith('.partial~'));

beforeAll(async () => {
  await ensureBuilt();
  const first = 29000 + randomInt(0, 185) * 20; // below the ephemeral range (32768-60999)
  s = await createServiceRunner({ TROVE_INSTANCE_PORTS: `${first}-${first + 19}`, NOAUTH_ADMIN_PROJECTS: '*' });
  await s.start();
  const r = await api('POST', '/instances', {
    instance: {
      name: 'crash-src',
      flavorRef: '1',
      volume: { size: 1 },
      databases: [{ name: 'appdb' }],
      users: [{ name: 'app', password: 'pw', databases: [{ name: 'appdb' }] }],
    },
  });
  expect(r.status).toBe(200);
  instanceId = r.json.instance.id;
  await waitFor('instances', instanceId, ['ACTIVE']);
  const c = new pg.Client({ host: '127.0.0.1', port: r.json.instance.port, user: 'app', password: 'pw', database: 'appdb' });
  await c.connect();
  // Enough data that a backup takes a while (the kill lands while it runs).
  await c.query('CREATE TABLE t AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS pad FROM generate_series(1, 400000) g');
  await c.end();
});

afterAll(async () => {
  if (!s) return;
  // Stop the clusters through the service before its files go.
  const list = await api('GET', '/instances').catch(() => null);
  for (const i of (list?.json?.instances ?? []) as Array<{ id: string }>) {
    await waitFor('instances', i.id, ['ACTIVE', 'ERROR']).catch(() => {});
    await api('DELETE', `/instances/${i.id}`).catch(() => {});
    await waitFor('instances', i.id, ['GONE']).catch(() => {});
  }
  await s.destroy();
});

describe('SIGKILL of the service and database backups', () => {
  it('mid-backup: after a restart the backup ends FAILED with its objects removed (or COMPLETED); the instance is ACTIVE again', async () => {
    const b = await api('POST', '/backups', { backup: { name: 'killed', instance: instanceId } });
    expect(b.status).toBe(202);
    const id = b.json.backup.id as string;
    await until('backup BUILDING with objects', async () =>
      (await statusOf('backups', id)) === 'BUILDING' && objectsOf(id).length > 0 ? true : undefined,
    );
    const killed = s.pid()!;
    await s.kill();
    // What a put cut by the kill leaves (the kill may land between two puts, so make sure there is one).
    const dir = join(s.dataDir, 'backups', 'volumebackups', `trove_${instanceId}`);
    writeFileSync(join(dir, `${id}_f000000p0-00001.${writerTag(killed)}.partial~`), 'half');
    expect(temporariesOf(id).length).toBeGreaterThan(0);
    await s.start();
    const end = await waitFor('backups', id, ['FAILED', 'COMPLETED']);
    if (end === 'FAILED') expect(objectsOf(id)).toEqual([]);
    expect(temporariesOf(id)).toEqual([]);
    await waitFor('instances', instanceId, ['ACTIVE']);
    // And the instance takes a good backup afterwards.
    const again = await api('POST', '/backups', { backup: { name: 'after-crash', instance: instanceId } });
    expect(again.status).toBe(202);
    await waitFor('backups', again.json.backup.id, ['COMPLETED'], 300_000);
  });

  it('mid-restore: after a restart the new instance is built from scratch and goes ACTIVE with the data', async () => {
    const list = await api('GET', '/backups');
    const good = (list.json.backups as Array<{ id: string; status: string }>).find((b) => b.status === 'COMPLETED')!;
    const r = await api('POST', '/instances', {
      instance: { name: 'crash-restore', flavorRef: '1', volume: { size: 1 }, restorePoint: { backupRef: good.id } },
    });
    expect(r.status).toBe(200);
    const rid = r.json.instance.id as string;
    const pgdata = join(s.dataDir, 'instances', rid, 'pgdata');
    await until('restore laying out files', async () => (existsSync(pgdata) && readdirSync(pgdata).length > 3 ? true : undefined));
    await s.kill();
    await s.start();
    await waitFor('instances', rid, ['ACTIVE', 'ERROR'], 300_000);
    const inst = (await api('GET', `/instances/${rid}`)).json.instance;
    expect(inst.status, JSON.stringify(inst.fault)).toBe('ACTIVE');
    const c = new pg.Client({ host: '127.0.0.1', port: inst.port, user: 'app', password: 'pw', database: 'appdb' });
    await c.connect();
    expect(Number((await c.query('SELECT count(*) AS n FROM t')).rows[0].n)).toBe(400000);
    await c.end();
  });
});
