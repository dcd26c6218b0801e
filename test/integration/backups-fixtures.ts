import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Kysely } from 'kysely';
import type { AppDeps } from '../../src/app-deps.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import type { Database, NewBackupRow } from '../../src/db/schema.js';
import { createBackupJobHandlers } from '../../src/domain/backups/worker/handlers.js';
import type { BackupManagerDeps } from '../../src/domain/backups/worker/deps.js';
import { createCbrAwareBackupJobHandlers } from '../../src/domain/cbr/worker/job-hooks.js';
import { createBackupEngine } from '../../src/engine/backup-engine.js';
import { volumeHost } from '../../src/domain/volumes/host.js';
import { type JobWorker, startJobWorker } from '../../src/jobs/worker.js';
import { GiB } from '../../src/volumes/volume-backend.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

/** Project ids (hex, as Cinder's project_id_regex wants). ADMIN is the only admin project. */
export const ADMIN = 'adadadadadadadadadadadadadadadad';
export const P1 = '11111111111111111111111111111111';
export const P2 = '22222222222222222222222222222222';

export interface BackupTestEnv extends TestApp {
  manager: BackupManagerDeps;
  worker: JobWorker | null;
  /** inject() shorthand: method, url (without /v3/<project>), project, body, microversion. */
  call(
    method: string,
    path: string,
    project: string,
    body?: unknown,
    version?: string,
  ): Promise<{ status: number; json: any; headers: Record<string, unknown> }>;
  /** Polls GET /backups/{id} (as `project`) until `pred` holds; bounded. */
  waitBackup(id: string, project: string, pred: (b: any) => boolean, ms?: number): Promise<any>;
}

/**
 * The app (real Postgres, posix store unless env says s3, file volumes, noauth with ADMIN as
 * the only admin project) plus the backup manager and, when `withWorker`, a running job worker.
 */
export async function backupTestEnv(
  env: Record<string, string> = {},
  withWorker = false,
  overrides: Partial<AppDeps> = {},
): Promise<BackupTestEnv> {
  let worker: JobWorker | null = null;
  const t = await createTestApp(
    { NOAUTH_ADMIN_PROJECTS: ADMIN, JOB_POLL_MS: '50', ...env },
    { wakeJobs: () => worker?.wake(), ...overrides },
  );
  const c = t.config;
  const engine = createBackupEngine({
    compression: c.BACKUP_COMPRESSION,
    zstdLevel: c.BACKUP_ZSTD_LEVEL,
    objectSize: c.BACKUP_OBJECT_SIZE,
    blockSize: c.BACKUP_BLOCK_SIZE,
    chunksInFlight: c.BACKUP_CHUNKS_IN_FLIGHT,
    uploadConcurrency: c.BACKUP_UPLOAD_CONCURRENCY,
    workerThreads: 2,
  });
  const manager: BackupManagerDeps = { db: t.t.db, store: t.deps.store, engine, volumes: t.deps.volumes, config: c };
  if (withWorker) {
    worker = startJobWorker({
      db: t.t.db,
      owner: `test:${randomUUID()}`,
      hostId: c.HOST_ID,
      // As services.ts composes them: CBR operation logs follow the jobs.
      handlers: createCbrAwareBackupJobHandlers(manager),
      maxConcurrent: 2,
      leaseSeconds: 30,
      pollMs: 50,
      logger: pino({ level: 'silent' }),
      shutdownGraceMs: 2000,
    });
  }
  const call: BackupTestEnv['call'] = async (method, path, project, body, version) => {
    const headers: Record<string, string> = { 'x-auth-token': `u${project.slice(0, 7)}:${project}` };
    if (version) headers['openstack-api-version'] = `volume ${version}`;
    const res = await t.app.inject({
      method: method as 'GET',
      url: `/v3/${project}${path}`,
      headers,
      ...(body !== undefined ? { payload: body as object } : {}),
    });
    return { status: res.statusCode, json: res.body ? JSON.parse(res.body) : null, headers: res.headers };
  };
  const waitBackup: BackupTestEnv['waitBackup'] = async (id, project, pred, ms = 30_000) => {
    const deadline = Date.now() + ms;
    let last: any;
    while (Date.now() < deadline) {
      const r = await call('GET', `/backups/${id}`, project);
      last = r.status === 200 ? r.json.backup : { status: `http ${r.status}` };
      if (pred(last)) return last;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`backup ${id} did not reach the expected state; last: ${JSON.stringify(last)}`);
  };
  return {
    ...t,
    manager,
    worker,
    call,
    waitBackup,
    close: async () => {
      await worker?.stop();
      await engine.close();
      await t.close();
    },
  };
}

/** Inserts a volume row (and its sparse file) directly. */
export async function makeVolume(
  env: TestApp,
  project: string,
  opts: { size?: number; status?: string; name?: string } = {},
): Promise<string> {
  const id = randomUUID();
  await env.t.db
    .insertInto('volumes')
    .values({
      id,
      project_id: project,
      user_id: `u${project.slice(0, 7)}`,
      display_name: opts.name ?? 'vol',
      display_description: null,
      size: opts.size ?? 1,
      status: opts.status ?? 'available',
      attach_status: opts.status === 'in-use' ? 'attached' : 'detached',
      availability_zone: env.config.AVAILABILITY_ZONE,
      host: volumeHost(env.config.HOST_ID),
      snapshot_id: null,
      source_volid: null,
      backup_id: null,
    })
    .execute();
  await env.deps.volumes.createVolume(id, (opts.size ?? 1) * GiB);
  return id;
}

/** Inserts a snapshot row (and its file, a copy of the volume) directly. */
export async function makeSnapshot(env: TestApp, project: string, volumeId: string, status = 'available'): Promise<string> {
  const id = randomUUID();
  await env.t.db
    .insertInto('snapshots')
    .values({
      id,
      project_id: project,
      user_id: 'u',
      volume_id: volumeId,
      display_name: 's',
      display_description: null,
      status,
      progress: '100%',
      volume_size: 1,
    })
    .execute();
  await env.deps.volumes.createSnapshot(id, volumeId);
  return id;
}

/** Inserts backup rows directly (fast fixtures for lists and rules). */
export async function insertBackups(db: Kysely<Database>, rows: Array<Partial<NewBackupRow> & { project_id: string }>): Promise<string[]> {
  const values = rows.map((r, i) => ({
    id: randomUUID(),
    user_id: 'u',
    volume_id: randomUUID(),
    status: 'available',
    size: 1,
    data_timestamp: new Date(Date.UTC(2026, 0, 1) + i * 1000),
    created_at: new Date(Date.UTC(2026, 0, 1) + i * 1000),
    ...r,
  }));
  for (let i = 0; i < values.length; i += 500)
    await db
      .insertInto('backups')
      .values(values.slice(i, i + 500))
      .execute();
  return values.map((v) => v.id);
}

/** A JobContext for calling handlers directly (no worker). */
export function jobCtx(): import('../../src/jobs/worker.js').JobContext {
  return { signal: new AbortController().signal, heartbeat: async () => {}, log: pino({ level: 'silent' }) };
}

/** Runs the newest job of `kind` for `resourceId` through its handler, as attempt `attempts`. */
export async function runJob(
  env: BackupTestEnv,
  kind: keyof ReturnType<typeof createBackupJobHandlers>,
  resourceId: string,
  attempts = 1,
): Promise<void> {
  const job = await env.t.db
    .selectFrom('jobs')
    .selectAll()
    .where('kind', '=', kind)
    .where('resource_id', '=', resourceId)
    .orderBy('id', 'desc')
    .executeTakeFirstOrThrow();
  await env.t.db.updateTable('jobs').set({ status: 'done' }).where('id', '=', job.id).execute();
  await createBackupJobHandlers(env.manager)[kind]!({ ...job, attempts }, jobCtx());
}

/** What a test runs between two object writes or reads of the manager's store (a concurrent action, a look at progress). */
export interface StoreHooks {
  afterPut: ((key: string) => Promise<void>) | null;
  afterGet: ((key: string) => Promise<void>) | null;
}

/** Wraps the manager's store so `afterPut` / `afterGet` of the returned hooks run after each put / get. */
export function hookStore(env: BackupTestEnv): StoreHooks {
  const hooks: StoreHooks = { afterPut: null, afterGet: null };
  const real = env.deps.store;
  const hooked: ObjectStore = Object.create(real);
  hooked.put = async (c, k, body, o) => {
    await real.put(c, k, body, o);
    if (hooks.afterPut) await hooks.afterPut(k);
  };
  hooked.get = async (c, k, range) => {
    const data = await real.get(c, k, range);
    if (hooks.afterGet) await hooks.afterGet(k);
    return data;
  };
  env.manager.store = hooked;
  return hooks;
}

/** The env of the job tests: 8 MiB objects (1 GiB volumes give 128), no backup or volume quota, the store hooked. */
export async function hookedBackupTestEnv(): Promise<{ env: BackupTestEnv; hooks: StoreHooks }> {
  const env = await backupTestEnv({ BACKUP_OBJECT_SIZE: String(8 * 1024 * 1024), QUOTA_BACKUPS: '-1', QUOTA_VOLUMES: '-1' });
  return { env, hooks: hookStore(env) };
}
