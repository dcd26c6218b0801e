import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { quotaUsage, updateQuotas } from '../../../src/domain/common/quotas.js';
import { createTroveEnv, tok, type TroveEnv, waitStatus } from '../trove-fixture.js';

// Database backups through the API with running clusters: a backup under a write load restores
// consistently; volume.size, quotas, tenant isolation, bad input, a failed object removal and a
// corrupted object, each answered as Trove does.
vi.setConfig({ testTimeout: 600_000, hookTimeout: 300_000 }); // a shared 2-core machine: cluster copies take a while
const P = 'projtbk1';
const Q = 'projtbk2';
const USER = { name: 'app', password: 'app-pw' };

let e: TroveEnv;
let instanceId = '';
let port = 0;
let fullId = '';
let committedBeforeBackup = 0;

const req = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, project = P, as = project) =>
  e.t.app.inject({
    method,
    url: `/v1.0/${project}${url}`,
    headers: { ...tok(as), 'content-type': 'application/json' },
    ...(payload !== undefined ? { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) } : {}),
  });
const instanceBody = (name: string, extra: Record<string, unknown> = {}) => ({
  instance: { name, flavorRef: '1', volume: { size: 1 }, datastore: { type: 'postgresql', version: '15' }, ...extra },
});
const connect = async (p: number) => {
  const c = new pg.Client({ host: '127.0.0.1', port: p, user: USER.name, password: USER.password, database: 'appdb' });
  await c.connect();
  return c;
};

async function waitBackup(id: string, status: string, ms = 300_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const b = (await req('GET', `/backups/${id}`)).json().backup;
    if (b?.status === status) return b;
    if (b?.status === 'FAILED' && status !== 'FAILED') expect.fail(`backup ${id} FAILED`);
    if (Date.now() > deadline) expect.fail(`backup ${id} still ${b?.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitInstanceStatus(id: string, status: string, ms = 300_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const inst = (await req('GET', `/instances/${id}`)).json().instance;
    if (inst?.status === status) return inst;
    if (Date.now() > deadline) expect.fail(`instance ${id} still ${inst?.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  e = await createTroveEnv({}, { backups: true });
  const res = await req(
    'POST',
    '/instances',
    instanceBody('src', { databases: [{ name: 'appdb' }], users: [{ ...USER, databases: [{ name: 'appdb' }] }] }),
  );
  expect(res.statusCode).toBe(200);
  instanceId = res.json().instance.id;
  port = res.json().instance.port;
  await waitStatus(e, P, instanceId, 'ACTIVE', 120_000);
  const c = await connect(port);
  await c.query('CREATE TABLE t (id int PRIMARY KEY, pad text NOT NULL)');
  await c.query("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g");
  await c.end();
});
afterAll(async () => e?.close());

describe('trove backups with running clusters', () => {
  it('a backup taken while inserts run restores every row committed before it started; the cluster starts cleanly', async () => {
    const writer = await connect(port);
    let next = 100001;
    let stop = false;
    const load = (async () => {
      while (!stop) await writer.query('INSERT INTO t VALUES ($1, $2)', [next++, 'during backup']);
    })();
    await new Promise((r) => setTimeout(r, 300));
    committedBeforeBackup = next - 1;
    const res = await req('POST', '/backups', { backup: { name: 'under-load', instance: instanceId } });
    expect(res.statusCode).toBe(202);
    fullId = res.json().backup.id;
    expect((await req('GET', `/instances/${instanceId}`)).json().instance.status).toBe('BACKUP');
    await waitBackup(fullId, 'COMPLETED');
    stop = true;
    await load;
    await writer.end();
    expect((await req('GET', `/instances/${instanceId}`)).json().instance.status).toBe('ACTIVE');

    const r = await req('POST', '/instances', instanceBody('restored', { restorePoint: { backupRef: fullId } }));
    expect(r.statusCode).toBe(200);
    const restored = r.json().instance;
    await waitStatus(e, P, restored.id, 'ACTIVE', 300_000);
    const c = await connect(restored.port);
    const rows = await c.query<{ base: string; during: string }>(
      `SELECT count(*) FILTER (WHERE id <= 20000) AS base, count(*) FILTER (WHERE id BETWEEN 100001 AND ${committedBeforeBackup}) AS during FROM t`,
    );
    expect(Number(rows.rows[0]!.base)).toBe(20000);
    expect(Number(rows.rows[0]!.during)).toBe(committedBeforeBackup - 100000);
    // Every page readable and the index agrees with the heap: nothing torn.
    const sum = await c.query<{ n: string }>('SELECT count(*) AS n FROM t WHERE pad IS NOT NULL');
    expect(Number(sum.rows[0]!.n)).toBeGreaterThanOrEqual(20000 + committedBeforeBackup - 100000);
    await c.end();
    expect((await req('DELETE', `/instances/${restored.id}`)).statusCode).toBe(202);
  });

  it('volume.size bounds a restore: a backup larger than it is 403 forbidden', async () => {
    // The backup's size is the cluster's bytes (a few MB here): record a larger one to check the rule.
    await e.t.t.db
      .updateTable('trove_backups')
      .set({ size_bytes: 3 * 1024 ** 3 })
      .where('id', '=', fullId)
      .execute();
    try {
      const r = await req('POST', '/instances', instanceBody('too-small', { volume: { size: 2 }, restorePoint: { backupRef: fullId } }));
      expect(r.statusCode).toBe(403);
      expect(r.json()).toEqual({
        forbidden: {
          code: 403,
          message: 'Backup is too large for given flavor or volume. Backup size: 3 GBs. Available size: 2 GBs.',
        },
      });
    } finally {
      await e.t.t.db
        .updateTable('trove_backups')
        .set({ size_bytes: 30 * 1024 ** 2 })
        .where('id', '=', fullId)
        .execute();
    }
  });

  it('backups count against the backups and backup_gigabytes quotas (shared with volume backups)', async () => {
    onTestFinished(() => updateQuotas(e.t.t.db, P, { backups: -1, backup_gigabytes: -1 }));
    await updateQuotas(e.t.t.db, P, { backups: 1 });
    const one = await req('POST', '/backups', { backup: { name: 'over', instance: instanceId } });
    expect(one.statusCode).toBe(413);
    expect(one.json().overLimit).toMatchObject({ code: 413, message: "Quota exceeded for resources: ['backups']." });
    // The finished backup counts as 1 GB; a new one reserves its instance's volume size (1 GB).
    await updateQuotas(e.t.t.db, P, { backups: 10, backup_gigabytes: 1 });
    const gb = await req('POST', '/backups', { backup: { name: 'over-gb', instance: instanceId } });
    expect(gb.statusCode).toBe(413);
    expect(gb.json().overLimit).toMatchObject({ code: 413, message: "Quota exceeded for resources: ['backup_gigabytes']." });
    // The usage the Cinder side checks (and reports) counts them too.
    expect(await quotaUsage(e.t.t.db, P)).toMatchObject({ backups: 1, backup_gigabytes: 1 });
    expect((await req('GET', `/instances/${instanceId}`)).json().instance.status).toBe('ACTIVE');
  });

  it('tenant isolation: another project gets 404 for every backup and instance route, a foreign URL project 403', async () => {
    expect((await req('GET', '/backups', undefined, Q)).json()).toEqual({ backups: [] });
    for (const [method, url, body] of [
      ['GET', `/backups/${fullId}`, undefined],
      ['DELETE', `/backups/${fullId}`, undefined],
      ['GET', `/instances/${instanceId}`, undefined],
      ['GET', `/instances/${instanceId}/backups`, undefined],
      ['DELETE', `/instances/${instanceId}`, undefined],
      ['POST', '/backups', { backup: { name: 'steal', instance: instanceId } }],
      ['POST', '/instances', instanceBody('steal', { restorePoint: { backupRef: fullId } })],
    ] as const) {
      const r = await req(method, url, body, Q);
      expect(r.statusCode, `${method} ${url}`).toBe(404);
      expect(Object.keys(r.json()), `${method} ${url}`).toEqual(['itemNotFound']);
    }
    expect((await req('GET', `/backups?instance_id=${instanceId}`, undefined, Q)).json()).toEqual({ backups: [] });
    for (const [method, url] of [
      ['GET', '/backups'],
      ['GET', `/backups/${fullId}`],
      ['DELETE', `/backups/${fullId}`],
      ['POST', '/backups'],
      ['GET', '/instances'],
      ['GET', `/instances/${instanceId}/backups`],
      ['POST', '/instances'],
      ['GET', '/flavors'],
      ['GET', '/datastores'],
    ] as const) {
      const r = await req(method, url, method === 'POST' ? {} : undefined, P, Q);
      expect(r.statusCode, `${method} ${url}`).toBe(403);
      expect(r.json(), `${method} ${url}`).toEqual({
        forbidden: { code: 403, message: `User with tenant id ${Q} cannot access this resource.` },
      });
    }
    expect((await req('GET', `/backups/${fullId}`)).statusCode).toBe(200);
  });

  it('bad input gets Trove error bodies, never a 500', async () => {
    const bodies: unknown[] = [
      'not json',
      '[]',
      { backup: 'x' },
      { backup: { name: 1, instance: instanceId } },
      { backup: { name: '!!!', instance: instanceId } },
      { backup: { name: 'b', instance: instanceId, incremental: '1' } },
      { backup: { name: 'b', instance: instanceId, incremental: true } },
      { backup: { name: 'b', instance: instanceId, parent_id: 'nope' } },
      { backup: { name: 'b', instance: instanceId, description: null } },
      { backup: { name: 'b' } },
      { backup: { name: 'b', instance: 'x'.repeat(5000) } },
    ];
    for (const body of bodies) {
      const r = await req('POST', '/backups', body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(Object.keys(r.json()), JSON.stringify(body)).toEqual(['badRequest']);
    }
    for (const body of [
      instanceBody('r', { restorePoint: {} }),
      instanceBody('r', { restorePoint: { backupRef: 42 } }),
      instanceBody('r', { restorePoint: 'x' }),
      instanceBody('r', { volume: { size: 0 }, restorePoint: { backupRef: fullId } }),
    ]) {
      const r = await req('POST', '/instances', body);
      expect(r.statusCode, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(r.statusCode, JSON.stringify(body)).toBeLessThan(500);
    }
    for (const url of [
      '/backups?limit=abc',
      '/backups?marker=xyz',
      '/backups?limit=-1',
      '/backups?datastore=nosuch',
      '/backups/%00',
      '/instances/..%2f/backups',
    ]) {
      const r = await req('GET', url);
      expect(r.statusCode, url).toBeLessThan(500);
      if (r.statusCode >= 400) expect(Object.keys(r.json()).length, url).toBe(1);
    }
  });

  it('a backup whose objects cannot be removed ends DELETE_FAILED (deleted, 404) with the reason', async () => {
    const b = await req('POST', '/backups', { backup: { name: 'undeletable', instance: instanceId } });
    expect(b.statusCode).toBe(202);
    const id = b.json().backup.id as string;
    await waitBackup(id, 'COMPLETED');
    const spy = vi.spyOn(e.t.deps.store, 'deleteMany').mockRejectedValue(new Error('store refused the delete'));
    try {
      expect((await req('DELETE', `/backups/${id}`)).statusCode).toBe(202);
      const deadline = Date.now() + 60_000;
      let row = await e.t.t.db.selectFrom('trove_backups').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      while (row.status !== 'DELETE_FAILED' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        row = await e.t.t.db.selectFrom('trove_backups').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      }
      expect(row).toMatchObject({ status: 'DELETE_FAILED', deleted: true });
      expect(row.fail_reason).toContain('store refused the delete');
      expect((await req('GET', `/backups/${id}`)).statusCode).toBe(404);
    } finally {
      spy.mockRestore();
    }
  });

  it('a corrupted object fails the restore: the instance goes ERROR with the reason, never a wrong database', async () => {
    const prefix = `trove_${instanceId}/${fullId}`;
    const store = e.t.deps.store;
    const keys = (await store.list(store.defaultContainer, prefix)).filter((k) => /-\d{5}$/.test(k)).sort();
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) await store.put(store.defaultContainer, k, Buffer.from('not the stored data'));
    const r = await req('POST', '/instances', instanceBody('from-corrupt', { restorePoint: { backupRef: fullId } }));
    expect(r.statusCode).toBe(200);
    const inst = await waitInstanceStatus(r.json().instance.id, 'ERROR');
    expect((inst.fault as { message: string }).message).toMatch(/^Restore failed: /);
    expect(inst.operating_status).not.toBe('HEALTHY');
  });
});
