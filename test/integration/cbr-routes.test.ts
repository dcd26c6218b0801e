import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupBody, BackupList } from '../../src/routes/cbr/backups.schemas.js';
import { CheckpointBody } from '../../src/routes/cbr/checkpoints.schemas.js';
import { OperationLogBody, OperationLogList } from '../../src/routes/cbr/operation-logs.schemas.js';
import { PolicyBody, PolicyList } from '../../src/routes/cbr/policies.schemas.js';
import { type CbrTestEnv, P1, P2, cbrTestEnv, makeVolume } from './cbr-fixtures.js';
import { makeVault, scribble } from './cbr-scheduler-fixtures.js';

/** The checkpoint, backup, policy and operation-log routes of the CBR listener, checked on raw bodies. */

const ZONELESS = /"(created_at|updated_at|started_at|ended_at|protected_at)":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}"/g;

async function poll<T>(what: string, f: () => Promise<T>, pred: (v: T) => boolean, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (pred(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('CBR routes: checkpoints, backups, policies, operation logs', () => {
  let env: CbrTestEnv;
  beforeAll(async () => {
    env = await cbrTestEnv({}, true);
  });
  afterAll(async () => env?.close());

  it('policies: the pattern echoed byte for byte, retention as sent, 9900 naming the field, 204 then 404', async () => {
    const body = {
      policy: {
        name: 'daily_02',
        operation_type: 'backup',
        enabled: true,
        trigger: { properties: { pattern: ['FREQ=DAILY;INTERVAL=1;BYHOUR=02;BYMINUTE=00'] } },
        operation_definition: { max_backups: -1, retention_duration_days: 30, day_backups: 0, timezone: 'UTC+08:00' },
      },
    };
    const created = await env.api('POST', '/policies', { body });
    expect(created.status).toBe(200);
    expect(created.raw).toContain('"pattern":["FREQ=DAILY;INTERVAL=1;BYHOUR=02;BYMINUTE=00"]');
    expect(created.raw).toContain(
      '"operation_definition":{"max_backups":-1,"retention_duration_days":30,"day_backups":0,"timezone":"UTC+08:00"}',
    );
    const policy = PolicyBody.parse(JSON.parse(created.raw)).policy;
    const vaultId = await makeVault(env.t.db, P1, []);
    await env.t.db.insertInto('cbr_policy_vaults').values({ vault_id: vaultId, policy_id: policy.id }).execute();
    const listed = await env.api('GET', `/policies?vault_id=${vaultId}`);
    expect(PolicyList.parse(listed.json)).toMatchObject({
      count: 1,
      policies: [{ id: policy.id, associated_vaults: [{ vault_id: vaultId }] }],
    });
    expect((await env.api('GET', `/policies?vault_id=${vaultId}`, { project: P2 })).json).toEqual({ policies: [], count: 0 });

    const bad = await env.api('POST', '/policies', {
      body: { policy: { ...body.policy, trigger: { properties: { pattern: ['FREQ=HOURLY;BYHOUR=1;BYMINUTE=0'] } } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error_code).toBe('BackupService.9900');
    expect(bad.json.error_msg).toContain('trigger.properties.pattern');
    const badRetention = await env.api('POST', '/policies', {
      body: { policy: { ...body.policy, operation_definition: { max_backups: 0 } } },
    });
    expect([badRetention.status, badRetention.json.error_code]).toEqual([400, 'BackupService.9900']);

    const put = await env.api('PUT', `/policies/${policy.id}`, { body: { policy: { enabled: false, name: 'renamed' } } });
    expect(PolicyBody.parse(put.json).policy).toMatchObject({ enabled: false, name: 'renamed' });
    expect((await env.api('GET', `/policies/${policy.id}`, { project: P2 })).status).toBe(404);
    expect((await env.api('PUT', `/policies/${policy.id}`, { project: P2, body: { policy: { name: 'x' } } })).status).toBe(404);
    expect((await env.api('DELETE', `/policies/${policy.id}`, { project: P2 })).status).toBe(404);
    const del = await env.api('DELETE', `/policies/${policy.id}`);
    expect([del.status, del.raw]).toEqual([204, '']);
    const gone = await env.api('GET', `/policies/${policy.id}`);
    expect(gone.status).toBe(404);
    expect(gone.json.error_code).toMatch(/^BackupService\./);
  });

  it('checkpoint (seed 001) -> backups -> restore job -> delete: raw JSON types, paging, isolation', async () => {
    const vol = await makeVolume(env, P1, { name: 'disk-a' });
    const expected = await scribble(env, vol, 0, 1024 * 1024);
    const vaultId = await makeVault(env.t.db, P1, [vol]);
    const seed = {
      checkpoint: {
        parameters: { auto_trigger: true, description: 'backup_description', incremental: true, name: 'backup_name', resources: [vol] },
        vault_id: vaultId,
      },
    };
    const created = await env.api('POST', '/checkpoints', { body: seed });
    expect(created.status).toBe(200);
    const cp = CheckpointBody.parse(JSON.parse(created.raw)).checkpoint;
    expect(cp).toMatchObject({
      status: 'protecting',
      project_id: P1,
      extra_info: { name: 'backup_name', description: 'backup_description', retention_duration: -1 },
    });
    expect(created.raw).not.toContain('+00:00');
    expect((await env.api('GET', `/checkpoints/${cp.id}`, { project: P2 })).status).toBe(404);
    const done = await poll(
      'checkpoint',
      () => env.api('GET', `/checkpoints/${cp.id}`),
      (r) =>
        r.json.checkpoint.status !== 'protecting' && r.json.checkpoint.vault.resources.every((x: any) => x.protect_status === 'available'),
    );
    expect(done.json.checkpoint.status).toBe('available');
    expect(done.raw).toMatch(/"resource_size":"1"/);
    expect(done.raw).toMatch(/"backup_count":"\d+"/);

    const list = await env.api('GET', `/backups?checkpoint_id=${cp.id}&incremental=false&status=available&status=error`);
    expect(list.status).toBe(200);
    const backups = BackupList.parse(JSON.parse(list.raw));
    expect(backups).toMatchObject({ count: 1, limit: 1000, offset: 0 });
    expect(list.raw).toMatch(/"resource_size":1,/);
    expect(list.raw).toMatch(/"auto_trigger":false/);
    expect(list.raw.match(ZONELESS)?.length).toBeGreaterThanOrEqual(3);
    const backup = backups.backups[0]!;
    const single = await env.api('GET', `/backups?checkpoint_id=${cp.id}&status=available`);
    expect(single.json.count).toBe(1);
    const past = await env.api('GET', `/backups?vault_id=${vaultId}&offset=1&limit=1`);
    expect([past.status, past.json.backups, past.json.count]).toEqual([200, [], 1]);
    expect((await env.api('GET', `/backups?vault_id=${vaultId}&sort=bogus`)).json.error_code).toBe('BackupService.9900');
    expect((await env.api('GET', `/backups?vault_id=${vaultId}`, { project: P2 })).json.count).toBe(0);
    expect((await env.api('GET', `/backups/${backup.id}`, { project: P2 })).status).toBe(404);

    const renamed = await env.api('PUT', `/backups/${backup.id}`, { body: { backup: { name: 'renamed_1' } } });
    expect(BackupBody.parse(renamed.json).backup.name).toBe('renamed_1');
    expect((await env.api('PUT', `/backups/${backup.id}`, { body: { backup: { name: 'bad name!' } } })).json.error_code).toBe(
      'BackupService.9900',
    );

    await scribble(env, vol, 0, 4096);
    expect((await env.api('POST', `/backups/${backup.id}/restore`, { project: P2, body: { restore: { volume_id: vol } } })).status).toBe(
      404,
    );
    const restore = await env.api('POST', `/backups/${backup.id}/restore`, { body: { restore: { power_on: false, volume_id: vol } } });
    expect(restore.status).toBe(202);
    const jobId = restore.json.job_id as string;
    expect((await env.api('GET', `/operation-logs/${jobId}`, { project: P2 })).status).toBe(404);
    const log = await poll(
      'restore log',
      () => env.api('GET', `/operation-logs/${jobId}`),
      (r) => ['success', 'failed'].includes(r.json.operation_log.status),
    );
    const opLog = OperationLogBody.parse(JSON.parse(log.raw)).operation_log;
    expect(opLog).toMatchObject({ status: 'success', operation_type: 'restore', error_info: { code: '', message: '' } });
    expect(log.raw).toContain('"progress":100');
    expect((await readFile(env.deps.volumes.volumePath(vol))).equals(expected)).toBe(true);

    const logs = await env.api('GET', `/operation-logs?vault_id=${vaultId}&operation_type=backup`);
    const parsed = OperationLogList.parse(JSON.parse(logs.raw));
    expect(parsed.count).toBe(1);
    expect(logs.raw).toContain('"incremental":"false"');
    expect((await env.api('GET', `/operation-logs?vault_id=${vaultId}&offset=5`)).json.operation_logs).toEqual([]);
    expect((await env.api('GET', `/operation-logs?vault_id=${vaultId}`, { project: P2 })).json.count).toBe(0);
    expect((await env.api('GET', '/operation-logs/00000000-0000-0000-0000-000000000000')).json).toEqual({
      error_code: 'BackupService.6500',
      error_msg: 'Operation log does not exist.',
    });

    expect((await env.api('DELETE', `/backups/${backup.id}`, { project: P2 })).status).toBe(404);
    const del = await env.api('DELETE', `/backups/${backup.id}`);
    expect([del.status, del.raw]).toEqual([204, '']);
    await poll(
      'backup 404',
      () => env.api('GET', `/backups/${backup.id}`),
      (r) => r.status === 404,
    );
    await poll(
      'checkpoint 404',
      () => env.api('GET', `/checkpoints/${cp.id}`),
      (r) => r.status === 404,
    );
  });

  it('refusals: unknown ids 404 with their codes, bad input 400 BackupService.9900', async () => {
    const unknown = '6c3a4e6f-0000-4000-8000-000000000000';
    expect((await env.api('GET', `/backups/${unknown}`)).json.error_code).toBe('BackupService.3001');
    expect((await env.api('GET', `/backups/${unknown}`)).status).toBe(404);
    expect((await env.api('GET', `/checkpoints/${unknown}`)).status).toBe(404);
    expect((await env.api('GET', `/policies/${unknown}`)).status).toBe(404);
    const noVault = await env.api('POST', '/checkpoints', { body: { checkpoint: { vault_id: unknown } } });
    expect([noVault.status, noVault.json.error_code]).toEqual([404, 'BackupService.6105']);
    const noBody = await env.api('POST', '/checkpoints', { body: { checkpoint: {} } });
    expect([noBody.status, noBody.json.error_code]).toEqual([400, 'BackupService.9900']);
    expect(noBody.json.error_msg).toContain('vault_id');
    const vaultId = await makeVault(env.t.db, P1, []);
    const empty = await env.api('POST', '/checkpoints', { body: { checkpoint: { vault_id: vaultId } } });
    expect([empty.status, empty.json.error_code]).toEqual([400, 'BackupService.0001']);
    const server = await env.api('POST', '/checkpoints', {
      body: { checkpoint: { vault_id: vaultId, parameters: { resource_details: [{ id: unknown, type: 'OS::Nova::Server' }] } } },
    });
    expect([server.status, server.json.error_code]).toEqual([400, 'BackupService.9900']);
    const bogusStatus = await env.api('GET', '/operation-logs?status=bogus');
    expect([bogusStatus.status, bogusStatus.json.error_code]).toEqual([400, 'BackupService.9900']);
  });
});
