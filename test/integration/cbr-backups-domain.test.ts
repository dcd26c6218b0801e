import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupProgress } from '../../src/domain/backups/progress.js';
import { deleteCbrBackup, renameCbrBackup, restoreCbrBackup } from '../../src/domain/cbr/backups/backup-actions.js';
import { listCbrBackupsOf, showCbrBackup } from '../../src/domain/cbr/backups/list-backups.js';
import { createCheckpoint } from '../../src/domain/cbr/checkpoints/create-checkpoint.js';
import { showCheckpointById } from '../../src/domain/cbr/checkpoints/show-checkpoint.js';
import { CbrError } from '../../src/domain/cbr/errors.js';
import { listOperationLogsOf, showOperationLog } from '../../src/domain/cbr/operation-logs/operation-logs.js';
import type { RequestContext } from '../../src/domain/common/context.js';
import { type BackupTestEnv, P1, P2, backupTestEnv, makeVolume } from './backups-fixtures.js';
import { makeVault, scribble } from './cbr-scheduler-fixtures.js';

/** CBR backups (list/show/rename/delete/restore) and operation logs on the real engine and job worker. */

const ctx: RequestContext = { requestId: 'req-cbr', userId: 'u1111111', projectId: P1, roles: ['member'], isAdmin: false };
const other: RequestContext = { ...ctx, requestId: 'req-other', projectId: P2, userId: 'u2222222' };
const MiB = 1024 * 1024;

async function until<T>(what: string, f: () => Promise<T>, pred: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (pred(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const settled = (env: BackupTestEnv, id: string) =>
  until(
    `checkpoint ${id}`,
    () => showCheckpointById(env.t.db, ctx, id),
    (c) => c.status !== 'protecting' && c.vault.resources.every((r) => r.protect_status === 'available'),
  );

async function checkpointOf(env: BackupTestEnv, vaultId: string, resources?: string[]) {
  const cp = await createCheckpoint(env.deps, ctx, { vaultId, autoTrigger: false, ...(resources ? { resources } : {}) });
  await settled(env, cp.id);
  const { backups } = await listCbrBackupsOf(env.t.db, ctx, { checkpointId: cp.id, limit: 1000, offset: 0 });
  return { cp, backups };
}

async function cbrCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CbrError) return `${err.kind}:${err.code}`;
    throw err;
  }
  return 'no error';
}

describe('CBR backups and operation logs', () => {
  let env: BackupTestEnv;
  beforeAll(async () => {
    env = await backupTestEnv({}, true);
  });
  afterAll(async () => env?.close());

  it('backup operation logs go waiting -> running -> success with progress 100 and incremental as a string', async () => {
    const vol = await makeVolume(env, P1, { name: 'logged' });
    await scribble(env, vol, 0, MiB);
    const vaultId = await makeVault(env.t.db, P1, [vol]);
    const first = await checkpointOf(env, vaultId);
    const second = await checkpointOf(env, vaultId);
    const logs = await until(
      'logs',
      () => listOperationLogsOf(env.t.db, ctx, { vaultId, operationType: 'backup' }, 0, 100),
      (r) => r.logs.every((l) => l.status === 'success'),
    );
    expect(logs.count).toBe(2);
    const [newest, oldest] = logs.logs;
    expect(newest!.checkpoint_id).toBe(second.cp.id);
    expect(newest!.extra_info.backup).toEqual({
      backup_id: second.backups[0]!.id,
      backup_name: second.cp.extra_info.name,
      incremental: 'true',
    });
    expect(oldest!.extra_info.backup!.incremental).toBe('false');
    expect(newest!.extra_info.common.progress).toBe(100);
    expect(newest!.error_info).toEqual({ code: '', message: '' });
    expect(newest!.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    expect(newest!.ended_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    expect(await showOperationLog(env.t.db, ctx, newest!.id)).toEqual(newest);
    expect(await cbrCode(showOperationLog(env.t.db, other, newest!.id))).toBe('not_found:BackupService.6500');
    expect((await listOperationLogsOf(env.t.db, other, { vaultId }, 0, 100)).count).toBe(0);
    expect((await listOperationLogsOf(env.t.db, ctx, { vaultId }, 5, 100)).logs).toEqual([]);
  });

  it("a running operation log's progress is the progress extension's figure, floored", async () => {
    const vol = await makeVolume(env, P1);
    const vaultId = await makeVault(env.t.db, P1, [vol]);
    const { backups } = await checkpointOf(env, vaultId);
    const backupId = backups[0]!.id;
    const log = (await listOperationLogsOf(env.t.db, ctx, { resourceId: vol, operationType: 'backup' }, 0, 10)).logs[0]!;
    // Freeze the log mid-run and give the backup row the counters a running engine persists.
    await env.t.db.updateTable('cbr_operation_logs').set({ status: 'running' }).where('id', '=', log.id).execute();
    await env.t.db
      .updateTable('backups')
      .set({ progress_operation: 'backup', progress_bytes_done: 1234567, progress_bytes_total: 4000000 })
      .where('id', '=', backupId)
      .execute();
    const cinder = await backupProgress(env.deps, ctx, backupId);
    const cbr = await showOperationLog(env.t.db, ctx, log.id);
    expect(cinder.percent).toBe(30.8);
    expect(cbr.extra_info.common.progress).toBe(30);
    expect(cbr.status).toBe('running');
  });

  it("a running operation log's extra_info.common carries the readable figures of its own run only", async () => {
    const vol = await makeVolume(env, P1);
    const vaultId = await makeVault(env.t.db, P1, [vol]);
    const { backups } = await checkpointOf(env, vaultId);
    const backupId = backups[0]!.id;
    const log = (await listOperationLogsOf(env.t.db, ctx, { resourceId: vol, operationType: 'backup' }, 0, 10)).logs[0]!;
    const logStarted = new Date();
    await env.t.db.updateTable('cbr_operation_logs').set({ status: 'running', started_at: logStarted }).where('id', '=', log.id).execute();
    const MiB = 1024 ** 2;
    const record = (startedAt: Date) =>
      env.t.db
        .updateTable('backups')
        .set({
          status: 'creating',
          progress_operation: 'backup',
          progress_phase: 'uploading',
          progress_bytes_done: 400 * MiB,
          progress_bytes_total: 1000 * MiB,
          progress_bytes_read: 450 * MiB,
          progress_bytes_stored: 120 * MiB,
          progress_rate_bytes_per_sec: 20 * MiB,
          progress_started_at: startedAt,
        })
        .where('id', '=', backupId)
        .execute();
    await record(new Date(logStarted.getTime() + 100));
    const shown = (await showOperationLog(env.t.db, ctx, log.id)).extra_info.common;
    expect(shown).toMatchObject({
      progress: 40,
      phase: 'uploading',
      bytes_read: 450 * MiB,
      bytes_stored: 120 * MiB,
      current_mib_per_sec: 20,
      eta_seconds: 30,
    });
    // A record started long before the log (an earlier run) is not this log's.
    await record(new Date(logStarted.getTime() - 600_000));
    const other = (await showOperationLog(env.t.db, ctx, log.id)).extra_info.common;
    expect(other).not.toHaveProperty('phase');
    expect(other).not.toHaveProperty('eta_seconds');
    // Settled logs keep CBR's fields only.
    await env.t.db.updateTable('cbr_operation_logs').set({ status: 'success' }).where('id', '=', log.id).execute();
    expect(Object.keys((await showOperationLog(env.t.db, ctx, log.id)).extra_info.common).sort()).toEqual([
      'progress',
      'request_id',
      'task_id',
    ]);
  });

  it('lists with every filter, repeated status, sort, offset past the end, marker; shows, renames; isolates tenants', async () => {
    const a = await makeVolume(env, P1, { name: 'list-a' });
    const b = await makeVolume(env, P1, { name: 'list-b' });
    const vaultId = await makeVault(env.t.db, P1, [a, b]);
    const one = await checkpointOf(env, vaultId);
    const two = await checkpointOf(env, vaultId, [a]);
    const q = { vaultId, limit: 1000, offset: 0 };
    const all = await listCbrBackupsOf(env.t.db, ctx, q);
    expect(all.count).toBe(3);
    expect(all.backups.map((x) => x.checkpoint_id)).toEqual([two.cp.id, one.cp.id, one.cp.id]); // created_at desc
    const names = (r: { backups: Array<{ resource_name: string }> }) => r.backups.map((x) => x.resource_name).sort();
    expect(names(await listCbrBackupsOf(env.t.db, ctx, { ...q, resourceName: 'list-b' }))).toEqual(['list-b']);
    expect((await listCbrBackupsOf(env.t.db, ctx, { ...q, resourceId: a })).count).toBe(2);
    expect((await listCbrBackupsOf(env.t.db, ctx, { ...q, incremental: true })).backups.map((x) => x.id)).toEqual([two.backups[0]!.id]);
    expect((await listCbrBackupsOf(env.t.db, ctx, { ...q, incremental: false })).count).toBe(3);
    expect((await listCbrBackupsOf(env.t.db, ctx, { ...q, parentId: two.backups[0]!.parent_id! })).count).toBe(1);
    expect((await listCbrBackupsOf(env.t.db, ctx, { ...q, status: ['available', 'error'] })).count).toBe(3);
    expect((await listCbrBackupsOf(env.t.db, ctx, { ...q, status: ['error'] })).count).toBe(0);
    expect((await listCbrBackupsOf(env.t.db, ctx, { ...q, resourceType: 'OS::Nova::Server' })).count).toBe(0);
    expect((await listCbrBackupsOf(env.t.db, ctx, { ...q, imageType: 'replication' })).count).toBe(0);
    expect((await listCbrBackupsOf(env.t.db, ctx, { ...q, resourceAz: env.config.AVAILABILITY_ZONE })).count).toBe(3);
    expect((await listCbrBackupsOf(env.t.db, ctx, { ...q, startTime: new Date(Date.now() + 60_000) })).count).toBe(0);
    expect((await listCbrBackupsOf(env.t.db, ctx, { ...q, endTime: new Date(Date.now() + 60_000) })).count).toBe(3);
    const asc = await listCbrBackupsOf(env.t.db, ctx, { ...q, sort: 'created_at:asc' });
    expect(asc.backups.map((x) => x.id)).toEqual([...all.backups.map((x) => x.id)].reverse());
    const byName = await listCbrBackupsOf(env.t.db, ctx, { ...q, sort: 'name:asc,created_at:desc' });
    expect(byName.backups[0]!.name).toBe([one.cp.extra_info.name, two.cp.extra_info.name].sort()[0]);
    expect(await cbrCode(listCbrBackupsOf(env.t.db, ctx, { ...q, sort: 'size' }))).toBe('invalid:BackupService.9900');
    expect(await cbrCode(listCbrBackupsOf(env.t.db, ctx, { ...q, status: ['bogus'] }))).toBe('invalid:BackupService.9900');
    const past = await listCbrBackupsOf(env.t.db, ctx, { ...q, offset: 3 });
    expect(past).toEqual({ backups: [], count: 3 });
    const page1 = await listCbrBackupsOf(env.t.db, ctx, { ...q, limit: 2 });
    const page2 = await listCbrBackupsOf(env.t.db, ctx, { ...q, limit: 2, marker: page1.backups[1]!.id });
    expect([...page1.backups, ...page2.backups].map((x) => x.id)).toEqual(all.backups.map((x) => x.id));
    expect((await listCbrBackupsOf(env.t.db, ctx, { ...q, limit: 2, offset: 2 })).backups).toEqual(page2.backups);

    const shown = await showCbrBackup(env.t.db, ctx, two.backups[0]!.id);
    expect(shown).toMatchObject({ resource_id: a, resource_size: 1, status: 'available', incremental: true, vault_id: vaultId });
    expect(shown.extend_info).toMatchObject({ auto_trigger: false, progress: 100 });
    expect((await renameCbrBackup(env.t.db, ctx, shown.id, 'renamed_1')).name).toBe('renamed_1');

    expect((await listCbrBackupsOf(env.t.db, other, q)).count).toBe(0);
    expect(await cbrCode(showCbrBackup(env.t.db, other, shown.id))).toBe('not_found:BackupService.3001');
    expect(await cbrCode(renameCbrBackup(env.t.db, other, shown.id, 'x'))).toBe('not_found:BackupService.3001');
    expect(await cbrCode(deleteCbrBackup(env.deps, other, shown.id))).toBe('not_found:BackupService.3001');
    expect(await cbrCode(restoreCbrBackup(env.deps, other, shown.id, { volumeId: a }))).toBe('not_found:BackupService.3001');
    expect(await cbrCode(listCbrBackupsOf(env.t.db, other, { ...q, marker: shown.id }))).toBe('invalid:BackupService.9900');
  });

  it('restores into an existing volume byte for byte, with a restore log polled to success; refusals use CBR codes', async () => {
    const vol = await makeVolume(env, P1, { name: 'src' });
    await scribble(env, vol, 3 * MiB, 2 * MiB);
    const vaultId = await makeVault(env.t.db, P1, [vol]);
    const { backups } = await checkpointOf(env, vaultId);
    const expected = await readFile(env.deps.volumes.volumePath(vol));
    await scribble(env, vol, 0, 4 * MiB);
    const small = await makeVolume(env, P1, { size: 1, name: 'ok-size' });
    const busy = await makeVolume(env, P1, { status: 'backing-up' });
    const foreign = await makeVolume(env, P2);
    const id = backups[0]!.id;
    expect(await cbrCode(restoreCbrBackup(env.deps, ctx, id, {}))).toBe('invalid:BackupService.9900');
    expect(await cbrCode(restoreCbrBackup(env.deps, ctx, id, { volumeId: foreign }))).toBe('invalid:BackupService.9900');
    expect(await cbrCode(restoreCbrBackup(env.deps, ctx, id, { volumeId: busy }))).toBe('invalid:BackupService.2002');

    const { jobId } = await restoreCbrBackup(env.deps, ctx, id, { resourceId: vol });
    expect(await cbrCode(restoreCbrBackup(env.deps, ctx, id, { volumeId: small }))).toBe('invalid:BackupService.2005');
    const log = await until(
      'restore log',
      () => showOperationLog(env.t.db, ctx, jobId),
      (l) => l.status === 'success' || l.status === 'failed',
    );
    expect(log).toMatchObject({
      operation_type: 'restore',
      status: 'success',
      vault_id: vaultId,
      checkpoint_id: backups[0]!.checkpoint_id,
    });
    expect(log.extra_info.restore).toEqual({
      backup_id: id,
      backup_name: backups[0]!.name,
      target_resource_id: vol,
      target_resource_name: 'src',
    });
    expect(log.extra_info.common.progress).toBe(100);
    expect((await readFile(env.deps.volumes.volumePath(vol))).equals(expected)).toBe(true);
    expect(await cbrCode(showOperationLog(env.t.db, other, jobId))).toBe('not_found:BackupService.6500');
  });

  it('deleting a mid-chain incremental answers at once and keeps the later one restorable; its data goes with the last dependent', async () => {
    const vol = await makeVolume(env, P1, { name: 'chain' });
    const vaultId = await makeVault(env.t.db, P1, [vol]);
    await scribble(env, vol, 0, MiB);
    const full = (await checkpointOf(env, vaultId)).backups[0]!;
    await scribble(env, vol, MiB, MiB);
    const mid = (await checkpointOf(env, vaultId)).backups[0]!;
    await scribble(env, vol, 2 * MiB, MiB);
    const last = (await checkpointOf(env, vaultId)).backups[0]!;
    const expected = await readFile(env.deps.volumes.volumePath(vol));
    expect([mid.parent_id, last.parent_id]).toEqual([full.id, mid.id]);

    await deleteCbrBackup(env.deps, ctx, mid.id);
    expect(await cbrCode(showCbrBackup(env.t.db, ctx, mid.id))).toBe('not_found:BackupService.3001');
    expect(await cbrCode(showCheckpointById(env.t.db, ctx, mid.checkpoint_id))).toBe('not_found:BackupService.6213');
    const del = (await listOperationLogsOf(env.t.db, ctx, { resourceId: vol, operationType: 'delete' }, 0, 10)).logs;
    expect(del.map((l) => [l.status, l.extra_info.delete])).toEqual([['success', { backup_id: mid.id, backup_name: mid.name }]]);

    const target = await makeVolume(env, P1, { name: 'target' });
    const { jobId } = await restoreCbrBackup(env.deps, ctx, last.id, { volumeId: target });
    await until(
      'restore',
      () => showOperationLog(env.t.db, ctx, jobId),
      (l) => l.status === 'success',
    );
    expect((await readFile(env.deps.volumes.volumePath(target))).equals(expected)).toBe(true);

    await deleteCbrBackup(env.deps, ctx, last.id);
    const row = (id: string) => env.t.db.selectFrom('backups').select(['status', 'deleted']).where('id', '=', id).executeTakeFirstOrThrow();
    await until(
      'held parent released',
      () => row(mid.id),
      (r) => r.deleted,
    );
    expect(await row(last.id)).toEqual({ status: 'deleted', deleted: true });
    expect(await row(full.id)).toEqual({ status: 'available', deleted: false });
    const logs = await until(
      'delete logs',
      () => listOperationLogsOf(env.t.db, ctx, { resourceId: vol, operationType: 'delete' }, 0, 10),
      (r) => r.logs.every((l) => l.status === 'success'),
    );
    expect(logs.count).toBe(2);
    expect(await cbrCode(deleteCbrBackup(env.deps, ctx, last.id))).toBe('not_found:BackupService.3001');
  });
});
