import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  type BackupTestEnv,
  P1,
  makeSnapshot,
  makeVolume,
  runJob,
  type StoreHooks,
  hookedBackupTestEnv,
} from './backups-fixtures.js';

/** The manager's job handlers, called directly on real Postgres and the posix store. */

// Each test backs up or copies 1 GiB volumes: minutes on a loaded 2-core machine.
describe('backup manager jobs', { timeout: 240_000 }, () => {
  let env: BackupTestEnv;
  let hooks: StoreHooks;
  beforeAll(async () => {
    // The store lets a test act between two object writes (a concurrent admin action).
    ({ env, hooks } = await hookedBackupTestEnv());
  });
  afterAll(async () => env.close());

  const backupRow = (id: string) => env.t.db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const volumeRow = (id: string) => env.t.db.selectFrom('volumes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const scribble = async (vol: string) => {
    const fh = await open(env.deps.volumes.volumePath(vol), 'r+');
    await fh.write(randomBytes(3 * 1024 * 1024), 0, undefined, 0);
    await fh.close();
  };
  const create = async (backup: Record<string, unknown>) => {
    const r = await env.call('POST', '/backups', P1, { backup });
    expect(r.status).toBe(202);
    return r.json.backup.id as string;
  };

  it('a backup from a snapshot reads the snapshot and gives the snapshot back as available', async () => {
    const vol = await makeVolume(env, P1);
    await scribble(vol);
    const snap = await makeSnapshot(env, P1, vol);
    const id = await create({ volume_id: vol, snapshot_id: snap });
    await runJob(env, 'backup', id);
    const b = await backupRow(id);
    expect(b).toMatchObject({ status: 'available', snapshot_id: snap, service: env.deps.store.serviceName });
    expect(b.object_count).toBeGreaterThan(0);
    expect((await env.t.db.selectFrom('snapshots').select('status').where('id', '=', snap).executeTakeFirstOrThrow()).status).toBe(
      'available',
    );
  });

  it('a forced backup of an in-use volume goes through a temporary snapshot that is removed afterwards', async () => {
    const vol = await makeVolume(env, P1, { status: 'in-use' });
    await scribble(vol);
    const id = await create({ volume_id: vol, force: true });
    let tempSeen: string | null = null;
    hooks.afterPut = async () => {
      tempSeen ??= (await backupRow(id)).temp_snapshot_id;
    };
    await runJob(env, 'backup', id);
    hooks.afterPut = null;
    const b = await backupRow(id);
    expect(b.status).toBe('available');
    expect(tempSeen).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.temp_snapshot_id).toBeNull();
    expect(existsSync(env.deps.volumes.snapshotPath(tempSeen!))).toBe(false);
    expect(await volumeRow(vol)).toMatchObject({ status: 'in-use', previous_status: 'backing-up' });
  });

  it('force delete during a running backup stops it, removes what it wrote and soft-deletes the row', async () => {
    const vol = await makeVolume(env, P1);
    await scribble(vol);
    const id = await create({ volume_id: vol });
    hooks.afterPut = async () => {
      hooks.afterPut = null;
      expect((await env.call('POST', `/backups/${id}/action`, ADMIN, { 'os-force_delete': {} })).status).toBe(202);
    };
    await runJob(env, 'backup', id);
    const b = await backupRow(id);
    expect(b).toMatchObject({ status: 'deleted', deleted: true });
    expect(await env.deps.store.list(b.container!, b.service_metadata!)).toEqual([]);
    expect((await volumeRow(vol)).status).toBe('available');
  });

  it('reset to error during a running backup stops it: the reset is not overwritten (quirk 6 fixed)', async () => {
    const vol = await makeVolume(env, P1);
    await scribble(vol);
    const id = await create({ volume_id: vol });
    hooks.afterPut = async () => {
      hooks.afterPut = null;
      await env.call('POST', `/backups/${id}/action`, ADMIN, { 'os-reset_status': { status: 'error' } });
    };
    await runJob(env, 'backup', id);
    const b = await backupRow(id);
    expect(b.status).toBe('error');
    expect(await env.deps.store.list(b.container!, b.service_metadata!)).toEqual([]);
    expect((await volumeRow(vol)).status).toBe('available');
  });

  it('a backup asking for an availability zone without a backup service fails like Cinder, the volume gets its status back', async () => {
    const vol = await makeVolume(env, P1);
    const r = await env.call('POST', '/backups', P1, { backup: { volume_id: vol, availability_zone: 'elsewhere' } }, '3.51');
    await runJob(env, 'backup', r.json.backup.id);
    expect(await backupRow(r.json.backup.id)).toMatchObject({ status: 'error', fail_reason: 'Service not found for creating backup.' });
    expect(await volumeRow(vol)).toMatchObject({ status: 'available', previous_status: 'error_backing-up' });
  });

  it('verify records ok; after one object is corrupted it records mismatch and a fail_reason, visible through progress', async () => {
    const vol = await makeVolume(env, P1);
    await scribble(vol);
    const id = await create({ volume_id: vol });
    await runJob(env, 'backup', id);
    expect((await env.call('POST', `/backups/${id}/action`, P1, { 'os-verify': {} })).status).toBe(202);
    await runJob(env, 'verify', id);
    let p = (await env.call('GET', `/backups/${id}/progress`, P1)).json.progress;
    expect(p).toMatchObject({ operation: 'verify', verify_result: 'ok', fail_reason: null, percent: 100 });
    expect(p.verified_at).not.toBeNull();
    const b = await backupRow(id);
    const key = `${b.service_metadata}-00001`;
    const data = await env.deps.store.get(b.container!, key);
    const mid = data.length >> 1;
    data[mid] = data[mid]! ^ 0xff;
    await env.deps.store.put(b.container!, key, data);
    await env.call('POST', `/backups/${id}/action`, P1, { 'os-verify': null });
    await runJob(env, 'verify', id);
    p = (await env.call('GET', `/backups/${id}/progress`, P1)).json.progress;
    expect(p.verify_result).toBe('mismatch');
    expect(p.fail_reason).toBeTruthy();
    expect(p.status).toBe('available');

    // A restore of the corrupted backup fails: target error_restoring, backup available with the reason.
    const target = await makeVolume(env, P1);
    await env.call('POST', `/backups/${id}/restore`, P1, { restore: { volume_id: target } });
    await runJob(env, 'restore', id);
    expect((await volumeRow(target)).status).toBe('error_restoring');
    const after = await backupRow(id);
    expect(after.status).toBe('available');
    expect(after.fail_reason).toBeTruthy();
  });

  it('deleting an incremental decrements the parent counter; the delete job removes every object', async () => {
    const vol = await makeVolume(env, P1);
    await scribble(vol);
    const full = await create({ volume_id: vol });
    await runJob(env, 'backup', full);
    const inc = await create({ volume_id: vol, incremental: true });
    await runJob(env, 'backup', inc);
    expect((await backupRow(full)).num_dependent_backups).toBe(1);
    const incRow = await backupRow(inc);
    expect((await env.call('DELETE', `/backups/${inc}`, P1)).status).toBe(202);
    await runJob(env, 'delete_backup', inc);
    expect((await backupRow(inc)).deleted).toBe(true);
    expect((await backupRow(full)).num_dependent_backups).toBe(0);
    expect(await env.deps.store.list(incRow.container!, incRow.service_metadata!)).toEqual([]);
  });

  it('reset of a restoring backup cancels the restore at the next object: the volume ends in error, the reset stands', async () => {
    const vol = await makeVolume(env, P1);
    await scribble(vol);
    const id = await create({ volume_id: vol });
    await runJob(env, 'backup', id);
    const target = await makeVolume(env, P1);
    expect((await env.call('POST', `/backups/${id}/restore`, P1, { restore: { volume_id: target } })).status).toBe(202);
    hooks.afterGet = async () => {
      hooks.afterGet = null;
      await env.call('POST', `/backups/${id}/action`, ADMIN, { 'os-reset_status': { status: 'error' } });
    };
    await runJob(env, 'restore', id);
    hooks.afterGet = null;
    expect((await volumeRow(target)).status).toBe('error');
    expect((await backupRow(id)).status).toBe('error');
  });

  it('a volume created from a backup (3.47) is filled by the restore job and becomes available with the same bytes', async () => {
    const vol = await makeVolume(env, P1);
    await scribble(vol);
    const id = await create({ volume_id: vol });
    await runJob(env, 'backup', id);
    const r = await env.call('POST', '/volumes', P1, { volume: { size: null, backup_id: id, name: 'from-backup' } }, '3.47');
    expect(r.status).toBe(202);
    const newVol = r.json.volume.id as string;
    expect((await volumeRow(newVol)).status).toBe('creating');
    await runJob(env, 'restore', id);
    const row = await volumeRow(newVol);
    expect(row).toMatchObject({ status: 'available', size: 1, display_name: 'from-backup', backup_id: id });
    expect(row.launched_at).not.toBeNull();
    expect((await backupRow(id)).status).toBe('available');
    const [src, dst] = await Promise.all([readFile(env.deps.volumes.volumePath(vol)), readFile(env.deps.volumes.volumePath(newVol))]);
    expect(dst.length).toBe(src.length);
    expect(dst.equals(src)).toBe(true);
  });

  it('an incremental after the volume grew fails like Cinder: error, "Volume size increased since the last backup"', async () => {
    const vol = await makeVolume(env, P1);
    await scribble(vol);
    const full = await create({ volume_id: vol });
    await runJob(env, 'backup', full);
    await env.deps.volumes.extendVolume(vol, 2 * 1024 ** 3);
    await env.t.db.updateTable('volumes').set({ size: 2 }).where('id', '=', vol).execute();
    const inc = await create({ volume_id: vol, incremental: true });
    await runJob(env, 'backup', inc);
    expect(await backupRow(inc)).toMatchObject({
      status: 'error',
      fail_reason: 'Volume size increased since the last backup. Do a full backup.',
    });
    expect(await volumeRow(vol)).toMatchObject({ status: 'available', previous_status: 'error_backing-up' });
    expect((await backupRow(full)).num_dependent_backups).toBe(0);
  });
});
