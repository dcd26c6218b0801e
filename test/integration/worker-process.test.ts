import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { insertJob } from '../../src/db/jobs-repository.js';
import { volumeHost } from '../../src/domain/volumes/host.js';
import { FileVolumeBackend } from '../../src/volumes/file-backend.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { type ServiceProcess, startService, waitForHttp } from '../helpers/process.js';
import { insertBackups } from './backups-fixtures.js';

const GiB = 1024 ** 3;
const HOST = 'worker-proc-host';
const PROJECT = '0123456789abcdef0123456789abcdef';

/**
 * A real ROLE=worker process (src/main.ts through tsx) on a shared Postgres: it serves no API,
 * only /healthz and /metrics on METRICS_PORT, and its /metrics has the job series after it ran
 * a real backup, a failing verify and a job taken over from a dead worker.
 */
describe('a ROLE=worker process', { timeout: 240_000 }, () => {
  let t: TestDatabase;
  let dataDir: string;
  let svc: ServiceProcess | undefined;
  beforeAll(async () => {
    t = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'cbt-worker-'));
  });
  afterAll(async () => {
    if (svc && svc.child.exitCode === null && svc.child.signalCode === null) svc.child.kill('SIGKILL');
    await t?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves /healthz and /metrics on METRICS_PORT with jobs by kind, queue depth, durations, bytes moved and takeovers', async () => {
    // A volume of this host with 4 MiB of data, being backed up.
    const volumeId = randomUUID();
    await t.db
      .insertInto('volumes')
      .values({
        id: volumeId,
        project_id: PROJECT,
        user_id: 'u1',
        display_name: 'vol',
        display_description: null,
        size: 1,
        status: 'backing-up',
        previous_status: 'available',
        attach_status: 'detached',
        availability_zone: 'nova',
        host: volumeHost(HOST),
        snapshot_id: null,
        source_volid: null,
        backup_id: null,
      })
      .execute();
    const volumes = new FileVolumeBackend(dataDir);
    await volumes.createVolume(volumeId, GiB);
    const fh = await open(volumes.volumePath(volumeId), 'r+');
    await fh.write(randomBytes(4 * 1024 * 1024), 0, undefined, 0);
    await fh.close();
    const [backupId] = await insertBackups(t.db, [
      { project_id: PROJECT, volume_id: volumeId, status: 'creating', availability_zone: 'nova' },
    ]);
    await insertJob(t.db, { kind: 'backup', resourceId: backupId!, projectId: PROJECT, hostId: HOST });
    // A backup whose objects are not in the store: its verify fails.
    const [broken] = await insertBackups(t.db, [
      { project_id: PROJECT, container: 'volumebackups', service_metadata: 'nowhere/backup', availability_zone: 'nova' },
    ]);
    await insertJob(t.db, { kind: 'verify', resourceId: broken!, projectId: PROJECT });
    // A job whose worker died (lease expired): this one takes it over.
    const lost = await insertJob(t.db, { kind: 'delete_backup', resourceId: randomUUID(), projectId: PROJECT });
    await t.db
      .updateTable('jobs')
      .set({ status: 'running', attempts: 1, lease_owner: 'dead', lease_expires_at: sql<Date>`now() - interval '1 second'` })
      .where('id', '=', lost.id)
      .execute();
    // Jobs of another host: left alone, counted in the queue depth (one waiting, one stalled).
    await insertJob(t.db, { kind: 'backup', resourceId: randomUUID(), projectId: PROJECT, hostId: 'other-host' });
    const stalled = await insertJob(t.db, { kind: 'restore', resourceId: randomUUID(), projectId: PROJECT, hostId: 'other-host' });
    await t.db
      .updateTable('jobs')
      .set({ status: 'running', attempts: 1, lease_owner: 'dead', lease_expires_at: sql<Date>`now() - interval '1 second'` })
      .where('id', '=', stalled.id)
      .execute();

    const port = await freePort();
    const metricsPort = await freePort();
    svc = startService({
      ROLE: 'worker',
      DATABASE_URL: t.url,
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      HOST_ID: HOST,
      DATA_DIR: dataDir,
      JOB_POLL_MS: '100',
      BACKUP_WORKER_THREADS: '1',
    });
    const base = `http://127.0.0.1:${metricsPort}`;
    const health = await Promise.race([
      waitForHttp(`${base}/healthz`, 120_000),
      svc.exited.then((code) => {
        throw new Error(`worker exited with ${code}:\n${svc!.output().slice(-3000)}`);
      }),
    ]);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', database: 'ok' });

    const deadline = Date.now() + 180_000;
    let text = '';
    while (!/cinder_jobs_succeeded_total\{kind="backup"\} 1/.test(text) || !/cinder_jobs_failed_total\{kind="verify"\} 1/.test(text)) {
      if (Date.now() > deadline) throw new Error(`jobs did not finish:\n${text}\n--- output ---\n${svc.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
      text = await (await fetch(`${base}/metrics`)).text();
    }
    text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('cinder_jobs_started_total{kind="backup"} 1');
    expect(text).toContain('cinder_jobs_started_total{kind="verify"} 1');
    expect(text).toContain('cinder_jobs_started_total{kind="delete_backup"} 1');
    expect(text).toContain('cinder_jobs_succeeded_total{kind="delete_backup"} 1');
    expect(text).toContain('cinder_jobs_lease_takeovers_total{kind="delete_backup"} 1');
    expect(text).toContain('cinder_job_duration_seconds_count{kind="backup",outcome="succeeded"} 1');
    expect(text).toContain('cinder_job_duration_seconds_count{kind="verify",outcome="failed"} 1');
    expect(text).toContain('cinder_jobs_queue_depth{kind="backup",state="queued"} 1');
    expect(text).toContain('cinder_jobs_queue_depth{kind="restore",state="stalled"} 1');
    expect(text).toContain(`backup_engine_bytes_read_total{operation="backup"} ${GiB}`);
    const stored = Number(/^backup_engine_bytes_stored_total (\d+)$/m.exec(text)?.[1]);
    expect(stored).toBeGreaterThan(4 * 1024 * 1024 * 0.9);
    const row = await t.db.selectFrom('backups').select(['status', 'stored_bytes']).where('id', '=', backupId!).executeTakeFirstOrThrow();
    expect(row.status).toBe('available');
    expect(stored).toBeGreaterThanOrEqual(row.stored_bytes);

    // Its log (JSON lines when piped): each job's start and end; the failed verify at warn with its reason.
    const lines = svc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const jobLine = (kind: string, msg: string) => lines.find((l) => l.job_kind === kind && String(l.msg).startsWith(msg));
    expect(jobLine('backup', 'job started')).toMatchObject({ level: 30, attempt: 1 });
    expect(jobLine('backup', 'job finished')).toMatchObject({ level: 30, outcome: 'succeeded' });
    expect(jobLine('verify', 'job finished')).toMatchObject({ level: 40, outcome: 'failed', msg: 'job finished: failed' });
    expect(String(jobLine('verify', 'job finished')!.reason)).toMatch(/^verify (mismatch|error): .*nowhere\/backup/);
    expect(jobLine('delete_backup', 'job started')).toMatchObject({ attempt: 2, takeover: true });

    // No API on a worker: PORT is not listened on, and the metrics listener has nothing else.
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    expect((await fetch(`${base}/v3/${PROJECT}/backups`)).status).toBe(404);

    svc.child.kill('SIGTERM');
    expect(await svc.exited).toBe(0);
  });
});
