import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/connection.js';
import type { Database } from '../../src/db/schema.js';
import { collectOrphans } from '../../src/domain/backups/orphan-gc.js';
import { PosixObjectStore } from '../../src/storage/posix-store.js';
import { seededRandom } from './fault-proxy.js';
import { baseSeed, report, rounds } from './helpers.js';
import { createServiceRunner, ensureBuilt, type ServiceRunner } from './service-runner.js';

/**
 * The built service as a child process, SIGKILLed at seeded random points of a backup, a
 * restore, a delete and a snapshot, then started again. After each restart: nothing stays in
 * a busy status beyond the lease time, every `available` backup restores byte-identically,
 * and the orphan GC finds no object that belongs to no backup. Interrupted work resumes, never
 * resets: a backup ends `available`, a restore's target `available`, a delete `deleted`.
 */
const P1 = '11111111111111111111111111111111';
const DATA = 256 * 1024;
const BUSY = [
  'creating',
  'deleting',
  'backing-up',
  'restoring',
  'restoring-backup',
  'downloading',
  'uploading',
  'attaching',
  'detaching',
  'extending',
];
const seed = baseSeed();
const random = seededRandom(seed);
const figures: Record<string, { points: number; outcomes: Record<string, number> }> = {};
let orphansFound = 0;
let restoresChecked = 0;

let svc: ServiceRunner;
let db: Kysely<Database>;
/** What each backup must restore to (the first DATA bytes of its source at backup time). */
const expected = new Map<string, Buffer>();
const verified = new Set<string>();

async function api(
  method: string,
  path: string,
  body?: unknown,
  raw?: Buffer,
  extra: Record<string, string> = {},
): Promise<{ status: number; json: any; buf: Buffer }> {
  const res = await fetch(`${svc.url}/v3/${P1}${path}`, {
    method,
    headers: {
      'x-auth-token': `u:${P1}`,
      'openstack-api-version': 'volume 3.70',
      ...(raw ? { 'content-type': 'application/octet-stream' } : body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...extra,
    },
    body: raw ?? (body !== undefined ? JSON.stringify(body) : undefined),
    signal: AbortSignal.timeout(30_000),
  });
  const buf = Buffer.from(await res.arrayBuffer());
  let json: any = null;
  try {
    json = JSON.parse(buf.toString());
  } catch {
    json = null;
  }
  return { status: res.status, json, buf };
}

async function waitRow(table: 'volumes' | 'backups' | 'snapshots', id: string, ms = 60_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const row = await db.selectFrom(table).select(['status', 'deleted']).where('id', '=', id).executeTakeFirst();
    const status = !row ? 'missing' : row.deleted ? 'deleted' : row.status;
    if (!BUSY.includes(status) || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A new 1 GiB volume whose first DATA bytes are random. */
async function volumeWithData(): Promise<{ id: string; data: Buffer }> {
  const v = await api('POST', '/volumes', { volume: { size: 1, name: 'crash' } });
  expect(v.status, JSON.stringify(v.json)).toBe(202);
  expect(await waitRow('volumes', v.json.volume.id)).toBe('available');
  const data = randomBytes(DATA);
  const put = await api('PUT', `/volumes/${v.json.volume.id}/data`, undefined, data);
  expect(put.status, put.buf.toString()).toBeLessThan(300);
  return { id: v.json.volume.id, data };
}

async function backupOf(vol: { id: string; data: Buffer }): Promise<string> {
  const b = await api('POST', '/backups', { backup: { volume_id: vol.id, name: 'crash' } });
  expect(b.status, JSON.stringify(b.json)).toBe(202);
  expected.set(b.json.backup.id, vol.data);
  expect(await waitRow('backups', b.json.backup.id)).toBe('available');
  return b.json.backup.id;
}

/** The invariants after a restart (see the file comment). */
async function checkAfterRestart(): Promise<void> {
  // Busy rows must settle within the lease (5 s) plus the time a re-run job needs.
  const deadline = Date.now() + 45_000;
  let busy: Array<{ id: string; status: string; t: string }> = [];
  do {
    busy = [];
    for (const t of ['volumes', 'backups', 'snapshots'] as const) {
      const rows = await db.selectFrom(t).select(['id', 'status']).where('deleted', '=', false).where('status', 'in', BUSY).execute();
      busy.push(...rows.map((r) => ({ ...r, t })));
    }
    if (busy.length) await new Promise((r) => setTimeout(r, 200));
  } while (busy.length && Date.now() < deadline);
  expect(busy, `stuck after restart:\n${svc.logTail()}`).toEqual([]);

  const available = await db.selectFrom('backups').select(['id']).where('deleted', '=', false).where('status', '=', 'available').execute();
  for (const { id } of available) {
    if (verified.has(id) || !expected.has(id)) continue;
    const r = await api('POST', `/backups/${id}/restore`, { restore: { name: 'verify' } });
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    const vol = r.json.restore.volume_id as string;
    expect(await waitRow('volumes', vol), `restore of ${id} into ${vol}:\n${svc.logTail()}`).toBe('available');
    // The data region byte for byte, and a sample of the zero tail (1 GiB over HTTP is too slow here).
    const got = await api('GET', `/volumes/${vol}/data`, undefined, undefined, { range: `bytes=0-${2 * DATA - 1}` });
    expect(got.status).toBe(206);
    expect(got.buf.subarray(0, DATA).equals(expected.get(id)!), `backup ${id} restored different bytes`).toBe(true);
    expect(got.buf.subarray(DATA).equals(Buffer.alloc(DATA)), `backup ${id} restored a dirty tail`).toBe(true);
    verified.add(id);
    restoresChecked++;
    await api('DELETE', `/volumes/${vol}`);
  }

  const store = new PosixObjectStore(join(svc.dataDir, 'backups'), 'volumebackups');
  const reports = await collectOrphans(db, store, { delete: true });
  const found = reports.reduce((n, r) => n + r.orphans.length, 0);
  orphansFound += found;
  expect(found, `orphans after recovery: ${JSON.stringify(reports.map((r) => r.byBackupPrefix))}`).toBe(0);
}

interface Operation {
  name: 'backup' | 'restore' | 'delete' | 'snapshot';
  maxDelayMs: number;
  /** The only outcome allowed after the kill and restart (resumed work ends as if never cut), when there is one. */
  outcome?: string;
  /** Starts the operation; returns the id to report the outcome of. */
  run(): Promise<{ table: 'volumes' | 'backups' | 'snapshots'; id: string }>;
}

let shared: { id: string; data: Buffer } | null = null;
const freshVolume = async () => {
  const row = shared ? await db.selectFrom('volumes').select('status').where('id', '=', shared.id).executeTakeFirst() : undefined;
  if (!shared || row?.status !== 'available') shared = await volumeWithData();
  return shared;
};

const operations: Operation[] = [
  {
    name: 'backup',
    maxDelayMs: 3000,
    outcome: 'available',
    run: async () => {
      const vol = await freshVolume();
      const b = await api('POST', '/backups', { backup: { volume_id: vol.id, name: 'crash' } });
      expect(b.status, JSON.stringify(b.json)).toBe(202);
      expected.set(b.json.backup.id, vol.data);
      return { table: 'backups', id: b.json.backup.id };
    },
  },
  {
    name: 'restore',
    maxDelayMs: 3000,
    outcome: 'available',
    run: async () => {
      const backup = await backupOf(await freshVolume());
      const r = await api('POST', `/backups/${backup}/restore`, { restore: { name: 'crash-restore' } });
      expect(r.status, JSON.stringify(r.json)).toBe(202);
      return { table: 'volumes', id: r.json.restore.volume_id };
    },
  },
  {
    name: 'delete',
    maxDelayMs: 600,
    outcome: 'deleted',
    run: async () => {
      const backup = await backupOf(await freshVolume());
      const d = await api('DELETE', `/backups/${backup}`);
      expect(d.status).toBe(202);
      return { table: 'backups', id: backup };
    },
  },
  {
    name: 'snapshot',
    maxDelayMs: 2000,
    run: async () => {
      const vol = await freshVolume();
      const s = await api('POST', '/snapshots', { snapshot: { volume_id: vol.id, name: 'crash' } });
      expect(s.status, JSON.stringify(s.json)).toBe(202);
      return { table: 'snapshots', id: s.json.snapshot.id };
    },
  },
];

beforeAll(async () => {
  await ensureBuilt();
  svc = await createServiceRunner();
  await svc.start();
  db = createDb({ url: svc.dbUrl, poolSize: 3 });
}, 300_000);
afterAll(async () => {
  report('crash', { seed, figures, restoresChecked, orphansFound });
  await db?.destroy();
  await svc?.destroy();
});

describe('SIGKILL at seeded points, then restart', () => {
  for (const op of operations) {
    it(`${op.name}: ${rounds(2, 20)} crash points leave nothing stuck, restorable backups and no orphans`, async () => {
      figures[op.name] = { points: 0, outcomes: {} };
      for (let i = 0; i < rounds(2, 20); i++) {
        const target = await op.run();
        await new Promise((r) => setTimeout(r, Math.floor(random() * op.maxDelayMs)));
        await svc.kill();
        await svc.start();
        await checkAfterRestart();
        const outcome = await waitRow(target.table, target.id, 1000);
        if (op.outcome) expect(outcome, `${op.name} ${target.id} after a kill:\n${svc.logTail()}`).toBe(op.outcome);
        figures[op.name]!.points++;
        figures[op.name]!.outcomes[outcome] = (figures[op.name]!.outcomes[outcome] ?? 0) + 1;
      }
    }, 900_000);
  }
});
