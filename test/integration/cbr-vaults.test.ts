import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertPolicy } from '../../src/db/cbr-policies-repository.js';
import { softDeleteVolume, transitionVolume } from '../../src/db/volumes-repository.js';
import { collectOrphans } from '../../src/domain/backups/orphan-gc.js';
import { createCheckpoint } from '../../src/domain/cbr/checkpoints/create-checkpoint.js';
import type { RequestContext } from '../../src/domain/common/context.js';
import { type CbrTestEnv, P1, P2, cbrTestEnv, makeVolume } from './cbr-fixtures.js';
import { until } from '../helpers/until.js';

/** V1-V9 through the CBR listener, on real Postgres, the posix store and a job worker. */

let env: CbrTestEnv;
const ctx1: RequestContext = { requestId: 'req-t', userId: 'u1111111', projectId: P1, roles: ['member'], isAdmin: false };
const billing = { object_type: 'disk', protect_type: 'backup', consistent_level: 'crash_consistent', size: 40 };
const vol = (id: string) => ({ id, type: 'OS::Cinder::Volume' });
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;

async function makeVault(name: string, resources: string[] = [], project = P1, extra: Record<string, unknown> = {}) {
  const r = await env.api('POST', '/vaults', { project, body: { vault: { name, billing, resources: resources.map(vol), ...extra } } });
  if (r.status !== 200) throw new Error(`create vault: ${r.status} ${r.raw}`);
  return r.json.vault;
}

async function policy(project = P1): Promise<string> {
  const id = randomUUID();
  await insertPolicy(env.t.db, {
    id,
    project_id: project,
    name: 'p',
    trigger_id: randomUUID(),
    patterns: JSON.stringify(['FREQ=DAILY;INTERVAL=1;BYHOUR=02;BYMINUTE=00']),
    operation_definition: JSON.stringify({ max_backups: 3 }),
  });
  return id;
}

async function checkpointBackups(vaultId: string): Promise<string[]> {
  const cp = await createCheckpoint(env.deps, ctx1, { vaultId, autoTrigger: false });
  const rows = await until('backups available', async () => {
    const rows = await env.t.db.selectFrom('backups').select(['id', 'status']).where('checkpoint_id', '=', cp.id).execute();
    return rows.length && rows.every((r) => r.status === 'available') ? rows : undefined;
  });
  return rows.map((r) => r.id);
}

function expectError(r: { status: number; json: any }, status: number, code: string, msg?: string | RegExp) {
  expect(r.status).toBe(status);
  expect(r.json).toEqual({ error_code: code, error_msg: msg === undefined ? expect.any(String) : expect.stringMatching(msg) });
}

beforeAll(async () => {
  env = await cbrTestEnv({}, true);
});
afterAll(async () => env?.close());

describe('V1 create', () => {
  it('answers 200 with the vault in the JSON types strict clients decode (integers, zone-less timestamps, {} bind_rules)', async () => {
    const v1 = await makeVolume(env, P1, { name: 'd1', size: 2 });
    const r = await env.api('POST', '/vaults', {
      body: {
        vault: {
          name: 'vault-1',
          billing: { ...billing, charging_mode: 'post_paid', cloud_type: 'public' },
          resources: [{ ...vol(v1), name: 'first' }],
          description: 'd',
        },
      },
    });
    expect(r.status).toBe(200);
    const v = r.json.vault;
    expect(v).toMatchObject({
      name: 'vault-1',
      description: 'd',
      project_id: P1,
      provider_id: 'd1603440-187d-4516-af25-121250c7cc97',
      billing: {
        size: 40,
        used: 0,
        allocated: 2,
        status: 'available',
        object_type: 'disk',
        spec_code: 'vault.backup.volume.normal',
        charging_mode: 'post_paid',
        cloud_type: 'public',
      },
      resources: [
        {
          id: v1,
          name: 'first',
          type: 'OS::Cinder::Volume',
          protect_status: 'available',
          size: 2,
          backup_count: 0,
          backup_size: 0,
          extra_info: {},
        },
      ],
      bind_rules: {},
      tags: [],
      enterprise_project_id: '0',
    });
    expect(v.created_at).toMatch(TS);
    expect(r.raw).toContain('"size":2,"backup_count":0,"backup_size":0');
    expect(r.raw).toContain('"used":0,"size":40');
    expect(r.raw).not.toMatch(/\+00:00|Z"/);
  });

  it('rejects bad input with 400 BackupService.9900 naming the field, and the billing rules with their codes', async () => {
    expectError(
      await env.api('POST', '/vaults', { body: { vault: { billing, resources: [] } } }),
      400,
      'BackupService.9900',
      /vault\.name/,
    );
    expectError(
      await env.api('POST', '/vaults', { body: { vault: { name: 'x', billing: { ...billing, size: '40' }, resources: [] } } }),
      400,
      'BackupService.9900',
      /vault\.billing\.size/,
    );
    expectError(
      await env.api('POST', '/vaults', { body: { vault: { name: 'bad name!', billing, resources: [] } } }),
      400,
      'BackupService.9900',
      /vault\.name/,
    );
    expectError(await env.api('POST', '/vaults', { body: {} }), 400, 'BackupService.9900', /vault/);
    expectError(
      await env.api('POST', '/vaults', { body: { vault: { name: 'x', billing: { ...billing, object_type: 'server' }, resources: [] } } }),
      400,
      'BackupService.9900',
      /object_type/,
    );
    expectError(
      await env.api('POST', '/vaults', {
        body: { vault: { name: 'x', billing: { ...billing, charging_mode: 'pre_paid' }, resources: [] } },
      }),
      400,
      'BackupService.9900',
      /charging_mode/,
    );
    expectError(
      await env.api('POST', '/vaults', { body: { vault: { name: 'x', billing: { ...billing, size: 5 }, resources: [] } } }),
      400,
      'BackupService.6101',
    );
    expectError(
      await env.api('POST', '/vaults', {
        body: { vault: { name: 'x', billing, resources: [{ id: randomUUID(), type: 'OS::Nova::Server' }] } },
      }),
      400,
      'BackupService.6102',
    );
    expectError(
      await env.api('POST', '/vaults', { body: { vault: { name: 'x', billing, resources: [vol(randomUUID())] } } }),
      400,
      'BackupService.9900',
      /vault\.resources\[0\]\.id/,
    );
  });

  it('a volume is in at most one vault (6103), once per request (6104)', async () => {
    const v = await makeVolume(env, P1);
    const a = await makeVault('a', [v]);
    expectError(
      await env.api('POST', '/vaults', { body: { vault: { name: 'b', billing, resources: [vol(v)] } } }),
      400,
      'BackupService.6103',
    );
    const w = await makeVolume(env, P1);
    expectError(
      await env.api('POST', `/vaults/${a.id}/addresources`, { body: { resources: [vol(w), vol(w)] } }),
      400,
      'BackupService.6104',
    );
    expectError(await env.api('POST', `/vaults/${a.id}/addresources`, { body: { resources: [vol(v)] } }), 400, 'BackupService.6104');
  });
});

describe('V2/V3 list and show', () => {
  it('lists with filters, count is the total, paging past the end is 200 []', async () => {
    const v = await makeVolume(env, P1);
    const pid = await policy();
    const f = await makeVault('findme', [v], P1, { backup_policy_id: pid });
    const byName = await env.api('GET', '/vaults?name=findme');
    expect(byName.json).toMatchObject({ count: 1, limit: 1000, offset: 0 });
    expect(byName.json.vaults[0].id).toBe(f.id);
    expect((await env.api('GET', `/vaults?resource_ids=${v},${randomUUID()}`)).json.vaults.map((x: any) => x.id)).toEqual([f.id]);
    expect((await env.api('GET', `/vaults?policy_id=${pid}`)).json.vaults.map((x: any) => x.id)).toEqual([f.id]);
    expect((await env.api('GET', `/vaults?id=${f.id}&id=${randomUUID()}`)).json.count).toBe(1);
    expect((await env.api('GET', '/vaults?object_type=server')).json).toMatchObject({ vaults: [], count: 0 });
    const all = await env.api('GET', '/vaults');
    const page = await env.api('GET', '/vaults?limit=1&offset=1');
    expect(page.json.vaults).toHaveLength(1);
    expect(page.json.count).toBe(all.json.count);
    const past = await env.api('GET', `/vaults?offset=${all.json.count}`);
    expect(past.status).toBe(200);
    expect(past.json.vaults).toEqual([]);
    const shown = await env.api('GET', `/vaults/${f.id}`);
    expect(shown.json.vault).toEqual(all.json.vaults.find((x: any) => x.id === f.id));
  });

  it('an unknown or malformed vault id is 404 BackupService.6105', async () => {
    expectError(await env.api('GET', `/vaults/${randomUUID()}`), 404, 'BackupService.6105');
    expectError(await env.api('GET', '/vaults/not-a-uuid'), 404, 'BackupService.6105');
    expectError(await env.api('PUT', `/vaults/${randomUUID()}`, { body: { vault: { name: 'x' } } }), 404, 'BackupService.6105');
    expectError(await env.api('DELETE', `/vaults/${randomUUID()}`), 404, 'BackupService.6105');
  });
});

describe('V4 update, V6/V7 resources, V8/V9 policy', () => {
  it('updates name and size; the same PUT twice changes nothing; a locked vault stays locked', async () => {
    const v = await makeVault('upd');
    const r = await env.api('PUT', `/vaults/${v.id}`, { body: { vault: { name: 'upd2', billing: { size: 200 }, locked: true } } });
    expect(r.status).toBe(200);
    expect(r.json.vault).toMatchObject({ name: 'upd2', billing: { size: 200 }, locked: true });
    expect((await env.api('PUT', `/vaults/${v.id}`, { body: { vault: { name: 'upd2', billing: { size: 200 } } } })).status).toBe(200);
    expectError(await env.api('PUT', `/vaults/${v.id}`, { body: { vault: { locked: false } } }), 400, 'BackupService.9900', /locked/);
    expectError(await env.api('PUT', `/vaults/${v.id}`, { body: { vault: { billing: { size: 0 } } } }), 400, 'BackupService.6101');
  });

  it('adds and removes resources; removing one not in the vault is 6135', async () => {
    const v = await makeVault('res');
    const a = await makeVolume(env, P1);
    const b = await makeVolume(env, P1);
    const add = await env.api('POST', `/vaults/${v.id}/addresources`, { body: { resources: [vol(a), vol(b)] } });
    expect(add.json).toEqual({ add_resource_ids: [a, b] });
    expect((await env.api('GET', `/vaults/${v.id}`)).json.vault.resources.map((x: any) => x.id)).toEqual([a, b]);
    const rm = await env.api('POST', `/vaults/${v.id}/removeresources`, { body: { resource_ids: [a] } });
    expect(rm.json).toEqual({ remove_resource_ids: [a] });
    expect((await env.api('GET', `/vaults/${v.id}`)).json.vault.resources.map((x: any) => x.id)).toEqual([b]);
    expectError(await env.api('POST', `/vaults/${v.id}/removeresources`, { body: { resource_ids: [a] } }), 400, 'BackupService.6135');
    // The removed volume can go to another vault.
    await makeVault('res2', [a]);
  });

  it('binds one backup policy (a new one replaces it), unbinds it, refuses a policy it does not hold', async () => {
    const v = await makeVault('pol');
    const [p1, p2] = [await policy(), await policy()];
    expect((await env.api('POST', `/vaults/${v.id}/associatepolicy`, { body: { policy_id: p1 } })).json).toEqual({
      associate_policy: { vault_id: v.id, policy_id: p1 },
    });
    expect((await env.api('POST', `/vaults/${v.id}/associatepolicy`, { body: { add_policy_ids: [p2] } })).status).toBe(200);
    expect((await env.api('GET', `/vaults?policy_id=${p1}`)).json.count).toBe(0);
    expect((await env.api('GET', `/vaults?policy_id=${p2}`)).json.count).toBe(1);
    expectError(
      await env.api('POST', `/vaults/${v.id}/dissociatepolicy`, { body: { policy_id: p1 } }),
      400,
      'BackupService.9900',
      /policy_id/,
    );
    expect((await env.api('POST', `/vaults/${v.id}/dissociatepolicy`, { body: { policy_id: p2 } })).json).toEqual({
      dissociate_policy: { vault_id: v.id, policy_id: p2 },
    });
    expectError(
      await env.api('POST', `/vaults/${v.id}/associatepolicy`, { body: { policy_id: randomUUID() } }),
      400,
      'BackupService.9900',
      /policy_id/,
    );
    expectError(await env.api('POST', `/vaults/${v.id}/associatepolicy`, { body: {} }), 400, 'BackupService.9900');
  });

  it('a volume deleted through Cinder leaves its vault', async () => {
    const a = await makeVolume(env, P1);
    const v = await makeVault('leaves', [a]);
    await transitionVolume(env.t.db, a, ['available'], { status: 'deleting' });
    await softDeleteVolume(env.t.db, a);
    expect((await env.api('GET', `/vaults/${v.id}`)).json.vault.resources).toEqual([]);
  });
});

describe('a volume deleted through the Cinder API', () => {
  it('DELETE /v3/{p}/volumes/{id} takes it out of its vault; its backups stay, the next checkpoint skips nothing', async () => {
    const created = await env.call('POST', '/volumes', P1, { volume: { size: 1, name: 'cinder-deleted' } });
    expect(created.status).toBe(202);
    const gone: string = created.json.volume.id;
    await until('volume available', async () =>
      (await env.call('GET', `/volumes/${gone}`, P1)).json.volume.status === 'available' ? true : undefined,
    );
    const kept = await makeVolume(env, P1);
    const v = await makeVault('cinder-del', [gone, kept]);
    const backups = await checkpointBackups(v.id);
    expect(backups).toHaveLength(2);

    const del = await env.call('DELETE', `/volumes/${gone}`, P1);
    expect(del.status).toBe(202);
    await until('volume 404', async () => ((await env.call('GET', `/volumes/${gone}`, P1)).status === 404 ? true : undefined));

    const shown = (await env.api('GET', `/vaults/${v.id}`)).json.vault;
    expect(shown.resources.map((r: any) => r.id)).toEqual([kept]);
    expect((await env.api('GET', `/vaults?resource_ids=${gone}`)).json.count).toBe(0);
    expect((await env.api('GET', `/protectables/disk/instances`)).json.instances.map((i: any) => i.id)).not.toContain(gone);
    // Its backups outlive it (restorable into another volume), as in CBR and Cinder.
    const listed = await env.api('GET', `/backups?resource_id=${gone}`);
    expect(listed.json.backups.map((b: any) => [b.vault_id, b.status])).toEqual([[v.id, 'available']]);
    // A checkpoint over the vault backs up the volume left, and skips nothing.
    const cp = await env.api('POST', '/checkpoints', { body: { checkpoint: { vault_id: v.id } } });
    expect(cp.status).toBe(200);
    expect(cp.json.checkpoint.vault.skipped_resources).toEqual([]);
    const rows = await env.t.db.selectFrom('backups').select('volume_id').where('checkpoint_id', '=', cp.json.checkpoint.id).execute();
    expect(rows.map((r) => r.volume_id)).toEqual([kept]);
    // Binding the deleted volume is refused as for any unknown volume.
    const bind = await env.api('POST', `/vaults/${v.id}/addresources`, { body: { resources: [vol(gone)] } });
    expect([bind.status, bind.json.error_code]).toEqual([400, 'BackupService.9900']);
  });
});

describe('capacity and delete, with real backups', () => {
  it('a vault whose backups store more than its size refuses checkpoints (6114) and shrinking below them (6107)', async () => {
    const a = await makeVolume(env, P1);
    const v = await makeVault('cap', [a]);
    const [bid] = await checkpointBackups(v.id);
    const used = (await env.api('GET', `/vaults/${v.id}`)).json.vault;
    expect(used.resources[0]).toMatchObject({ backup_count: 1, protect_status: 'available' });
    await env.t.db
      .updateTable('backups')
      .set({ stored_bytes: 41 * 1024 ** 3 })
      .where('id', '=', bid!)
      .execute();
    await expect(createCheckpoint(env.deps, ctx1, { vaultId: v.id, autoTrigger: false })).rejects.toMatchObject({
      code: 'BackupService.6114',
    });
    expectError(await env.api('PUT', `/vaults/${v.id}`, { body: { vault: { billing: { size: 20 } } } }), 400, 'BackupService.6107');
    expect((await env.api('GET', `/vaults/${v.id}`)).json.vault.billing.used).toBe(41 * 1024);
  });

  it('delete answers 204, deletes every backup and its objects through jobs, then the vault is 404; orphan GC finds nothing', async () => {
    const a = await makeVolume(env, P1);
    const b = await makeVolume(env, P1);
    const v = await makeVault('del', [a, b]);
    const first = await checkpointBackups(v.id);
    const second = await checkpointBackups(v.id); // incrementals on top of the first
    const del = await env.api('DELETE', `/vaults/${v.id}`, { headers: { 'content-type': 'application/json', 'content-length': '0' } });
    expect(del.status).toBe(204);
    expect(del.raw).toBe('');
    await until('vault 404', async () => {
      const r = await env.api('GET', `/vaults/${v.id}`);
      if (r.status === 200) expect(r.json.vault.billing.status).toBe('deleting');
      return r.status === 404 ? true : undefined;
    });
    const rows = await env.t.db
      .selectFrom('backups')
      .select(['id', 'deleted'])
      .where('id', 'in', [...first, ...second])
      .execute();
    expect(rows.every((r) => r.deleted)).toBe(true);
    const reports = await collectOrphans(env.t.db, env.deps.store as never);
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.flatMap((r) => r.orphans)).toEqual([]);
    const log = await env.t.db
      .selectFrom('cbr_operation_logs')
      .selectAll()
      .where('vault_id', '=', v.id)
      .where('operation_type', '=', 'vault_delete')
      .executeTakeFirstOrThrow();
    expect(log.status).toBe('success');
    // Its volumes are free again.
    await makeVault('del-again', [a, b]);
  });
});

describe('tenant isolation on every vault route', () => {
  it("another project sees nothing of a vault and cannot change it or bind the first project's volumes", async () => {
    const a = await makeVolume(env, P1);
    const v = await makeVault('mine', [a]);
    const p2 = { project: P2 };
    expect((await env.api('GET', '/vaults', p2)).json.vaults.map((x: any) => x.id)).not.toContain(v.id);
    expect((await env.api('GET', `/vaults?id=${v.id}`, p2)).json.count).toBe(0);
    expectError(await env.api('GET', `/vaults/${v.id}`, p2), 404, 'BackupService.6105');
    expectError(await env.api('PUT', `/vaults/${v.id}`, { ...p2, body: { vault: { name: 'x' } } }), 404, 'BackupService.6105');
    expectError(
      await env.api('POST', `/vaults/${v.id}/addresources`, { ...p2, body: { resources: [vol(randomUUID())] } }),
      404,
      'BackupService.6105',
    );
    expectError(
      await env.api('POST', `/vaults/${v.id}/removeresources`, { ...p2, body: { resource_ids: [a] } }),
      404,
      'BackupService.6105',
    );
    expectError(
      await env.api('POST', `/vaults/${v.id}/associatepolicy`, { ...p2, body: { policy_id: await policy(P2) } }),
      404,
      'BackupService.6105',
    );
    expectError(
      await env.api('POST', `/vaults/${v.id}/dissociatepolicy`, { ...p2, body: { policy_id: randomUUID() } }),
      404,
      'BackupService.6105',
    );
    expectError(await env.api('DELETE', `/vaults/${v.id}`, p2), 404, 'BackupService.6105');
    expectError(
      await env.api('POST', '/vaults', { ...p2, body: { vault: { name: 'x', billing, resources: [vol(a)] } } }),
      400,
      'BackupService.9900',
    );
    expect((await env.api('GET', `/vaults/${v.id}`)).status).toBe(200);
    const mine = (await env.api('GET', '/protectables/disk/instances')).json.instances.find((i: any) => i.id === a);
    expect(mine.protectable.vault).toEqual({ id: v.id, name: 'mine' });
  });
});

describe('the remaining error codes of section 1.8 that apply to volumes', () => {
  const setStatus = (table: 'backups' | 'volumes' | 'cbr_vaults', id: string, status: string) =>
    env.t.db.updateTable(table).set({ status }).where('id', '=', id).execute();

  it('restore: 2001 into a smaller disk, 2010 into a disk being restored; delete: 6203 while a backup is in progress', async () => {
    const big = await makeVolume(env, P1, { name: 'big', size: 2 });
    const v = await makeVault('codes', [big]);
    const [backup] = await checkpointBackups(v.id);
    const small = await makeVolume(env, P1, { name: 'small', size: 1 });
    const restore = (target: string) => env.api('POST', `/backups/${backup}/restore`, { body: { restore: { volume_id: target } } });
    expectError(await restore(small), 400, 'BackupService.2001', /smaller than the backup/);
    const busy = await makeVolume(env, P1, { name: 'busy', size: 2 });
    await setStatus('volumes', busy, 'restoring-backup');
    expectError(await restore(busy), 400, 'BackupService.2010');

    await setStatus('backups', backup!, 'creating');
    expectError(await env.api('DELETE', `/backups/${backup}`), 400, 'BackupService.6203');
    expectError(await env.api('DELETE', `/vaults/${v.id}`), 400, 'BackupService.6203');
    expect((await env.api('GET', `/vaults/${v.id}`)).json.vault.billing.status).not.toBe('deleting');
    await setStatus('backups', backup!, 'available');
    expect((await restore(big)).status).toBe(202);
  });

  it('6112 binds to a vault being deleted; 6100 beyond 256 volumes in a vault', async () => {
    const going = await makeVault('going');
    await setStatus('cbr_vaults', going.id, 'deleting');
    const extra = await makeVolume(env, P1, { name: 'late' });
    expectError(
      await env.api('POST', `/vaults/${going.id}/addresources`, { body: { resources: [vol(extra)] } }),
      400,
      'BackupService.6112',
    );

    const full = await makeVault('full');
    const many = await Promise.all(Array.from({ length: 256 }, (_, i) => makeVolume(env, P1, { name: `m${i}` })));
    expect((await env.api('POST', `/vaults/${full.id}/addresources`, { body: { resources: many.map(vol) } })).status).toBe(200);
    expectError(
      await env.api('POST', `/vaults/${full.id}/addresources`, { body: { resources: [vol(extra)] } }),
      400,
      'BackupService.6100',
      /over limit: 256/,
    );
    expect((await env.api('GET', `/vaults/${full.id}`)).json.vault.resources).toHaveLength(256);
  });
});
