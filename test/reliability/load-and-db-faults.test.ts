import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { P1, makeVolume } from '../integration/backups-fixtures.js';
import { expectFaultBody, startApiWorld, writeAt, type ApiWorld } from './api-world.js';
import { LONG, report } from './helpers.js';
import { type LoadStats, newStats, percentile, serverErrorCount, timed } from './http-load.js';

/**
 * Real HTTP on loopback against real Postgres with the job worker running.
 * Load: 50 clients create, list and delete backups for a bounded time: no 5xx, nothing stuck.
 * Database faults: every backend of the service's database is killed (pg_terminate_backend)
 * again and again under API load and running jobs: answers are 503 Cinder faults (never 500)
 * while it happens, the service recovers by itself, and every backup ends once, in a final status.
 */
let w: ApiWorld;
let base: string;
const token = `u:${P1}`;
const FINAL = ['available', 'error', 'deleted'];

beforeAll(async () => {
  w = await startApiWorld({ BACKUP_MAX_OPERATIONS: '2', DATABASE_POOL_SIZE: '20' });
  await w.env.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(w.env.app.server.address() as AddressInfo).port}/v3/${P1}`;
}, 120_000);
afterAll(async () => w?.env.close());

async function waitStatus(stats: LoadStats, id: string, until: number, pred: (s: string) => boolean): Promise<string> {
  let last = 'unknown';
  while (Date.now() < until) {
    const r = await timed(stats, base, 'GET', `/backups/${id}`, token);
    if (r.status === 404) return 'deleted';
    if (r.status === 200) last = r.json.backup.status;
    if (pred(last)) return last;
    await new Promise((res) => setTimeout(res, 100));
  }
  return last;
}

/** One client: create a backup of its own volume, wait, list, delete, repeat until `until`. */
async function client(stats: LoadStats, volumeId: string, until: number, created: string[]): Promise<void> {
  while (Date.now() < until) {
    const c = await timed(stats, base, 'POST', '/backups', token, { backup: { volume_id: volumeId, name: 'load' } });
    await timed(stats, base, 'GET', '/backups/detail?limit=20&sort=created_at:desc', token);
    if (c.status !== 202) {
      await new Promise((res) => setTimeout(res, 200));
      continue;
    }
    const id = c.json.backup.id as string;
    created.push(id);
    const s = await waitStatus(stats, id, until + 30_000, (x) => x !== 'creating');
    if (s === 'available' || s === 'error') await timed(stats, base, 'DELETE', `/backups/${id}`, token);
  }
}

async function finalStatuses(ids: string[]): Promise<Record<string, string>> {
  const rows = ids.length ? await w.env.t.db.selectFrom('backups').select(['id', 'status']).where('id', 'in', ids).execute() : [];
  return Object.fromEntries(rows.map((r) => [r.id, r.status]));
}

/** Backups in a busy status with no queued or running job: work that was lost. */
async function stuckWithoutJob(ids: string[]): Promise<string[]> {
  const statuses = await finalStatuses(ids);
  const busy = Object.entries(statuses)
    .filter(([, s]) => !FINAL.includes(s))
    .map(([id]) => id);
  if (!busy.length) return [];
  const live = await w.env.t.db
    .selectFrom('jobs')
    .select('resource_id')
    .where('resource_id', 'in', busy)
    .where('status', 'in', ['queued', 'running'])
    .execute();
  const withJob = new Set(live.map((j) => j.resource_id));
  const lost = busy.filter((id) => !withJob.has(id));
  const jobs = lost.length
    ? await w.env.t.db
        .selectFrom('jobs')
        .select(['resource_id', 'kind', 'status', 'attempts', 'last_error'])
        .where('resource_id', 'in', lost)
        .execute()
    : [];
  return lost.map((id) => `${id}:${statuses[id]} jobs=${JSON.stringify(jobs.filter((j) => j.resource_id === id))}`);
}

async function waitAllFinal(ids: string[], ms: number): Promise<Record<string, string>> {
  const deadline = Date.now() + ms;
  let statuses = await finalStatuses(ids);
  while (Date.now() < deadline && Object.values(statuses).some((s) => !FINAL.includes(s))) {
    await new Promise((r) => setTimeout(r, 200));
    statuses = await finalStatuses(ids);
  }
  return statuses;
}

// The fault test runs first: the load test leaves a queue of backups behind it.
describe('load and database faults over real HTTP', () => {
  it('killing every database backend under load gives 503 faults, never 500, and the service recovers by itself', async () => {
    const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
    await admin.connect();
    const dbName = new URL(w.env.t.url).pathname.slice(1);
    const stats = newStats();
    const created: string[] = [];
    const volumes = await Promise.all(Array.from({ length: 6 }, () => makeVolume(w.env, P1, { size: 1 })));
    let kills = 0;
    let terminated = 0;
    const until = Date.now() + (LONG ? 30_000 : 6_000);
    const killer = (async () => {
      while (Date.now() < until) {
        const r = await admin.query(
          'SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [dbName],
        );
        kills++;
        terminated += Number(r.rows[0].n);
        await new Promise((res) => setTimeout(res, 250));
      }
    })();
    const faults: string[] = [];
    const loaders = volumes.map(async (v) => {
      while (Date.now() < until) {
        const c = await timed(stats, base, 'POST', '/backups', token, { backup: { volume_id: v, name: 'chaos' } });
        if (c.status === 202) created.push(c.json.backup.id);
        if (c.status >= 500) faults.push(c.text);
        const l = await timed(stats, base, 'GET', '/backups/detail', token);
        if (l.status >= 500) faults.push(l.text);
        await new Promise((res) => setTimeout(res, 50));
      }
    });
    await Promise.all([killer, ...loaders]);
    await admin.end();
    // Recovers by itself: within 15 s a list answers 200 again.
    const deadline = Date.now() + 15_000;
    let ok = false;
    while (!ok && Date.now() < deadline) ok = (await timed(newStats(), base, 'GET', '/backups/detail', token)).status === 200;
    report('db-faults', { kills, terminated, requests: stats.requests, byStatus: stats.byStatus, backupsAccepted: created.length });
    expect(ok, 'service did not recover by itself').toBe(true);
    expect(terminated).toBeGreaterThan(0);
    expect(stats.byStatus[500] ?? 0, stats.serverErrors.join('\n')).toBe(0);
    for (const f of faults) expectFaultBody(JSON.parse(f)[Object.keys(JSON.parse(f))[0]!].code, f, 'db fault');
    expect(serverErrorCount(stats, [503]), stats.serverErrors.join('\n')).toBe(0);
    // No job lost: every accepted backup ends in a final status; none was run twice.
    expect(await stuckWithoutJob(created)).toEqual([]);
    const statuses = await waitAllFinal(created, LONG ? 300_000 : 150_000);
    expect(Object.entries(statuses).filter(([, s]) => !FINAL.includes(s))).toEqual([]);
    if (created.length) {
      const jobs = await w.env.t.db
        .selectFrom('jobs')
        .select(['resource_id', 'status', 'attempts'])
        .where('kind', '=', 'backup')
        .where('resource_id', 'in', created)
        .execute();
      expect(jobs.length).toBe(created.length);
      expect(jobs.filter((j) => !['done', 'failed'].includes(j.status))).toEqual([]);
    }
  }, 600_000);

  it(`50 concurrent clients create, list and delete backups for ${LONG ? 60 : 10} s: no 5xx, nothing stuck`, async () => {
    const volumes = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const v = await makeVolume(w.env, P1, { size: 1 });
        await writeAt(w.env.deps.volumes.volumePath(v), 0, Buffer.alloc(8192, 1));
        return v;
      }),
    );
    const stats = newStats();
    const created: string[] = [];
    const until = Date.now() + (LONG ? 60_000 : 10_000);
    await Promise.all(volumes.map((v) => client(stats, v, until, created)));
    // Backups are machine-bound (each hashes a 1 GiB volume): a short drain, then nothing may be stuck.
    const statuses = await waitAllFinal(created, 20_000);
    const figures = {
      clients: 50,
      requests: stats.requests,
      byStatus: stats.byStatus,
      networkErrors: stats.networkErrors,
      p50: percentile(stats, 50).toFixed(1),
      p99: percentile(stats, 99).toFixed(1),
      backups: created.length,
    };
    report('load', figures);
    expect(serverErrorCount(stats), stats.serverErrors.join('\n')).toBe(0);
    expect(stats.networkErrors).toBe(0);
    expect(created.length).toBeGreaterThan(10);
    expect(Object.values(statuses).filter((s) => s === 'available' || s === 'deleted').length).toBeGreaterThan(0);
    expect(await stuckWithoutJob(created)).toEqual([]);
  }, 300_000);
});
