import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueJob } from '../../src/jobs/kinds.js';
import { createBackupJobHandlers } from '../../src/domain/backups/worker/handlers.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { RECOVERY_TABLE, RESTART_FAIL_REASON, recoverStuckBackups } from '../../src/domain/backups/worker/recovery.js';
import { type BackupTestEnv, P1, backupTestEnv, insertBackups, jobCtx, makeSnapshot, makeVolume, runJob } from './backups-fixtures.js';

/**
 * The recovery table (reference §10.1), one test per row, plus the start-up sweep, the
 * lease-expiry path (the job runs again and resumes) and the cases where resuming is impossible.
 */

describe('backup recovery after a dead worker', { timeout: 180_000 }, () => {
  let env: BackupTestEnv;
  beforeAll(async () => {
    env = await backupTestEnv();
  });
  afterAll(async () => env.close());

  const row = (id: string) => env.t.db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const vrow = (id: string) => env.t.db.selectFrom('volumes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const container = () => env.deps.store.defaultContainer;

  it('the table covers every live backup status', () => {
    expect(Object.keys(RECOVERY_TABLE).sort()).toEqual(['available', 'creating', 'deleting', 'error', 'error_deleting', 'restoring']);
  });

  it('creating with no live job -> its backup job is queued again on the volume host, and resumes under the same prefix', async () => {
    const vol = await makeVolume(env, P1);
    await env.t.db.updateTable('volumes').set({ status: 'backing-up', previous_status: 'available' }).where('id', '=', vol).execute();
    const prefix = `volume_${vol}/20260101000000/az_nova_backup_y`;
    await env.deps.store.ensureContainer(container());
    // A stored object with no record (a PUT cut short): never trusted, written again.
    await env.deps.store.put(container(), `${prefix}-00001`, Buffer.from('half written'));
    const [id] = await insertBackups(env.t.db, [
      {
        project_id: P1,
        volume_id: vol,
        status: 'creating',
        container: container(),
        service_metadata: prefix,
        availability_zone: env.config.AVAILABILITY_ZONE,
      },
    ]);
    expect(await recoverStuckBackups(env.manager)).toEqual([{ id, action: 'resume_backup' }]);
    const job = await env.t.db.selectFrom('jobs').selectAll().where('resource_id', '=', id!).executeTakeFirstOrThrow();
    expect(job).toMatchObject({ kind: 'backup', status: 'queued', host_id: env.config.HOST_ID });
    await runJob(env, 'backup', id!, 2);
    expect(await row(id!)).toMatchObject({ status: 'available', service_metadata: prefix, fail_reason: null });
    expect((await vrow(vol)).status).toBe('available');
    await env.manager.engine.verify(env.deps.store, [{ container: container(), prefix }]);
    const stored = await env.t.db.selectFrom('backup_stored_objects').select('name').where('backup_id', '=', id!).execute();
    expect(stored).toEqual([]); // settled: nothing left to resume from
  });

  it('creating whose temporary snapshot (in-use volume) is gone after objects were stored cannot resume -> error, source back, objects removed', async () => {
    const vol = await makeVolume(env, P1);
    await env.t.db.updateTable('volumes').set({ status: 'backing-up', previous_status: 'in-use' }).where('id', '=', vol).execute();
    const prefix = `volume_${vol}/20260101000000/az_nova_backup_x`;
    await env.deps.store.ensureContainer(container());
    await env.deps.store.put(container(), `${prefix}-00001`, Buffer.from('partial'));
    const [id] = await insertBackups(env.t.db, [
      {
        project_id: P1,
        volume_id: vol,
        status: 'creating',
        availability_zone: env.config.AVAILABILITY_ZONE,
        container: container(),
        service_metadata: prefix,
        temp_snapshot_id: randomUUID(),
      },
    ]);
    await enqueueJob(env.t.db, { kind: 'backup', resourceId: id!, hostId: null });
    await runJob(env, 'backup', id!, 2);
    expect(await row(id!)).toMatchObject({ status: 'error', fail_reason: RESTART_FAIL_REASON, temp_snapshot_id: null });
    expect(await vrow(vol)).toMatchObject({ status: 'in-use', previous_status: 'error_backing-up' });
    expect(await env.deps.store.list(container(), prefix)).toEqual([]);
  });

  it('creating from a snapshot that is gone cannot resume -> error; the snapshot row goes back to available', async () => {
    const vol = await makeVolume(env, P1);
    const snap = await makeSnapshot(env, P1, vol, 'backing-up');
    await env.deps.volumes.deleteSnapshot(snap);
    const [id] = await insertBackups(env.t.db, [
      {
        project_id: P1,
        volume_id: vol,
        status: 'creating',
        snapshot_id: snap,
        container: container(),
        service_metadata: `volume_${vol}/x/y`,
        availability_zone: env.config.AVAILABILITY_ZONE,
      },
    ]);
    await enqueueJob(env.t.db, { kind: 'backup', resourceId: id!, hostId: null });
    await runJob(env, 'backup', id!, 2);
    expect(await row(id!)).toMatchObject({ status: 'error', fail_reason: RESTART_FAIL_REASON });
    expect((await env.t.db.selectFrom('snapshots').select('status').where('id', '=', snap).executeTakeFirstOrThrow()).status).toBe(
      'available',
    );
  });

  it('restoring -> backup available, target volume error_restoring', async () => {
    const vol = await makeVolume(env, P1, { status: 'restoring-backup' });
    const [id] = await insertBackups(env.t.db, [{ project_id: P1, status: 'restoring', restore_volume_id: vol }]);
    expect(await recoverStuckBackups(env.manager)).toEqual([{ id, action: 'release_restore' }]);
    expect((await row(id!)).status).toBe('available');
    expect((await vrow(vol)).status).toBe('error_restoring');
  });

  it('restoring into a volume being created from the backup -> that volume goes to error', async () => {
    const vol = await makeVolume(env, P1, { status: 'creating' });
    const [id] = await insertBackups(env.t.db, [{ project_id: P1, status: 'restoring', restore_volume_id: vol }]);
    await recoverStuckBackups(env.manager);
    expect((await vrow(vol)).status).toBe('error');
  });

  it('deleting -> the delete is queued again (and then completes)', async () => {
    const [id] = await insertBackups(env.t.db, [{ project_id: P1, status: 'deleting' }]);
    expect(await recoverStuckBackups(env.manager)).toEqual([{ id, action: 'resume_delete' }]);
    await runJob(env, 'delete_backup', id!);
    expect(await row(id!)).toMatchObject({ status: 'deleted', deleted: true });
  });

  it('deleting an encrypted backup -> error_deleting (no key context at restart)', async () => {
    const [id] = await insertBackups(env.t.db, [{ project_id: P1, status: 'deleting', encryption_key_id: randomUUID() }]);
    await recoverStuckBackups(env.manager);
    expect((await row(id!)).status).toBe('error_deleting');
  });

  it('error with a temporary snapshot -> the snapshot is removed and the id cleared', async () => {
    const vol = await makeVolume(env, P1);
    const temp = randomUUID();
    await env.deps.volumes.createSnapshot(temp, vol);
    const [id] = await insertBackups(env.t.db, [{ project_id: P1, volume_id: vol, status: 'error', temp_snapshot_id: temp }]);
    expect(await recoverStuckBackups(env.manager)).toEqual([{ id, action: 'clean_temporaries' }]);
    expect((await row(id!)).temp_snapshot_id).toBeNull();
    expect(existsSync(env.deps.volumes.snapshotPath(temp))).toBe(false);
  });

  it('available and error_deleting are left alone; busy backups with a live job are not touched by the sweep', async () => {
    const [a, e, busy] = await insertBackups(env.t.db, [
      { project_id: P1, status: 'available' },
      { project_id: P1, status: 'error_deleting' },
      { project_id: P1, status: 'creating' },
    ]);
    await enqueueJob(env.t.db, { kind: 'backup', resourceId: busy!, hostId: null });
    expect(await recoverStuckBackups(env.manager)).toEqual([]);
    expect((await row(a!)).status).toBe('available');
    expect((await row(e!)).status).toBe('error_deleting');
    expect((await row(busy!)).status).toBe('creating');
  });

  it('a backup job interrupted (lease lost) and claimed again resumes: objects recorded as stored are not uploaded again', async () => {
    const vol = await makeVolume(env, P1);
    await writeFile(env.deps.volumes.volumePath(vol), randomBytes(40 * 1024 * 1024), { flag: 'r+' });
    await env.t.db.updateTable('volumes').set({ status: 'backing-up', previous_status: 'available' }).where('id', '=', vol).execute();
    const [id] = await insertBackups(env.t.db, [
      { project_id: P1, volume_id: vol, status: 'creating', availability_zone: env.config.AVAILABILITY_ZONE },
    ]);
    await enqueueJob(env.t.db, { kind: 'backup', resourceId: id!, hostId: null });
    const job = await env.t.db.selectFrom('jobs').selectAll().where('resource_id', '=', id!).executeTakeFirstOrThrow();
    // Attempt 1 loses its lease after its 3rd object: it stops and leaves the row creating.
    const lost = new AbortController();
    let puts = 0;
    const realPut = env.manager.store.put.bind(env.manager.store);
    const store = Object.create(env.manager.store) as ObjectStore;
    store.put = async (c, k, b, o) => {
      await realPut(c, k, b, o);
      if (/-\d{5}$/.test(k) && ++puts === 3) lost.abort(new Error('lease lost'));
    };
    const handlers = createBackupJobHandlers({ ...env.manager, store });
    await expect(handlers.backup!({ ...job, attempts: 1 }, { ...jobCtx(), signal: lost.signal })).rejects.toThrow();
    expect((await row(id!)).status).toBe('creating');
    const recorded = await env.t.db.selectFrom('backup_stored_objects').select('name').where('backup_id', '=', id!).execute();
    expect(recorded.length).toBeGreaterThanOrEqual(3);
    // Attempt 2 (another worker): same prefix, the recorded objects kept.
    const before = puts;
    await handlers.backup!({ ...job, attempts: 2 }, jobCtx());
    const b = await row(id!);
    expect(b.status).toBe('available');
    expect(b.object_count).toBe(32);
    expect(puts - before).toBe(b.object_count - recorded.length);
    await env.manager.engine.verify(env.deps.store, [{ container: b.container!, prefix: b.service_metadata! }]);
    expect((await vrow(vol)).status).toBe('available');
  });
});
