import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueJob } from '../../src/jobs/kinds.js';
import { RECOVERY_TABLE, RESTART_FAIL_REASON, recoverStuckBackups } from '../../src/domain/backups/worker/recovery.js';
import { type BackupTestEnv, P1, backupTestEnv, insertBackups, makeSnapshot, makeVolume, runJob } from './backups-fixtures.js';

/** The recovery table (reference §10.1), one test per row, plus the start-up sweep and the lease-expiry path. */

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

  it('creating -> error with fail_reason; volume back to its previous status; partial objects and temporary snapshot removed', async () => {
    const vol = await makeVolume(env, P1);
    await env.t.db.updateTable('volumes').set({ status: 'backing-up', previous_status: 'in-use' }).where('id', '=', vol).execute();
    const temp = randomUUID();
    await env.deps.volumes.createSnapshot(temp, vol);
    const prefix = `volume_${vol}/20260101000000/az_nova_backup_x`;
    await env.deps.store.ensureContainer(container());
    await env.deps.store.put(container(), `${prefix}-00001`, Buffer.from('partial'));
    const [id] = await insertBackups(env.t.db, [
      { project_id: P1, volume_id: vol, status: 'creating', container: container(), service_metadata: prefix, temp_snapshot_id: temp },
    ]);
    expect(await recoverStuckBackups(env.manager)).toEqual([{ id, action: 'fail_backup' }]);
    expect(await row(id!)).toMatchObject({ status: 'error', fail_reason: RESTART_FAIL_REASON, temp_snapshot_id: null });
    expect(await vrow(vol)).toMatchObject({ status: 'in-use', previous_status: 'error_backing-up' });
    expect(await env.deps.store.list(container(), prefix)).toEqual([]);
    expect(existsSync(env.deps.volumes.snapshotPath(temp))).toBe(false);
  });

  it('creating from a snapshot -> the snapshot goes back to available', async () => {
    const vol = await makeVolume(env, P1);
    const snap = await makeSnapshot(env, P1, vol, 'backing-up');
    const [id] = await insertBackups(env.t.db, [{ project_id: P1, volume_id: vol, status: 'creating', snapshot_id: snap }]);
    await recoverStuckBackups(env.manager);
    expect((await row(id!)).status).toBe('error');
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

  it('a backup job claimed again after its lease expired (attempt 2) settles the row by the table instead of re-running', async () => {
    const vol = await makeVolume(env, P1);
    await env.t.db.updateTable('volumes').set({ status: 'backing-up', previous_status: 'available' }).where('id', '=', vol).execute();
    const [id] = await insertBackups(env.t.db, [{ project_id: P1, volume_id: vol, status: 'creating' }]);
    await enqueueJob(env.t.db, { kind: 'backup', resourceId: id!, hostId: null });
    await runJob(env, 'backup', id!, 2);
    expect(await row(id!)).toMatchObject({ status: 'error', fail_reason: RESTART_FAIL_REASON });
    expect((await vrow(vol)).status).toBe('available');
  });
});
