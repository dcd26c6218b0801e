import { randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import pino from 'pino';
import { expect } from 'vitest';
import { snapshotJobHandlers } from '../../src/domain/volumes/worker/snapshot-jobs.js';
import { volumeJobHandlers } from '../../src/domain/volumes/worker/volume-jobs.js';
import { startJobWorker } from '../../src/jobs/worker.js';
import { type BackupTestEnv, P1, backupTestEnv, makeSnapshot, makeVolume } from '../integration/backups-fixtures.js';

/**
 * A small world for the API-level reliability and security suites: the real app on real
 * Postgres with a job worker, and in project P1 a volume with data, a snapshot and an
 * available backup (made through the API). ADMIN is the only admin project.
 */
export interface ApiWorld {
  env: BackupTestEnv;
  volumeId: string;
  snapshotId: string;
  backupId: string;
  /** Every id P1 owns: none may ever appear in another project's answer. */
  p1Ids: string[];
  /** Stops every job worker (then only requests change the database). */
  stopWorkers(): Promise<void>;
}

/** Writes `data` at `offset` of a file. */
export async function writeAt(path: string, offset: number, data: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(data, 0, data.length, offset);
  } finally {
    await fh.close();
  }
}

/** Creates a backup through the API and waits for `available`. */
export async function backupVia(
  env: BackupTestEnv,
  project: string,
  volumeId: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const r = await env.call('POST', '/backups', project, { backup: { volume_id: volumeId, name: 'b', ...extra } });
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  const b = await env.waitBackup(r.json.backup.id, project, (x) => x.status !== 'creating', 60_000);
  expect(b.status, b.fail_reason).toBe('available');
  return r.json.backup.id as string;
}

/** Starts the world (small objects so backups are quick). */
export async function startApiWorld(env: Record<string, string> = {}): Promise<ApiWorld> {
  const e = await backupTestEnv(
    { BACKUP_OBJECT_SIZE: String(1024 * 1024), QUOTA_BACKUPS: '-1', QUOTA_VOLUMES: '-1', QUOTA_SNAPSHOTS: '-1', ...env },
    true,
  );
  // The fixture's worker runs backup jobs only; volume and snapshot jobs get one of their own.
  const deps = { db: e.t.db, volumes: e.deps.volumes, config: e.config };
  const volumeWorker = startJobWorker({
    db: e.t.db,
    owner: `world:${randomUUID()}`,
    hostId: e.config.HOST_ID,
    handlers: { ...volumeJobHandlers(deps), ...snapshotJobHandlers(deps) },
    maxConcurrent: 2,
    leaseSeconds: 30,
    pollMs: 50,
    logger: pino({ level: 'silent' }),
    shutdownGraceMs: 2000,
  });
  const close = e.close;
  e.close = async () => {
    await volumeWorker.stop();
    await close();
  };
  const volumeId = await makeVolume(e, P1, { size: 1, name: 'p1-secret-volume' });
  await writeAt(e.deps.volumes.volumePath(volumeId), 0, Buffer.alloc(256 * 1024, 0x5a));
  await e.t.db.insertInto('volume_metadata').values({ volume_id: volumeId, key: 'p1key', value: 'p1value' }).execute();
  const snapshotId = await makeSnapshot(e, P1, volumeId);
  const backupId = await backupVia(e, P1, volumeId);
  const stopWorkers = async () => {
    await e.worker?.stop();
    await volumeWorker.stop();
  };
  return { env: e, volumeId, snapshotId, backupId, p1Ids: [volumeId, snapshotId, backupId], stopWorkers };
}

/** Row counts and the newest change of every resource table: unchanged means nothing was written. */
export async function dbFingerprint(env: BackupTestEnv): Promise<string> {
  const parts: string[] = [];
  for (const table of [
    'volumes',
    'snapshots',
    'backups',
    'volume_metadata',
    'snapshot_metadata',
    'backup_metadata',
    'jobs',
    'quotas',
  ] as const) {
    const r = await env.t.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    parts.push(`${table}:${r.n}`);
  }
  for (const table of ['volumes', 'snapshots', 'backups'] as const) {
    const rows = await env.t.db.selectFrom(table).select(['id', 'status', 'updated_at']).orderBy('id').execute();
    parts.push(JSON.stringify(rows));
  }
  const meta = await env.t.db.selectFrom('volume_metadata').selectAll().orderBy('volume_id').orderBy('key').execute();
  parts.push(JSON.stringify(meta));
  return parts.join('|');
}

/** A Cinder fault body: one top-level key whose value has a numeric code and a message. */
export function expectFaultBody(status: number, body: string, where: string): void {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error(`${where}: ${status} body is not JSON: ${body.slice(0, 200)}`);
  }
  const keys = Object.keys(json as object);
  expect(keys, `${where}: ${body.slice(0, 200)}`).toHaveLength(1);
  const inner = (json as Record<string, { code?: unknown; message?: unknown }>)[keys[0]!]!;
  expect(inner.code, `${where}: ${body.slice(0, 200)}`).toBe(status);
  expect(typeof inner.message, `${where}: ${body.slice(0, 200)}`).toBe('string');
}
