import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindPolicy, insertPolicy, listEnabledPoliciesWithVaults } from '../../src/db/cbr-policies-repository.js';
import { addVaultResources, insertVault } from '../../src/db/cbr-vaults-repository.js';
import type { RequestContext } from '../../src/domain/common/context.js';
import { createCheckpoint } from '../../src/domain/cbr/checkpoints/create-checkpoint.js';
import { showCheckpointById } from '../../src/domain/cbr/checkpoints/show-checkpoint.js';
import { triggersOf } from '../../src/db/cbr-schedule-repository.js';
import { ManualClock } from '../../src/domain/cbr/schedule/clock.js';
import { schedulerTick } from '../../src/domain/cbr/schedule/scheduler.js';
import { type BackupTestEnv, P1, backupTestEnv, makeVolume } from './backups-fixtures.js';
import { makePolicy, schedulerDeps } from './cbr-scheduler-fixtures.js';

/** createCheckpoint (the function cbr-sched calls) on the real engine and job worker. */

const ctx: RequestContext = { requestId: 'req-test', userId: 'u1111111', projectId: P1, roles: ['member'], isAdmin: false };

async function makeVault(env: BackupTestEnv, volumes: string[], sizeGb = 100): Promise<string> {
  const id = randomUUID();
  await insertVault(env.t.db, {
    id,
    project_id: P1,
    user_id: 'u1111111',
    name: 'v1',
    description: null,
    size_gb: sizeGb,
    backup_name_prefix: null,
    extra: '{}',
  });
  await addVaultResources(
    env.t.db,
    id,
    volumes.map((v) => ({ volumeId: v, name: null })),
  );
  return id;
}

async function waitCheckpoint(env: BackupTestEnv, id: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const v = await showCheckpointById(env.t.db, ctx, id);
    if (v.status !== 'protecting') return v;
    if (Date.now() > deadline) throw new Error(`checkpoint ${id} still protecting`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('createCheckpoint', () => {
  let env: BackupTestEnv;
  beforeAll(async () => {
    env = await backupTestEnv({}, true);
  });
  afterAll(async () => env?.close());

  it('backs up every volume of the vault, skips a busy one, and the next run is incremental', async () => {
    const vols: string[] = [];
    for (let i = 0; i < 4; i++) vols.push(await makeVolume(env, P1, { name: `d${i}` }));
    const busy = await makeVolume(env, P1, { name: 'busy', status: 'backing-up' });
    const vaultId = await makeVault(env, [...vols, busy]);

    const first = await createCheckpoint(env.deps, ctx, { vaultId, autoTrigger: true });
    expect(first.vault.skipped_resources).toEqual([
      { id: busy, type: 'OS::Cinder::Volume', name: 'busy', code: 'BackupService.2002', reason: 'The resource is being backed up.' },
    ]);
    const done = await waitCheckpoint(env, first.id);
    expect(done.status).toBe('available');
    expect(done.vault.resources.map((r) => r.id).sort()).toEqual([...vols].sort());
    expect(done.vault.resources.every((r) => r.protect_status === 'available' && r.resource_size === '1')).toBe(true);
    const rows = await env.t.db.selectFrom('backups').selectAll().where('checkpoint_id', '=', first.id).execute();
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.parent_id === null && r.vault_id === vaultId && r.cbr_auto_trigger === false)).toBe(true);

    const second = await createCheckpoint(env.deps, ctx, {
      vaultId,
      resources: [vols[0]!],
      autoTrigger: false,
      scheduledBy: { policyId: randomUUID() },
    });
    await waitCheckpoint(env, second.id);
    const inc = await env.t.db.selectFrom('backups').selectAll().where('checkpoint_id', '=', second.id).executeTakeFirstOrThrow();
    expect(inc.parent_id).toBe(rows.find((r) => r.volume_id === vols[0])!.id);
    expect(inc.cbr_auto_trigger).toBe(true);
    expect(second.extra_info.name).toMatch(/^autobk_/);
  });

  it('every resource busy: 400 BackupService.0001 naming each, and no checkpoint, backup or operation log is left', async () => {
    const a = await makeVolume(env, P1, { name: 'a', status: 'backing-up' });
    const b = await makeVolume(env, P1, { name: 'b', status: 'restoring-backup' });
    const vaultId = await makeVault(env, [a, b]);
    const err = await createCheckpoint(env.deps, ctx, { vaultId, autoTrigger: false }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BackupService.0001', kind: 'invalid' });
    expect((err as Error).message).toContain(`${a}: The resource is being backed up.`);
    expect((err as Error).message).toContain(`${b}: The resource is being restored.`);
    const cps = await env.t.db.selectFrom('cbr_checkpoints').select('id').where('vault_id', '=', vaultId).execute();
    expect(cps).toEqual([]);
    expect(await env.t.db.selectFrom('backups').select('id').where('vault_id', '=', vaultId).execute()).toEqual([]);
    expect(await env.t.db.selectFrom('cbr_operation_logs').select('id').where('vault_id', '=', vaultId).execute()).toEqual([]);
  });

  it('every resource busy at a scheduled run: the trigger fails with 0001, each volume gets a skipped log, no checkpoint', async () => {
    const a = await makeVolume(env, P1, { name: 'a', status: 'backing-up' });
    const vaultId = await makeVault(env, [a]);
    const start = new Date('2026-06-01T00:00:00Z');
    const policyId = await makePolicy(env.t.db, P1, ['FREQ=DAILY;BYHOUR=01;BYMINUTE=00'], {}, start, [vaultId]);
    try {
      const r = await schedulerTick(schedulerDeps(env, new ManualClock(Date.parse('2026-06-01T01:00:10Z'))));
      expect(r.failed.filter((k) => k.policyId === policyId)).toHaveLength(1);
      expect(r.fired.filter((k) => k.policyId === policyId)).toEqual([]);
      const [trigger] = await triggersOf(env.t.db, policyId);
      expect(trigger).toMatchObject({ status: 'failed', checkpoint_id: null });
      expect(await env.t.db.selectFrom('cbr_checkpoints').select('id').where('vault_id', '=', vaultId).execute()).toEqual([]);
      const logs = await env.t.db.selectFrom('cbr_operation_logs').selectAll().where('vault_id', '=', vaultId).execute();
      expect(logs).toHaveLength(1);
      expect(logs[0]).toMatchObject({
        operation_type: 'backup',
        status: 'skipped',
        resource_id: a,
        policy_id: policyId,
        checkpoint_id: null,
        error_code: 'BackupService.2002',
      });
    } finally {
      await env.t.db.updateTable('cbr_policies').set({ enabled: false }).where('id', '=', policyId).execute();
    }
  });

  it('lists enabled policies with their bound vaults', async () => {
    const vaultId = await makeVault(env, []);
    const pid = randomUUID();
    await insertPolicy(env.t.db, {
      id: pid,
      project_id: P1,
      name: 'p',
      trigger_id: randomUUID(),
      patterns: JSON.stringify(['FREQ=DAILY;INTERVAL=1;BYHOUR=02;BYMINUTE=00']),
      operation_definition: JSON.stringify({ max_backups: 3 }),
    });
    await bindPolicy(env.t.db, vaultId, pid);
    const list = await listEnabledPoliciesWithVaults(env.t.db);
    const mine = list.find((b) => b.policy.id === pid)!;
    expect(mine.vaults).toEqual([{ vaultId, projectId: P1, userId: 'u1111111' }]);
    expect(mine.policy.patterns).toEqual(['FREQ=DAILY;INTERVAL=1;BYHOUR=02;BYMINUTE=00']);
  });
});
