import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type BackupTestEnv, P1, P2, backupTestEnv, insertBackups, makeVolume } from './backups-fixtures.js';

/** Endpoints, microversion gates, views, policy and tenant isolation (no worker: rows stay as the API left them). */

const DETAIL_30 = [
  'availability_zone',
  'container',
  'created_at',
  'data_timestamp',
  'description',
  'fail_reason',
  'has_dependent_backups',
  'id',
  'is_incremental',
  'links',
  'name',
  'object_count',
  'size',
  'snapshot_id',
  'status',
  'updated_at',
  'volume_id',
];

describe('backups API', () => {
  let env: BackupTestEnv;
  beforeAll(async () => {
    env = await backupTestEnv();
  });
  afterAll(async () => env.close());

  const create = (project: string, backup: Record<string, unknown>, version?: string) =>
    env.call('POST', '/backups', project, { backup }, version);

  it('create answers 202 with exactly id, name, links, records the row creating, moves the volume to backing-up and queues a job', async () => {
    const vol = await makeVolume(env, P1, { size: 2 });
    const res = await create(P1, {
      volume_id: vol,
      name: '  nightly  ',
      description: 'd',
      container: null,
      incremental: 'false',
      force: null,
      snapshot_id: null,
    });
    expect(res.status).toBe(202);
    expect(Object.keys(res.json.backup).sort()).toEqual(['id', 'links', 'name']);
    expect(res.json.backup.name).toBe('nightly');
    expect(res.json.backup.links[0].href).toBe(`http://localhost:80/v3/${P1}/backups/${res.json.backup.id}`);
    const row = await env.t.db.selectFrom('backups').selectAll().where('id', '=', res.json.backup.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'creating', size: 2, project_id: P1, availability_zone: 'nova', parent_id: null });
    expect(row.data_timestamp.getTime()).toBe(row.created_at.getTime());
    const v = await env.t.db.selectFrom('volumes').select(['status', 'previous_status']).where('id', '=', vol).executeTakeFirstOrThrow();
    expect(v).toEqual({ status: 'backing-up', previous_status: 'available' });
    const jobs = await env.t.db.selectFrom('jobs').select(['kind', 'status']).where('resource_id', '=', row.id).execute();
    expect(jobs).toEqual([{ kind: 'backup', status: 'queued' }]);
  });

  it('show emits exactly the 3.0 field set; metadata from 3.43; owner fields for admins only from 3.18/3.56', async () => {
    const [id] = await insertBackups(env.t.db, [{ project_id: P1, display_name: 'b' }]);
    await env.t.db.insertInto('backup_metadata').values({ backup_id: id!, key: 'k', value: 'v' }).execute();
    const at30 = await env.call('GET', `/backups/${id}`, P1);
    expect(Object.keys(at30.json.backup).sort()).toEqual(DETAIL_30);
    expect(at30.json.backup.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    const at343 = await env.call('GET', `/backups/${id}`, P1, undefined, '3.43');
    expect(at343.json.backup.metadata).toEqual({ k: 'v' });
    const member370 = await env.call('GET', `/backups/${id}`, P1, undefined, '3.70');
    expect(member370.json.backup).not.toHaveProperty('os-backup-project-attr:project_id');
    expect(member370.json.backup).not.toHaveProperty('user_id');
    const admin318 = await env.call('GET', `/backups/${id}`, ADMIN, undefined, '3.18');
    expect(admin318.json.backup['os-backup-project-attr:project_id']).toBe(P1);
    expect(admin318.json.backup).not.toHaveProperty('user_id');
    const admin356 = await env.call('GET', `/backups/${id}`, ADMIN, undefined, '3.56');
    expect(admin356.json.backup.user_id).toBe('u');
  });

  it('metadata is an unknown key below 3.43 and availability_zone below 3.51', async () => {
    const vol = await makeVolume(env, P1);
    const r1 = await create(P1, { volume_id: vol, metadata: { a: 'b' } }, '3.42');
    expect(r1.status).toBe(400);
    expect(r1.json.badRequest.message).toContain("Additional properties are not allowed ('metadata' was unexpected)");
    const r2 = await create(P1, { volume_id: vol, availability_zone: 'nova' }, '3.50');
    expect(r2.status).toBe(400);
    const r3 = await create(P1, { volume_id: vol, metadata: { a: 'b' }, availability_zone: 'nova' }, '3.51');
    expect(r3.status).toBe(202);
    const meta = await env.t.db.selectFrom('backup_metadata').selectAll().where('backup_id', '=', r3.json.backup.id).execute();
    expect(meta.map((m) => [m.key, m.value])).toEqual([['a', 'b']]);
  });

  it('update is 404 below 3.9, renames at 3.9, and replaces metadata at 3.43', async () => {
    const [id] = await insertBackups(env.t.db, [{ project_id: P1, display_name: 'old' }]);
    expect((await env.call('PUT', `/backups/${id}`, P1, { backup: { name: 'x' } }, '3.8')).status).toBe(404);
    const r = await env.call('PUT', `/backups/${id}`, P1, { backup: { name: 'new', description: 'd' } }, '3.9');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ backup: { id, name: 'new', links: expect.any(Array) } });
    expect((await env.call('PUT', `/backups/${id}`, P1, { backup: { metadata: { a: '1' } } }, '3.42')).status).toBe(400);
    await env.call('PUT', `/backups/${id}`, P1, { backup: { metadata: { a: '1', b: '2' } } }, '3.43');
    await env.call('PUT', `/backups/${id}`, P1, { backup: { metadata: { c: '3' } } }, '3.43');
    const shown = await env.call('GET', `/backups/${id}`, P1, undefined, '3.43');
    expect(shown.json.backup).toMatchObject({ name: 'new', description: 'd', metadata: { c: '3' } });
  });

  it("another project's backup is a 404 everywhere, and lists, markers and all_tenants do not leak", async () => {
    const [mine] = await insertBackups(env.t.db, [{ project_id: P2, display_name: 'p2-only' }]);
    for (const [method, path, body] of [
      ['GET', `/backups/${mine}`, undefined],
      ['PUT', `/backups/${mine}`, { backup: { name: 'x' } }],
      ['DELETE', `/backups/${mine}`, undefined],
      ['POST', `/backups/${mine}/restore`, { restore: {} }],
      ['GET', `/backups/${mine}/progress`, undefined],
      ['GET', `/backups/${mine}/chain`, undefined],
      ['POST', `/backups/${mine}/action`, { 'os-verify': {} }],
    ] as const) {
      const r = await env.call(method, path, P1, body, '3.9');
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.json.itemNotFound.message).toBe(`Backup ${mine} could not be found.`);
    }
    const list = await env.call('GET', '/backups/detail?all_tenants=1', P1);
    expect(list.status).toBe(200);
    expect(list.json.backups.map((b: { id: string }) => b.id)).not.toContain(mine);
    expect((await env.call('GET', `/backups?marker=${mine}`, P1)).status).toBe(404);
    const admin = await env.call('GET', '/backups?all_tenants=true&limit=1000', ADMIN);
    expect(admin.json.backups.map((b: { id: string }) => b.id)).toContain(mine);
    const adminOwn = await env.call('GET', '/backups?limit=1000', ADMIN);
    expect(adminOwn.json.backups.map((b: { id: string }) => b.id)).not.toContain(mine);
  });

  it('admin-only actions are 403 for members; export and import are admin-only', async () => {
    const [id] = await insertBackups(env.t.db, [{ project_id: P1 }]);
    const reset = await env.call('POST', `/backups/${id}/action`, P1, { 'os-reset_status': { status: 'error' } });
    expect(reset.status).toBe(403);
    expect(reset.json.forbidden.message).toBe("Policy doesn't allow volume_extension:backup_admin_actions:reset_status to be performed.");
    expect((await env.call('POST', `/backups/${id}/action`, P1, { 'os-force_delete': null })).status).toBe(403);
    expect((await env.call('GET', `/backups/${id}/export_record`, P1)).status).toBe(403);
    expect(
      (await env.call('POST', '/backups/import_record', P1, { 'backup-record': { backup_service: 'x', backup_url: 'eyJ9' } })).status,
    ).toBe(403);
    expect((await env.call('POST', `/backups/${id}/action`, ADMIN, { 'os-reset_status': { status: 'ERROR' } })).status).toBe(202);
    expect((await env.call('GET', `/backups/${id}`, P1)).json.backup.status).toBe('error');
    const bad = await env.call('POST', `/backups/${id}/action`, ADMIN, { 'os-reset_status': { status: 'creating' } });
    expect(bad.json.badRequest.message).toBe("Backup status: creating is invalid, valid statuses are: ['available', 'error'].");
    const none = await env.call('POST', `/backups/${id}/action`, ADMIN, { 'os-unknown': {} });
    expect(none.json.badRequest.message).toBe('There is no such action: os-unknown');
  });

  it('force delete (admin) accepts cinderclient\'s {"os-force_delete": null}, moves any status to deleting and queues the delete', async () => {
    const [id] = await insertBackups(env.t.db, [{ project_id: P1, status: 'error_deleting' }]);
    expect((await env.call('POST', `/backups/${id}/action`, ADMIN, { 'os-force_delete': null })).status).toBe(202);
    const row = await env.t.db.selectFrom('backups').select('status').where('id', '=', id!).executeTakeFirstOrThrow();
    expect(row.status).toBe('deleting');
    const jobs = await env.t.db.selectFrom('jobs').select('kind').where('resource_id', '=', id!).execute();
    expect(jobs).toEqual([{ kind: 'delete_backup' }]);
  });

  it('a running (creating) backup force-deleted gets no second job: its own job cleans up', async () => {
    const [id] = await insertBackups(env.t.db, [{ project_id: P1, status: 'creating' }]);
    expect((await env.call('POST', `/backups/${id}/action`, ADMIN, { 'os-force_delete': {} })).status).toBe(202);
    expect(await env.t.db.selectFrom('jobs').select('kind').where('resource_id', '=', id!).execute()).toEqual([]);
  });

  it('os-verify queues a verify job for an available backup (owner), 400 otherwise', async () => {
    const [ok, busy] = await insertBackups(env.t.db, [{ project_id: P1 }, { project_id: P1, status: 'creating' }]);
    expect((await env.call('POST', `/backups/${ok}/action`, P1, { 'os-verify': {} })).status).toBe(202);
    expect(await env.t.db.selectFrom('jobs').select('kind').where('resource_id', '=', ok!).execute()).toEqual([{ kind: 'verify' }]);
    const r = await env.call('POST', `/backups/${busy}/action`, P1, { 'os-verify': {} });
    expect(r.json.badRequest.message).toBe('Invalid backup: Backup status must be available');
  });

  it('os-verify takes an object or null: a string, array or number is 400 and queues nothing', async () => {
    const [id] = await insertBackups(env.t.db, [{ project_id: P1 }]);
    for (const arg of ['x', [], 1, true]) {
      const r = await env.call('POST', `/backups/${id}/action`, P1, { 'os-verify': arg });
      expect(r.status, JSON.stringify(arg)).toBe(400);
      expect(r.json.badRequest.message).toMatch(/^Invalid input for field\/attribute os-verify\./);
    }
    expect(await env.t.db.selectFrom('jobs').select('kind').where('resource_id', '=', id!).execute()).toEqual([]);
    expect((await env.call('POST', `/backups/${id}/action`, P1, { 'os-verify': null })).status).toBe(202);
  });

  it('os-verify runs once per backup: concurrent repeats while one is queued get 400, and one job is queued', async () => {
    const [id] = await insertBackups(env.t.db, [{ project_id: P1 }]);
    const answers = await Promise.all(Array.from({ length: 20 }, () => env.call('POST', `/backups/${id}/action`, P1, { 'os-verify': {} })));
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    const refused = answers.filter((a) => a.status !== 202);
    expect(refused).toHaveLength(19);
    for (const r of refused) expect(r.json.badRequest.message).toMatch(/already queued or running/);
    expect(await env.t.db.selectFrom('jobs').select('kind').where('resource_id', '=', id!).execute()).toEqual([{ kind: 'verify' }]);
    // Once that job is done, the backup may be verified again.
    await env.t.db.updateTable('jobs').set({ status: 'done' }).where('resource_id', '=', id!).execute();
    expect((await env.call('POST', `/backups/${id}/action`, P1, { 'os-verify': {} })).status).toBe(202);
  });

  it('os-verify counts against the per-project limit of queued jobs (413 overLimit), other projects unaffected', async () => {
    const limit = env.config.JOBS_QUEUED_PER_PROJECT;
    const project = 'a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0';
    const ids = await insertBackups(
      env.t.db,
      Array.from({ length: limit + 2 }, () => ({ project_id: project })),
    );
    const statuses: number[] = [];
    for (const id of ids) statuses.push((await env.call('POST', `/backups/${id}/action`, project, { 'os-verify': {} })).status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(limit);
    const over = await env.call('POST', `/backups/${ids.at(-1)}/action`, project, { 'os-verify': {} });
    expect(over.status).toBe(413);
    expect(over.json.overLimit.message).toMatch(/jobs queued or running/);
    const [other] = await insertBackups(env.t.db, [{ project_id: P2 }]);
    expect((await env.call('POST', `/backups/${other}/action`, P2, { 'os-verify': {} })).status).toBe(202);
  });

  it('the progress extension computes percent and rate from the stored counters', async () => {
    const t0 = new Date(Date.now() - 10_000);
    const [id] = await insertBackups(env.t.db, [
      {
        project_id: P1,
        status: 'creating',
        progress_operation: 'backup',
        progress_bytes_done: 250,
        progress_bytes_total: 1000,
        progress_started_at: t0,
        progress_updated_at: new Date(t0.getTime() + 5000),
      },
    ]);
    const r = await env.call('GET', `/backups/${id}/progress`, P1);
    expect(r.json.progress).toMatchObject({
      backup_id: id,
      status: 'creating',
      operation: 'backup',
      percent: 25,
      bytes_done: 250,
      bytes_total: 1000,
      rate_bytes_per_sec: 50,
    });
  });

  it('the chain extension walks parent links: what a restore needs, the children, and no other volume or project', async () => {
    const vol = randomUUID();
    const [full] = await insertBackups(env.t.db, [{ project_id: P1, volume_id: vol, stored_bytes: 1000 }]);
    const [inc1] = await insertBackups(env.t.db, [
      { project_id: P1, volume_id: vol, parent_id: full, created_at: new Date(Date.UTC(2026, 0, 2)) },
    ]);
    const [inc2a, inc2b] = await insertBackups(env.t.db, [
      { project_id: P1, volume_id: vol, parent_id: inc1, created_at: new Date(Date.UTC(2026, 0, 3)) },
      { project_id: P1, volume_id: vol, parent_id: inc1, created_at: new Date(Date.UTC(2026, 0, 4)) },
    ]);
    await insertBackups(env.t.db, [{ project_id: P1 }, { project_id: P2, volume_id: vol }]);
    const r = await env.call('GET', `/backups/${inc2a}/chain`, P1);
    expect(r.status).toBe(200);
    expect(r.json.chain).toMatchObject({ backup_id: inc2a, volume_id: vol, needed_to_restore: [full, inc1, inc2a], children: [] });
    expect(r.json.chain.backups.map((b: { id: string }) => b.id)).toEqual([full, inc1, inc2a, inc2b]);
    expect(r.json.chain.backups[0]).toMatchObject({ parent_id: null, stored_bytes: 1000, status: 'available' });
    const mid = await env.call('GET', `/backups/${inc1}/chain`, P1);
    expect(mid.json.chain).toMatchObject({ needed_to_restore: [full, inc1], children: [inc2a, inc2b] });
  });

  it('limits report the backup quotas and usage', async () => {
    const r = await env.call('GET', '/limits', P2);
    expect(r.status).toBe(200);
    expect(Object.keys(r.json.limits.absolute).sort()).toEqual([
      'maxTotalBackupGigabytes',
      'maxTotalBackups',
      'maxTotalSnapshots',
      'maxTotalVolumeGigabytes',
      'maxTotalVolumes',
      'totalBackupGigabytesUsed',
      'totalBackupsUsed',
      'totalGigabytesUsed',
      'totalSnapshotsUsed',
      'totalVolumesUsed',
    ]);
    expect(r.json.limits.absolute.maxTotalBackups).toBe(10);
    expect(r.json.limits.absolute.totalBackupsUsed).toBeGreaterThanOrEqual(1);
  });
});

describe('backups API for a reader', () => {
  let env: BackupTestEnv;
  beforeAll(async () => {
    env = await backupTestEnv({ NOAUTH_ROLES: 'reader' });
  });
  afterAll(async () => env.close());

  it('a reader may list and show but not create, update, delete or restore', async () => {
    const vol = await makeVolume(env, P1);
    const [id] = await insertBackups(env.t.db, [{ project_id: P1 }]);
    expect((await env.call('GET', `/backups/${id}`, P1)).status).toBe(200);
    expect((await env.call('GET', '/backups', P1)).status).toBe(200);
    const c = await env.call('POST', '/backups', P1, { backup: { volume_id: vol } });
    expect(c.status).toBe(403);
    expect(c.json.forbidden.message).toBe("Policy doesn't allow backup:create to be performed.");
    expect((await env.call('PUT', `/backups/${id}`, P1, { backup: { name: 'x' } }, '3.9')).status).toBe(403);
    expect((await env.call('DELETE', `/backups/${id}`, P1)).status).toBe(403);
    expect((await env.call('POST', `/backups/${id}/restore`, P1, { restore: null })).status).toBe(403);
    expect(await env.t.db.selectFrom('backups').select('id').where('volume_id', '=', vol).execute()).toEqual([]);
  });
});
