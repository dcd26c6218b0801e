import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beatWorker } from '../../src/db/worker-heartbeats-repository.js';
import { createBackupJobHandlers } from '../../src/domain/backups/worker/handlers.js';
import { type BackupTestEnv, P1, jobCtx, makeVolume, type StoreHooks, hookedBackupTestEnv } from './backups-fixtures.js';

const GiB = 1024 ** 3;

/**
 * The progress extension as a person reads it: phase, bytes read and stored, current rate and
 * time left, fed by the engine's progress hooks while a job runs; never a record of an earlier run.
 */
describe('backup progress a person can read', { timeout: 240_000 }, () => {
  let env: BackupTestEnv;
  let hooks: StoreHooks;
  beforeAll(async () => {
    ({ env, hooks } = await hookedBackupTestEnv());
    // This test is the worker of its host (it runs the jobs itself): its host is live, so jobs show queued, not waiting.
    await beatWorker(env.t.db, 'progress-test', env.config.HOST_ID, 3600);
  });
  afterAll(async () => env.close());

  const progress = async (id: string) => {
    const r = await env.call('GET', `/backups/${id}/progress`, P1);
    expect(r.status).toBe(200);
    return r.json.progress;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** Runs the newest job of `kind` as a worker would: running, leased, attempt 1; done after. */
  async function runLeased(kind: 'backup' | 'restore' | 'verify', id: string): Promise<void> {
    const job = await env.t.db
      .updateTable('jobs')
      .set({ status: 'running', attempts: 1, lease_owner: 'test', lease_expires_at: sql<Date>`now() + interval '1 hour'` })
      .where('id', '=', (eb) =>
        eb.selectFrom('jobs').select(eb.fn.max('id').as('m')).where('kind', '=', kind).where('resource_id', '=', id),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    await createBackupJobHandlers(env.manager)[kind]!(job, jobCtx());
    await env.t.db.updateTable('jobs').set({ status: 'done' }).where('id', '=', job.id).execute();
  }

  it('while a backup runs it shows the phase, bytes read and stored, the current rate and the time left; done afterwards', async () => {
    const vol = await makeVolume(env, P1);
    const fh = await open(env.deps.volumes.volumePath(vol), 'r+');
    await fh.write(randomBytes(64 * 1024 * 1024), 0, undefined, 0);
    await fh.close();
    const r = await env.call('POST', '/backups', P1, { backup: { volume_id: vol } });
    expect(r.status).toBe(202);
    const id = r.json.backup.id as string;

    // Queued: no worker has it yet.
    expect(await progress(id)).toMatchObject({ operation: 'backup', phase: 'queued', percent: 0, bytes_done: 0, eta_seconds: null });

    const seen: any[] = [];
    let puts = 0;
    hooks.afterPut = async (key) => {
      if (!/-\d{5}$/.test(key)) return;
      const n = ++puts; // before the sleep: up to four puts run at once
      await sleep(60); // 128 objects, 4 at a time: 2 s or more, so the hooks persist a measured rate
      if (n % 40 === 0) seen.push(await progress(id));
    };
    try {
      await runLeased('backup', id);
    } finally {
      hooks.afterPut = null;
    }
    expect(seen.length).toBeGreaterThanOrEqual(2);
    const mid = seen.at(-1);
    expect(mid).toMatchObject({ operation: 'backup', phase: 'uploading', attempt: 1, status: 'creating' });
    expect(mid.bytes_done).toBeGreaterThan(0);
    expect(mid.bytes_done).toBeLessThan(GiB);
    expect(mid.bytes_read).toBeGreaterThanOrEqual(mid.bytes_done);
    expect(mid.bytes_stored).toBeGreaterThan(0);
    expect(mid.current_rate_bytes_per_sec).toBeGreaterThan(0);
    expect(mid.current_mib_per_sec).toBe(Math.round((mid.current_rate_bytes_per_sec / 1024 ** 2) * 10) / 10);
    expect(mid.eta_seconds).toBe(Math.ceil((GiB - mid.bytes_done) / mid.current_rate_bytes_per_sec));

    const row = await env.t.db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const end = await progress(id);
    expect(end).toMatchObject({
      status: 'available',
      operation: 'backup',
      phase: 'done',
      attempt: 1,
      percent: 100,
      bytes_done: GiB,
      bytes_total: GiB,
      bytes_read: GiB,
      bytes_stored: row.stored_bytes,
      current_rate_bytes_per_sec: 0,
      current_mib_per_sec: 0,
      eta_seconds: null,
    });

    // A verify is asked for: the backup's finished record is not shown as the verify's.
    expect((await env.call('POST', `/backups/${id}/action`, P1, { 'os-verify': {} })).status).toBe(202);
    expect(await progress(id)).toMatchObject({
      operation: 'verify',
      phase: 'queued',
      percent: 0,
      bytes_done: 0,
      bytes_total: 0,
      bytes_read: 0,
      bytes_stored: 0,
      started_at: null,
    });
    let verifying: any;
    hooks.afterGet = async (key) => {
      if (!verifying && key.endsWith('-00064')) verifying = await progress(id);
    };
    try {
      await runLeased('verify', id);
    } finally {
      hooks.afterGet = null;
    }
    expect(verifying).toMatchObject({ operation: 'verify', phase: expect.stringMatching(/^(starting|verifying)$/), attempt: 1 });
    const verified = await progress(id);
    expect(verified).toMatchObject({ operation: 'verify', phase: 'done', percent: 100, verify_result: 'ok', bytes_stored: 0 });
    expect(verified.bytes_read).toBeGreaterThan(0);

    // A restore into a new volume: bytes read are the objects fetched, bytes stored the ones written to the volume.
    const restore = await env.call('POST', `/backups/${id}/restore`, P1, { restore: {} });
    expect(restore.status).toBe(202);
    expect(await progress(id)).toMatchObject({ operation: 'restore', phase: 'queued', percent: 0, bytes_read: 0 });
    await runLeased('restore', id);
    const restored = await progress(id);
    expect(restored).toMatchObject({ operation: 'restore', phase: 'done', percent: 100, attempt: 1 });
    expect(restored.bytes_read).toBeGreaterThan(0);
    expect(restored.bytes_stored).toBeGreaterThanOrEqual(64 * 1024 * 1024);
  });

  it('a run taken over by another worker never shows the earlier attempt; a run whose lease lapsed is stalled', async () => {
    const vol = await makeVolume(env, P1);
    const r = await env.call('POST', '/backups', P1, { backup: { volume_id: vol } });
    const id = r.json.backup.id as string;
    const job = await env.t.db.selectFrom('jobs').selectAll().where('resource_id', '=', id).executeTakeFirstOrThrow();
    // Attempt 1 wrote 40% before its worker died.
    const DONE = Math.round(0.4 * GiB);
    const READ = Math.round(0.45 * GiB);
    await env.t.db
      .updateTable('backups')
      .set({
        progress_operation: 'backup',
        progress_phase: 'uploading',
        progress_bytes_done: DONE,
        progress_bytes_total: GiB,
        progress_bytes_read: READ,
        progress_bytes_stored: 1000,
        progress_rate_bytes_per_sec: 50 * 1024 ** 2,
        progress_started_at: sql<Date>`now() - interval '10 seconds'`,
        progress_updated_at: sql<Date>`now()`,
        progress_job_id: job.id,
        progress_attempt: 1,
      })
      .where('id', '=', id)
      .execute();
    const lease = (interval: string, attempts: number) =>
      env.t.db
        .updateTable('jobs')
        .set({ status: 'running', attempts, lease_expires_at: sql<Date>`now() + ${sql.raw(`interval '${interval}'`)}` })
        .where('id', '=', job.id)
        .execute();

    await lease('1 minute', 1);
    const running = await progress(id);
    expect(running).toMatchObject({ phase: 'uploading', attempt: 1, percent: 40, bytes_read: READ, current_mib_per_sec: 50 });
    expect(running.eta_seconds).toBe(Math.ceil((GiB - DONE) / (50 * 1024 ** 2)));

    await lease('-1 second', 1);
    expect(await progress(id)).toMatchObject({ phase: 'stalled', percent: 40, current_rate_bytes_per_sec: 0, eta_seconds: null });

    await lease('1 minute', 2);
    expect(await progress(id)).toMatchObject({
      operation: 'backup',
      phase: 'starting',
      attempt: 2,
      percent: 0,
      bytes_done: 0,
      bytes_read: 0,
      bytes_stored: 0,
      rate_bytes_per_sec: 0,
      eta_seconds: null,
    });

    // Given back to the queue at a shutdown: the next run starts its own record.
    await env.t.db.updateTable('jobs').set({ status: 'queued' }).where('id', '=', job.id).execute();
    expect(await progress(id)).toMatchObject({ phase: 'queued', percent: 0, bytes_done: 0 });
  });
});
