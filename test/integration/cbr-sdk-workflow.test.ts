import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type SdkCallResult, sdkCall } from '../helpers/cbr-sdk.js';
import { type CbrTestEnv, KEY1, KEY2, P1, cbrTestEnv, makeVolume } from './cbr-fixtures.js';
import { scribble } from './cbr-scheduler-fixtures.js';

/**
 * The vault, checkpoint, backup, policy and operation-log surface driven by the unmodified Huawei Cloud
 * Python SDK (CbrClient, BasicCredentials, with_endpoints) over real HTTP, waiting by polling as its
 * users do; the restored volume is compared with the original byte for byte, all of it, read through the Cinder data
 * extension in ranges. Posix and moto S3.
 */

const stores: Array<[string, () => Record<string, string> | null]> = [
  ['posix', () => ({})],
  [
    's3 (moto)',
    () => {
      const ep = inject('motoEndpoint');
      return ep
        ? { BACKUP_STORE: 's3', S3_ENDPOINT: ep, S3_ACCESS_KEY_ID: 'test', S3_SECRET_ACCESS_KEY: 'test', S3_BUCKET: `sdk${Date.now()}` }
        : null;
    },
  ],
];

const body = (r: SdkCallResult) => JSON.parse(r.raw ?? 'null');

const MiB = 1024 * 1024;
const RANGE = 64 * MiB;
const ZERO = Buffer.alloc(RANGE);

/**
 * A volume's whole content read through GET /v3/{p}/volumes/{id}/data in 64 MiB ranges, until the
 * size Content-Range announces; a range of zeros is kept as its length only (bounded memory).
 */
async function readVolume(env: CbrTestEnv, id: string): Promise<{ total: number; ranges: Array<Buffer | number> }> {
  const ranges: Array<Buffer | number> = [];
  let total = Number.POSITIVE_INFINITY;
  for (let at = 0; at < total; at += RANGE) {
    const res = await env.app.inject({
      method: 'GET',
      url: `/v3/${P1}/volumes/${id}/data`,
      headers: { 'x-auth-token': `u:${P1}`, range: `bytes=${at}-${at + RANGE - 1}` },
    });
    expect(res.statusCode).toBe(206);
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers['content-range']));
    expect(m).not.toBeNull();
    total = Number(m![3]);
    const buf = Buffer.from(res.rawPayload);
    expect([Number(m![1]), buf.length]).toEqual([at, Number(m![2]) - at + 1]);
    ranges.push(buf.equals(ZERO.subarray(0, buf.length)) ? buf.length : buf);
  }
  return { total, ranges };
}

/** Byte-for-byte equality of two ranges as readVolume keeps them. */
function sameRange(a: Buffer | number, b: Buffer | number): boolean {
  if (typeof a === 'number' || typeof b === 'number') return a === b;
  return a.equals(b);
}

describe.each(stores)('the Huawei Cloud SDK workflow on %s', (_label, envFor) => {
  const storeEnv = envFor();
  let env: CbrTestEnv;
  let endpoint = '';
  beforeAll(async () => {
    if (!storeEnv) return;
    env = await cbrTestEnv(storeEnv, true);
    await env.cbr.listen({ host: '127.0.0.1', port: 0 });
    const addr = env.cbr.server.address();
    endpoint = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(async () => env?.close());

  const call = (method: string, request: Record<string, unknown>, key: typeof KEY1 | typeof KEY2 = KEY1) =>
    sdkCall(endpoint, key, method, request);
  async function until(method: string, request: Record<string, unknown>, pred: (r: SdkCallResult) => boolean): Promise<SdkCallResult> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const r = await call(method, request);
      if (pred(r)) return r;
      if (Date.now() > deadline) throw new Error(`${method}: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 500));
    }
  }

  it.skipIf(!storeEnv)(
    'policy, vault with a volume and the policy, checkpoint, backups, restore, operation logs, deletes',
    async () => {
      const pattern = 'FREQ=WEEKLY;BYDAY=MO,TU;BYHOUR=02;BYMINUTE=00';
      const policy = await call('create_policy', {
        __model__: 'CreatePolicyRequest',
        body: {
          __model__: 'PolicyCreateReq',
          policy: {
            __model__: 'PolicyCreate',
            name: 'sdk_policy',
            operation_type: 'backup',
            enabled: true,
            operation_definition: { __model__: 'PolicyoODCreate', max_backups: 5, retention_duration_days: -1, timezone: 'UTC+08:00' },
            trigger: { __model__: 'PolicyTriggerReq', properties: { __model__: 'PolicyTriggerPropertiesReq', pattern: [pattern] } },
          },
        },
      });
      expect(policy.status).toBe(200);
      expect(policy.raw).toContain(`"pattern":["${pattern}"]`);
      const policyId = body(policy).policy.id as string;
      expect((await call('show_policy', { __model__: 'ShowPolicyRequest', policy_id: policyId })).status).toBe(200);
      expect(body(await call('list_policies', { __model__: 'ListPoliciesRequest' })).count).toBeGreaterThanOrEqual(1);
      const updated = await call('update_policy', {
        __model__: 'UpdatePolicyRequest',
        policy_id: policyId,
        body: { __model__: 'PolicyUpdateReq', policy: { __model__: 'PolicyUpdate', enabled: false } },
      });
      expect(body(updated).policy.enabled).toBe(false);

      const vol = await makeVolume(env, P1, { name: 'sdk-disk' });
      await scribble(env, vol, 0, 2 * MiB);
      await scribble(env, vol, 700 * MiB + 12345, MiB);
      const vault = await call('create_vault', {
        __model__: 'CreateVaultRequest',
        body: {
          __model__: 'VaultCreateReq',
          vault: {
            __model__: 'VaultCreate',
            name: 'sdk_vault',
            resources: [],
            billing: {
              __model__: 'BillingCreate',
              object_type: 'disk',
              protect_type: 'backup',
              consistent_level: 'crash_consistent',
              size: 100,
              charging_mode: 'post_paid',
              cloud_type: 'public',
            },
          },
        },
      });
      expect(vault.status).toBe(200);
      const vaultId = body(vault).vault.id as string;
      const added = await call('add_vault_resource', {
        __model__: 'AddVaultResourceRequest',
        vault_id: vaultId,
        body: { __model__: 'VaultAddResourceReq', resources: [{ __model__: 'ResourceCreate', id: vol, type: 'OS::Cinder::Volume' }] },
      });
      expect(body(added).add_resource_ids).toEqual([vol]);
      const bound = await call('associate_vault_policy', {
        __model__: 'AssociateVaultPolicyRequest',
        vault_id: vaultId,
        body: { __model__: 'VaultAssociate', policy_id: policyId },
      });
      expect(bound.status).toBe(200);
      expect(body(await call('list_policies', { __model__: 'ListPoliciesRequest', vault_id: vaultId })).count).toBe(1);
      const cp = await call('create_checkpoint', {
        __model__: 'CreateCheckpointRequest',
        body: {
          __model__: 'VaultBackupReq',
          checkpoint: {
            __model__: 'VaultBackup',
            vault_id: vaultId,
            parameters: {
              __model__: 'CheckpointParam',
              auto_trigger: true,
              description: 'sdk',
              incremental: true,
              name: 'sdk_backup',
              resources: [vol],
            },
          },
        },
      });
      expect(cp.status).toBe(200);
      const checkpointId = body(cp).checkpoint.id as string;
      const done = await until('show_checkpoint', { __model__: 'ShowCheckpointRequest', checkpoint_id: checkpointId }, (r) => {
        const c = body(r).checkpoint;
        return c.status !== 'protecting' && c.vault.resources.every((x: { protect_status: string }) => x.protect_status === 'available');
      });
      expect(body(done).checkpoint.status).toBe('available');
      expect(done.raw).toContain('"resource_size":"1"');

      const list = await call('list_backups', { __model__: 'ListBackupsRequest', checkpoint_id: checkpointId, status: 'available' });
      expect(body(list).count).toBe(1);
      const backupId = body(list).backups[0].id as string;
      expect(list.raw).toMatch(/"resource_size":1,/);
      expect((await call('show_backup', { __model__: 'ShowBackupRequest', backup_id: backupId })).status).toBe(200);
      const renamed = await call('update_backup', {
        __model__: 'UpdateBackupRequest',
        backup_id: backupId,
        body: { __model__: 'BackupUpdateReq', backup: { __model__: 'BackupUpdate', name: 'sdk_renamed' } },
      });
      expect(body(renamed).backup.name).toBe('sdk_renamed');
      expect(body(await call('list_backups', { __model__: 'ListBackupsRequest', vault_id: vaultId }, KEY2)).count).toBe(0);

      const original = await readVolume(env, vol);
      expect(original.total).toBe(1024 ** 3);
      // Changes at both ends: the restore must put back every byte, the zeros after the data included.
      await scribble(env, vol, 0, 4096);
      await scribble(env, vol, 900 * MiB, 4096);
      const restore = await call('restore_backup', {
        __model__: 'RestoreBackupRequest',
        backup_id: backupId,
        body: { __model__: 'BackupRestoreReq', restore: { __model__: 'BackupRestore', volume_id: vol } },
      });
      expect(restore.status).toBe(202);
      const jobId = body(restore).job_id as string;
      const log = await until('show_op_log', { __model__: 'ShowOpLogRequest', operation_log_id: jobId }, (r) =>
        ['success', 'failed'].includes(body(r).operation_log.status),
      );
      expect(body(log).operation_log).toMatchObject({ status: 'success', extra_info: { common: { progress: 100 } } });
      const restored = await readVolume(env, vol);
      expect(restored.total).toBe(original.total);
      expect(restored.ranges.length).toBe(original.ranges.length);
      const differing = original.ranges.map((r, i) => (sameRange(r, restored.ranges[i]!) ? -1 : i)).filter((i) => i >= 0);
      expect(differing).toEqual([]);
      const logs = await call('list_op_logs', { __model__: 'ListOpLogsRequest', vault_id: vaultId, operation_type: 'backup' });
      expect(logs.raw).toContain('"incremental":"false"');

      expect((await call('delete_backup', { __model__: 'DeleteBackupRequest', backup_id: backupId })).status).toBe(204);
      const gone = await until('show_backup', { __model__: 'ShowBackupRequest', backup_id: backupId }, (r) => r.status === 404);
      expect(gone.error_code).toBe('BackupService.3001');
      await until('show_checkpoint', { __model__: 'ShowCheckpointRequest', checkpoint_id: checkpointId }, (r) => r.status === 404);
      expect((await call('delete_vault', { __model__: 'DeleteVaultRequest', vault_id: vaultId })).status).toBe(204);
      await until('show_vault', { __model__: 'ShowVaultRequest', vault_id: vaultId }, (r) => r.status === 404);
      expect((await call('delete_policy', { __model__: 'DeletePolicyRequest', policy_id: policyId })).status).toBe(204);
      await until('show_policy', { __model__: 'ShowPolicyRequest', policy_id: policyId }, (r) => r.status === 404);
    },
    300_000,
  );
});
