import { randomInt } from 'node:crypto';
import pino from 'pino';
import { expect } from 'vitest';
import { type InstanceSupervisor, startInstanceSupervisor } from '../../src/domain/trove/instances/supervisor.js';
import { troveBackupJobHandlers } from '../../src/domain/trove/backups/jobs.js';
import { troveInstanceJobHandlers } from '../../src/domain/trove/instances/jobs.js';
import { createBackupEngine } from '../../src/engine/backup-engine.js';
import type { BackupEngine } from '../../src/engine/engine-api.js';
import { type JobWorker, startJobWorker } from '../../src/jobs/worker.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

/** The real app with a job worker for Trove's kinds and the supervisor, on a random port window. */
export interface TroveEnv {
  t: TestApp;
  worker: JobWorker;
  supervisor: InstanceSupervisor;
  /** The chunked engine the backup jobs use (with `{ backups: true }`). */
  engine?: BackupEngine;
  /** Starts a fresh supervisor (a "service restart"), stopping the old one first. */
  restartSupervisor(): Promise<void>;
  close(): Promise<void>;
}

/** `backups: true` adds the database backup jobs (backup, delete, restore) with an engine of their own. */
export async function createTroveEnv(env: Record<string, string> = {}, opts: { backups?: boolean } = {}): Promise<TroveEnv> {
  // NOTE: parallel test files (and sessions) each get their own 20-port window.
  const first = 16000 + randomInt(0, 250) * 20; // below the ephemeral range (32768-60999)
  let worker: JobWorker | undefined;
  const t = await createTestApp(
    { TROVE_INSTANCE_PORTS: `${first}-${first + 19}`, TROVE_SUPERVISE_INTERVAL_MS: '300', NOAUTH_ADMIN_PROJECTS: 'adminproj', ...env },
    { wakeJobs: () => worker?.wake() },
  );
  const deps = { db: t.deps.db, config: t.config, wakeJobs: () => worker?.wake() };
  const log = pino({ level: 'silent' });
  const c = t.config;
  const engine = opts.backups
    ? createBackupEngine({
        compression: c.BACKUP_COMPRESSION,
        objectSize: c.BACKUP_OBJECT_SIZE,
        blockSize: c.BACKUP_BLOCK_SIZE,
        chunksInFlight: c.BACKUP_CHUNKS_IN_FLIGHT,
        uploadConcurrency: c.BACKUP_UPLOAD_CONCURRENCY,
        workerThreads: 2,
      })
    : undefined;
  const backupHandlers = engine ? troveBackupJobHandlers({ ...deps, store: t.deps.store, engine }) : {};
  worker = startJobWorker({
    db: t.deps.db,
    owner: `trove-test:${first}`,
    hostId: t.config.HOST_ID,
    handlers: { ...troveInstanceJobHandlers(deps), ...backupHandlers },
    maxConcurrent: 2,
    leaseSeconds: 30,
    pollMs: 50,
    logger: log,
    shutdownGraceMs: 5000,
  });
  const e: TroveEnv = {
    t,
    worker,
    supervisor: await startInstanceSupervisor(deps, log),
    engine,
    async restartSupervisor() {
      await e.supervisor.stop();
      e.supervisor = await startInstanceSupervisor(deps, log);
    },
    async close() {
      await worker!.stop();
      await e.supervisor.stop();
      await engine?.close();
      await t.close();
    },
  };
  return e;
}

export const tok = (project: string, user = 'alice') => ({ 'x-auth-token': `${user}:${project}` });

/** Polls GET /instances/{id} until `status` (fails fast on ERROR unless that is awaited). */
export async function waitStatus(e: TroveEnv, project: string, id: string, status: string, ms = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await e.t.app.inject({ url: `/v1.0/${project}/instances/${id}`, headers: tok(project) });
    if (status === 'GONE' && res.statusCode === 404) return {};
    const inst = res.json().instance;
    if (inst?.status === status) return inst;
    if (inst?.status === 'ERROR') expect.fail(`instance went ERROR: ${JSON.stringify(inst.fault)}`);
    if (Date.now() > deadline) expect.fail(`instance ${id} still ${inst?.status} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
