import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCbrAwareBackupJobHandlers } from '../../src/domain/cbr/worker/job-hooks.js';
import { type JobWorker, startJobWorker } from '../../src/jobs/worker.js';
import { type CbrTestEnv, P1, cbrTestEnv } from './cbr-fixtures.js';
import { smallVolume } from './cbr-scheduler-fixtures.js';
import { until } from '../helpers/until.js';

/**
 * The `remove_resource` and `vault_delete` operation logs settle when their delete jobs finish
 * (waiting -> running -> success | failed), observed through the operation-logs API only: these
 * tests never read the vault (a read would also settle them).
 */

let env: CbrTestEnv;
let worker: JobWorker | null = null;
const billing = { object_type: 'disk', protect_type: 'backup', consistent_level: 'crash_consistent', size: 40 };

function startWorker(): void {
  worker = startJobWorker({
    db: env.t.db,
    owner: `test:${randomUUID()}`,
    hostId: env.config.HOST_ID,
    handlers: createCbrAwareBackupJobHandlers(env.manager),
    maxConcurrent: 2,
    leaseSeconds: 30,
    pollMs: 50,
    logger: pino({ level: 'silent' }),
    shutdownGraceMs: 2000,
  });
}

async function stopWorker(): Promise<void> {
  await worker?.stop();
  worker = null;
}

/** A vault holding `volumes`, with two checkpoints' backups of each (a full and an incremental). */
async function vaultWithBackups(name: string, volumes: string[]): Promise<{ vaultId: string; backups: string[] }> {
  const vault = await env.api('POST', '/vaults', {
    body: { vault: { name, billing, resources: volumes.map((id) => ({ id, type: 'OS::Cinder::Volume' })) } },
  });
  expect(vault.status).toBe(200);
  const vaultId = vault.json.vault.id as string;
  for (let i = 0; i < 2; i++) {
    const cp = await env.api('POST', '/checkpoints', { body: { checkpoint: { vault_id: vaultId } } });
    expect(cp.status).toBe(200);
    await until('checkpoint available', async () => {
      const r = await env.api('GET', `/checkpoints/${cp.json.checkpoint.id}`);
      return r.json.checkpoint.status === 'available' ? true : undefined;
    });
  }
  const rows = await env.t.db.selectFrom('backups').select('id').where('vault_id', '=', vaultId).execute();
  return { vaultId, backups: rows.map((r) => r.id) };
}

async function logOf(vaultId: string, type: string): Promise<any> {
  const r = await env.api('GET', `/operation-logs?vault_id=${vaultId}&operation_type=${type}`);
  expect(r.status).toBe(200);
  expect(r.json.count).toBe(1);
  return r.json.operation_logs[0];
}

const settled = (vaultId: string, type: string) =>
  until(`${type} log settled`, async () => {
    const log = await logOf(vaultId, type);
    return ['success', 'failed'].includes(log.status) ? log : undefined;
  });

beforeAll(async () => {
  env = await cbrTestEnv({}, false);
});
afterEach(stopWorker);
afterAll(async () => env?.close());

describe('remove_resource and vault_delete logs follow their delete jobs', { timeout: 180_000 }, () => {
  it('remove_resource: waiting while no job ran, success when the last backup delete finishes', async () => {
    startWorker();
    const [a, b] = [await smallVolume(env, P1), await smallVolume(env, P1)];
    const { vaultId } = await vaultWithBackups('rm-logs', [a!, b!]);
    await stopWorker();
    const rm = await env.api('POST', `/vaults/${vaultId}/removeresources`, { body: { resource_ids: [a] } });
    expect(rm.status).toBe(200);
    const waiting = await logOf(vaultId, 'remove_resource');
    expect(waiting).toMatchObject({ status: 'waiting', ended_at: null, extra_info: { resource: { id: a } } });
    expect(waiting.extra_info.remove_resources).toMatchObject({ total_count: 2, fail_count: 0 });

    startWorker();
    const done = await settled(vaultId, 'remove_resource');
    expect(done).toMatchObject({ status: 'success', error_info: { code: '', message: '' } });
    expect(done.ended_at).toEqual(expect.any(String));
    const rows = await env.t.db.selectFrom('backups').select(['volume_id', 'deleted']).where('vault_id', '=', vaultId).execute();
    expect(rows.filter((r) => r.volume_id === a).map((r) => r.deleted)).toEqual([true, true]);
    expect(rows.filter((r) => r.volume_id === b).map((r) => r.deleted)).toEqual([false, false]);
  });

  it('vault_delete: success and the vault removed when the last delete job finishes, without a read of the vault', async () => {
    startWorker();
    const { vaultId, backups } = await vaultWithBackups('del-logs', [await smallVolume(env, P1)]);
    await stopWorker();
    expect((await env.api('DELETE', `/vaults/${vaultId}`)).status).toBe(204);
    expect(await logOf(vaultId, 'vault_delete')).toMatchObject({ status: 'waiting', extra_info: { vault_delete: { total_count: 2 } } });

    startWorker();
    const done = await settled(vaultId, 'vault_delete');
    expect(done).toMatchObject({ status: 'success', extra_info: { vault_delete: { total_count: 2, fail_count: 0 } } });
    const vault = await env.t.db.selectFrom('cbr_vaults').select(['deleted', 'status']).where('id', '=', vaultId).executeTakeFirstOrThrow();
    expect(vault).toEqual({ deleted: true, status: 'deleted' });
    const rows = await env.t.db.selectFrom('backups').select('deleted').where('id', 'in', backups).execute();
    expect(rows.every((r) => r.deleted)).toBe(true);
    expect((await env.api('GET', `/vaults/${vaultId}`)).status).toBe(404);
  });

  it('an empty vault is gone at once, its vault_delete log already a success', async () => {
    const vault = await env.api('POST', '/vaults', { body: { vault: { name: 'empty-del', billing, resources: [] } } });
    const vaultId = vault.json.vault.id as string;
    expect((await env.api('DELETE', `/vaults/${vaultId}`)).status).toBe(204);
    expect(await logOf(vaultId, 'vault_delete')).toMatchObject({ status: 'success', extra_info: { vault_delete: { total_count: 0 } } });
    const row = await env.t.db.selectFrom('cbr_vaults').select('deleted').where('id', '=', vaultId).executeTakeFirstOrThrow();
    expect(row.deleted).toBe(true);
  });

  it('a remove_resource whose backups fail to delete ends failed with error_info and fail_count', async () => {
    startWorker();
    const a = await smallVolume(env, P1);
    const { vaultId } = await vaultWithBackups('rm-fail', [a]);
    const store = env.deps.store as { deleteMany: (...args: unknown[]) => Promise<void> };
    const deleteMany = store.deleteMany;
    store.deleteMany = async () => {
      throw new Error('store refused the delete');
    };
    try {
      expect((await env.api('POST', `/vaults/${vaultId}/removeresources`, { body: { resource_ids: [a] } })).status).toBe(200);
      const done = await settled(vaultId, 'remove_resource');
      expect(done).toMatchObject({
        status: 'failed',
        error_info: { code: 'BackupService.6201', message: expect.stringContaining('2 backup(s) could not be deleted') },
        extra_info: { remove_resources: { total_count: 2, fail_count: 2 } },
      });
    } finally {
      store.deleteMany = deleteMany;
    }
  });
});
