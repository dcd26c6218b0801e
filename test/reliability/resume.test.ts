import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/connection.js';
import type { Database } from '../../src/db/schema.js';
import { PosixObjectStore } from '../../src/storage/posix-store.js';
import { seededRandom } from './fault-proxy.js';
import { baseSeed, report } from './helpers.js';
import { createServiceRunner, ensureBuilt, type ServiceRunner } from './service-runner.js';

/**
 * Resume, never reset: real processes (one ROLE=api, two ROLE=worker of the same host on one
 * database and DATA_DIR), a backup, a restore and a verify each interrupted by SIGKILL and by
 * SIGTERM at a seeded point. SIGKILL: the worker starts again and takes the job over when its
 * lease expires. SIGTERM: the stop releases the job and the other worker resumes it at once.
 * Every interrupted operation ends as an uninterrupted one would: the backup `available` with
 * the same objects (names and bytes), `_metadata` and `_sha256file` as an uninterrupted backup
 * of the same volume, uploading again only what it had not stored; the restore byte-identical to
 * the volume; the verify `ok`.
 */
const P1 = '11111111111111111111111111111111';
const MiB = 1024 * 1024;
const DATA = 64 * MiB; // random bytes at the start of a 1 GiB volume (the smallest); the rest is zero
const seed = baseSeed();
const random = seededRandom(seed);
const figures: Record<string, unknown> = { seed };

let api: ServiceRunner;
let w1: ServiceRunner;
let w2: ServiceRunner;
let db: Kysely<Database>;

async function call(method: string, path: string, body?: unknown, raw?: Buffer): Promise<{ status: number; json: any }> {
  const res = await fetch(`${api.url}/v3/${P1}${path}`, {
    method,
    headers: {
      'x-auth-token': `u:${P1}`,
      'openstack-api-version': 'volume 3.70',
      ...(raw ? { 'content-type': 'application/octet-stream' } : body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: raw ?? (body !== undefined ? JSON.stringify(body) : undefined),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, get: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms\nworker 1:\n${w1.logTail()}\nworker 2:\n${w2.logTail()}`);
    await sleep(25);
  }
}

const backupRow = (id: string) => db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const volumeStatus = async (id: string) =>
  (await db.selectFrom('volumes').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The store's objects under a backup's prefix: suffix (-00001, _metadata, ...) -> bytes. */
async function objectsOf(backupId: string): Promise<Map<string, Buffer>> {
  const b = await backupRow(backupId);
  const store = new PosixObjectStore(join(api.dataDir, 'backups'), 'volumebackups');
  const out = new Map<string, Buffer>();
  for (const k of await store.list(b.container!, b.service_metadata!)) {
    out.set(k.slice(b.service_metadata!.length), await store.get(b.container!, k));
  }
  return out;
}

/** The worker log line "backup data stored" of a backup's finishing run. */
function storedLine(backupId: string): { uploaded_bytes: number; reused_bytes: number; reused_objects: number; objects: number } {
  const line = [...w1.grep('backup data stored'), ...w2.grep('backup data stored')].find((l) => l.includes(backupId));
  if (!line) throw new Error(`no 'backup data stored' line for ${backupId}`);
  return JSON.parse(line);
}

/** The worker process holding the job's lease now. */
async function ownerOf(jobId: number): Promise<ServiceRunner> {
  const pid = await until('the job is claimed', async () => {
    const j = await db.selectFrom('jobs').select(['status', 'lease_owner']).where('id', '=', jobId).executeTakeFirstOrThrow();
    return j.status === 'running' && j.lease_owner ? Number(j.lease_owner.split(':')[1]) : undefined;
  });
  const owner = [w1, w2].find((w) => w.pid() === pid);
  if (!owner) throw new Error(`job ${jobId} is held by pid ${pid}, not by a worker of this test`);
  return owner;
}

const lastJob = async (kind: string, resourceId: string) =>
  (
    await db
      .selectFrom('jobs')
      .select('id')
      .where('kind', '=', kind)
      .where('resource_id', '=', resourceId)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow()
  ).id;

/**
 * A seeded point `delayMs` after this job's run started (its progress record names the job, never
 * an earlier run's). Progress is saved once a second, so a restore or verify that takes about that
 * long could end before any bytes-done figure crossed a point: the start of the record is the
 * only signal each run is sure to give.
 */
function delayAfterStart(backupId: string, jobId: number, delayMs: number): () => Promise<boolean> {
  let startedAt = 0;
  return async () => {
    if (!startedAt && (await backupRow(backupId)).progress_job_id === jobId) startedAt = Date.now();
    return startedAt > 0 && Date.now() - startedAt >= delayMs;
  };
}

/** Stops the job's worker with `signal` at the moment `reached()` says, and brings the workers back as the case needs. */
async function interrupt(kind: string, resourceId: string, signal: 'SIGKILL' | 'SIGTERM', reached: () => Promise<boolean>): Promise<void> {
  const owner = await ownerOf(await lastJob(kind, resourceId));
  await until(`${kind} reaches its seeded point`, async () => ((await reached()) ? true : undefined));
  if (signal === 'SIGKILL') {
    await owner.kill();
    await owner.start(); // the same worker again: it takes the job over when its lease expires
  } else {
    await owner.term(); // releases the job: the other worker, already running, resumes it
  }
}

/** After a case: worker 1 running, worker 2 stopped, whichever was stopped. */
async function workersBack(): Promise<void> {
  if (!w1.pid()) await w1.start();
  if (w2.pid()) await w2.term();
}

/** Runs a case that may start worker 2 and stop either worker, leaving the workers as the next case expects, pass or fail. */
async function withWorkersRestored(signal: 'SIGKILL' | 'SIGTERM', body: () => Promise<void>): Promise<void> {
  if (signal === 'SIGTERM') await w2.start();
  try {
    await body();
  } finally {
    await workersBack();
  }
}

let volume: string;
let volumeFile: string;
let reference: { id: string; objects: Map<string, Buffer>; uploaded: number; seconds: number };

async function backup(name: string): Promise<string> {
  const b = await call('POST', '/backups', { backup: { volume_id: volume, name } });
  expect(b.status, JSON.stringify(b.json)).toBe(202);
  return b.json.backup.id;
}

async function available(backupId: string): Promise<number> {
  const started = Date.now();
  const status = await until('the backup settles', async () => {
    const s = (await backupRow(backupId)).status;
    return s === 'creating' || s === 'restoring' ? undefined : s;
  });
  expect(status, `${(await backupRow(backupId)).fail_reason}`).toBe('available');
  return (Date.now() - started) / 1000;
}

beforeAll(async () => {
  await ensureBuilt();
  const env = {
    BACKUP_OBJECT_SIZE: String(4 * MiB),
    BACKUP_WORKER_THREADS: '1',
    JOB_LEASE_SECONDS: '5',
    SHUTDOWN_GRACE_SECONDS: '0', // a stop releases at once: the backup is cut mid-way, not let finish
    LOG_LEVEL: 'info',
  };
  api = await createServiceRunner({ ...env, ROLE: 'api' }, { port: 18110 });
  w1 = await createServiceRunner({ ...env, ROLE: 'worker' }, { share: api, port: 18111 });
  w2 = await createServiceRunner({ ...env, ROLE: 'worker' }, { share: api, port: 18112 });
  await Promise.all([api.start(), w1.start()]);
  db = createDb({ url: api.dbUrl, poolSize: 3 });
  const v = await call('POST', '/volumes', { volume: { size: 1, name: 'resume' } });
  expect(v.status, JSON.stringify(v.json)).toBe(202);
  volume = v.json.volume.id;
  await until('the volume is available', async () => ((await volumeStatus(volume)) === 'available' ? true : undefined));
  const put = await call('PUT', `/volumes/${volume}/data`, undefined, randomBytes(DATA));
  expect(put.status).toBeLessThan(300);
  volumeFile = join(api.dataDir, 'volumes', `volume-${volume}`);
  // The uninterrupted backup every interrupted one is compared with.
  const id = await backup('resume');
  const seconds = await available(id);
  reference = { id, objects: await objectsOf(id), uploaded: storedLine(id).uploaded_bytes, seconds };
  figures.full_run = { uploaded_bytes: reference.uploaded, seconds };
}, 600_000);

afterAll(async () => {
  report('resume', figures);
  await db?.destroy();
  await w2?.destroy();
  await w1?.destroy();
  await api?.destroy();
});

/** Same objects and bytes as the reference; _metadata and _sha256file equal once its id, prefix and time are this backup's. */
async function expectSameAsReference(id: string): Promise<void> {
  const ours = await objectsOf(id);
  expect([...ours.keys()].sort()).toEqual([...reference.objects.keys()].sort());
  const [r, o] = [await backupRow(reference.id), await backupRow(id)];
  for (const [suffix, body] of reference.objects) {
    let want = body;
    if (suffix.startsWith('_')) {
      const refCreated = JSON.parse(body.toString()).created_at as string;
      const ourCreated = JSON.parse(ours.get(suffix)!.toString()).created_at as string;
      want = Buffer.from(
        body
          .toString()
          .replaceAll(r.service_metadata!, o.service_metadata!)
          .replaceAll(reference.id, id)
          .replaceAll(`"created_at": "${refCreated}"`, `"created_at": "${ourCreated}"`),
      );
    }
    expect(ours.get(suffix)!.equals(want), `object ${suffix} differs from the uninterrupted backup's`).toBe(true);
  }
}

const interruptedBackups: Record<string, string> = {};

describe('resume after SIGKILL and SIGTERM at seeded points (real worker processes)', { timeout: 600_000 }, () => {
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`backup, ${signal}: resumes from its stored objects, ends available with the uninterrupted run's objects, uploading only the rest`, () =>
      withWorkersRestored(signal, async () => {
        const started = Date.now();
        const id = await backup('resume'); // the name is in _metadata: the same as the reference's
        // A seeded point among the data objects (objects 2..15 of 16 random ones).
        const point = 2 + Math.floor(random() * 14);
        await interrupt('backup', id, signal, async () => {
          const { n } = await db
            .selectFrom('backup_stored_objects')
            .select(sql<number>`count(*)`.as('n'))
            .where('backup_id', '=', id)
            .executeTakeFirstOrThrow();
          return Number(n) >= point;
        });
        expect((await backupRow(id)).status, 'the kill came after the backup ended: no interruption tested').toBe('creating');
        await available(id);
        const seconds = (Date.now() - started) / 1000;
        await expectSameAsReference(id);
        const line = storedLine(id);
        expect(line.reused_objects).toBeGreaterThanOrEqual(point);
        expect(line.uploaded_bytes + line.reused_bytes).toBe(reference.uploaded);
        expect(line.uploaded_bytes).toBeLessThan(reference.uploaded);
        const b = await backupRow(id);
        expect(b.object_count).toBe([...reference.objects.keys()].filter((k) => k.startsWith('-')).length);
        expect(await volumeStatus(volume)).toBe('available');
        interruptedBackups[signal] = id;
        figures[`backup_${signal}`] = {
          point_objects: point,
          reused_objects: line.reused_objects,
          reuploaded_bytes: line.uploaded_bytes,
          full_run_bytes: reference.uploaded,
          seconds_total: seconds,
        };
      }));
  }

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`restore, ${signal}: runs again into the same target and ends available, byte-identical to the volume`, () =>
      withWorkersRestored(signal, async () => {
        const id = interruptedBackups[signal] ?? reference.id;
        const r = await call('POST', `/backups/${id}/restore`, { restore: { name: `restore-${signal}` } });
        expect(r.status, JSON.stringify(r.json)).toBe(202);
        const target = r.json.restore.volume_id as string;
        // A seeded point early in the run: a restore of this volume takes about a second.
        const delayMs = Math.floor(random() * 300);
        const job = await lastJob('restore', id);
        await interrupt('restore', id, signal, delayAfterStart(id, job, delayMs));
        expect((await backupRow(id)).status, 'the kill came after the restore ended: no interruption tested').toBe('restoring');
        await available(id);
        expect(
          await until('the target settles', async () => {
            const s = await volumeStatus(target);
            return s === 'creating' || s === 'restoring-backup' ? undefined : s;
          }),
        ).toBe('available');
        expect(await sha256File(join(api.dataDir, 'volumes', `volume-${target}`))).toBe(await sha256File(volumeFile));
        figures[`restore_${signal}`] = { delay_ms: delayMs };
      }));
  }

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`verify, ${signal}: starts over and ends ok`, () =>
      withWorkersRestored(signal, async () => {
        const id = interruptedBackups[signal] ?? reference.id;
        await db.updateTable('backups').set({ verified_at: null, verify_result: null }).where('id', '=', id).execute();
        const v = await call('POST', `/backups/${id}/action`, { 'os-verify': null });
        expect(v.status, JSON.stringify(v.json)).toBe(202);
        // A verify reads little (the objects are compressed) and saves progress once a second: the
        // seeded point is a delay after its run started (its progress record names this job).
        const delayMs = Math.floor(random() * 300);
        const job = await lastJob('verify', id);
        await interrupt('verify', id, signal, delayAfterStart(id, job, delayMs));
        expect((await backupRow(id)).verify_result, 'the kill came after the verify ended: no interruption tested').toBe('pending');
        const result = await until('the verify ends', async () => {
          const r = (await backupRow(id)).verify_result;
          return r === 'pending' || r === null ? undefined : r;
        });
        expect(result, `${(await backupRow(id)).fail_reason}`).toBe('ok');
        const row = await until('the verify job ends', async () => {
          const j = await db.selectFrom('jobs').select(['status', 'attempts']).where('id', '=', job).executeTakeFirstOrThrow();
          return j.status === 'running' || j.status === 'queued' ? undefined : j;
        });
        expect(row).toMatchObject({ status: 'done' });
        expect(row.attempts).toBeGreaterThan(1);
        figures[`verify_${signal}`] = { delay_ms: delayMs, attempts: row.attempts };
      }));
  }
});
