import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type BackupTestEnv, P1, P2, backupTestEnv, insertBackups, makeSnapshot, makeVolume } from './backups-fixtures.js';

/** Backup quotas (413 overLimit with Retry-After 0), os-quota-sets show/update/defaults, limits. */

describe('quotas', () => {
  let env: BackupTestEnv;
  beforeAll(async () => {
    env = await backupTestEnv({ QUOTA_BACKUPS: '3', QUOTA_BACKUP_GIGABYTES: '5' });
  });
  afterAll(async () => env.close());

  it('the backups count quota refuses the next create with 413 overLimit, Retry-After 0, and nothing written', async () => {
    await insertBackups(env.t.db, [{ project_id: P1 }, { project_id: P1 }, { project_id: P1, status: 'error' }]);
    const vol = await makeVolume(env, P1);
    const r = await env.call('POST', '/backups', P1, { backup: { volume_id: vol } });
    expect(r.status).toBe(413);
    expect(r.headers['retry-after']).toBe('0');
    expect(r.json).toEqual({
      overLimit: { code: 413, message: 'BackupLimitExceeded: Maximum number of backups allowed (3) exceeded', retryAfter: '0' },
    });
    const v = await env.t.db.selectFrom('volumes').select('status').where('id', '=', vol).executeTakeFirstOrThrow();
    expect(v.status).toBe('available');
    expect(await env.t.db.selectFrom('jobs').select('id').execute()).toEqual([]);
  });

  it('the backup_gigabytes quota counts the volume size', async () => {
    const vol = await makeVolume(env, P2, { size: 6 });
    const r = await env.call('POST', '/backups', P2, { backup: { volume_id: vol } });
    expect(r.status).toBe(413);
    expect(r.json.overLimit.message).toBe(
      'VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed Backup gigabytes quota. Requested 6G, quota is 5G and 0G has been consumed.',
    );
  });

  it('import is counted against the quota too', async () => {
    const record = Buffer.from(JSON.stringify({ id: '5d5d5d5d-0000-4000-8000-000000000001', size: 1 })).toString('base64');
    await insertBackups(env.t.db, [{ project_id: ADMIN }, { project_id: ADMIN }, { project_id: ADMIN }]);
    const r = await env.call('POST', '/backups/import_record', ADMIN, {
      'backup-record': { backup_service: 'cinder.backup.drivers.posix', backup_url: record },
    });
    expect(r.status).toBe(413);
  });

  it('os-quota-sets shows limits, usage=true shows in_use, admins update, members may not', async () => {
    const show = await env.call('GET', `/os-quota-sets/${P1}`, P1);
    expect(show.status).toBe(200);
    expect(show.json.quota_set).toMatchObject({
      id: P1,
      backups: 3,
      backup_gigabytes: 5,
      volumes: 10,
      snapshots: 10,
      gigabytes: 1000,
      groups: 10,
      per_volume_gigabytes: -1,
    });
    const usage = await env.call('GET', `/os-quota-sets/${P1}?usage=true`, P1);
    expect(usage.json.quota_set.backups).toEqual({ limit: 3, in_use: 3, reserved: 0 });
    expect(usage.json.quota_set.backup_gigabytes).toEqual({ limit: 5, in_use: 3, reserved: 0 });
    expect((await env.call('GET', `/os-quota-sets/${P2}`, P1)).status).toBe(403);
    expect((await env.call('PUT', `/os-quota-sets/${P1}`, P1, { quota_set: { backups: 50 } })).status).toBe(403);
    const upd = await env.call('PUT', `/os-quota-sets/${P1}`, ADMIN, { quota_set: { backups: 4, backup_gigabytes: '-1' } });
    expect(upd.status).toBe(200);
    expect(upd.json.quota_set).toMatchObject({ backups: 4, backup_gigabytes: -1 });
    expect((await env.call('PUT', `/os-quota-sets/${P1}`, ADMIN, { quota_set: { backups: -2 } })).status).toBe(400);
    expect((await env.call('PUT', `/os-quota-sets/${P1}`, ADMIN, { quota_set: { bogus: 1 } })).json.badRequest.message).toBe(
      'Bad key(s) in quota set: bogus',
    );
    const defaults = await env.call('GET', `/os-quota-sets/${P1}/defaults`, P1);
    expect(defaults.json.quota_set).toMatchObject({ backups: 3, backup_gigabytes: 5 });
    // Raised quota: the next create fits.
    const vol = await makeVolume(env, P1);
    expect((await env.call('POST', '/backups', P1, { backup: { volume_id: vol } })).status).toBe(202);
    const limits = await env.call('GET', '/limits', P1);
    expect(limits.json.limits.absolute).toMatchObject({
      maxTotalBackups: 4,
      maxTotalBackupGigabytes: -1,
      totalBackupsUsed: 4,
      totalBackupGigabytesUsed: 4,
    });
  });

  it('two concurrent creates cannot both take the last quota slot', async () => {
    await env.call('PUT', `/os-quota-sets/${P2}`, ADMIN, { quota_set: { backups: 1, backup_gigabytes: -1 } });
    const [a, b] = [await makeVolume(env, P2), await makeVolume(env, P2)];
    const results = await Promise.all([a, b].map((v) => env.call('POST', '/backups', P2, { backup: { volume_id: v } })));
    expect(results.map((r) => r.status).sort()).toEqual([202, 413]);
  });

  it('limits: admins read another project with project_id from 3.39; members and older versions get their own', async () => {
    await env.call('PUT', `/os-quota-sets/${P2}`, ADMIN, { quota_set: { backups: 7 } });
    expect((await env.call('GET', `/limits?project_id=${P2}`, ADMIN, undefined, '3.39')).json.limits.absolute.maxTotalBackups).toBe(7);
    expect((await env.call('GET', `/limits?project_id=${P2}`, ADMIN, undefined, '3.38')).json.limits.absolute.maxTotalBackups).toBe(3);
    expect((await env.call('GET', `/limits?project_id=${P2}`, P1, undefined, '3.39')).json.limits.absolute.maxTotalBackups).toBe(4);
  });
});

// Cinder's QuotaError is `safe`: FaultWrapper prints "<ExceptionClass>: <message>"; only the
// restore API catches the volume quota exceptions and answers with the bare message.
// (Found by the acceptance suite: `cinder create 5001` lacked "VolumeSizeExceedsAvailableQuota: ".)
describe('quota messages as Cinder renders them', () => {
  let env: BackupTestEnv;
  beforeAll(async () => {
    env = await backupTestEnv({ QUOTA_GIGABYTES: '10', QUOTA_VOLUMES: '3', QUOTA_SNAPSHOTS: '1' });
  });
  afterAll(async () => env.close());

  const overLimit = (message: string) => ({ overLimit: { code: 413, message, retryAfter: '0' } });

  it('volume create over gigabytes and over the volume count name the exception class', async () => {
    const big = await env.call('POST', '/volumes', P1, { volume: { size: 11 } });
    expect(big.status).toBe(413);
    expect(big.headers['retry-after']).toBe('0');
    expect(big.json).toEqual(
      overLimit(
        'VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested 11G, quota is 10G and 0G has been consumed.',
      ),
    );
    for (let i = 0; i < 3; i++) await makeVolume(env, P2);
    expect((await env.call('POST', '/volumes', P2, { volume: { size: 1 } })).json).toEqual(
      overLimit("VolumeLimitExceeded: Maximum number of volumes allowed (3) exceeded for quota 'volumes'."),
    );
  });

  it('snapshot create over the snapshot count and over gigabytes name the exception class', async () => {
    const vol = await makeVolume(env, P1, { size: 6 });
    const first = await env.call('POST', '/snapshots', P1, { snapshot: { volume_id: vol } });
    expect(first.json).toEqual(
      overLimit(
        'VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested 6G, quota is 10G and 6G has been consumed.',
      ),
    );
    const small = await makeVolume(env, ADMIN);
    await makeSnapshot(env, ADMIN, small);
    expect((await env.call('POST', '/snapshots', ADMIN, { snapshot: { volume_id: small } })).json).toEqual(
      overLimit('SnapshotLimitExceeded: Maximum number of snapshots allowed (1) exceeded'),
    );
  });

  it('restore into a new volume over gigabytes answers the bare message, a volume from that backup (3.47) the class', async () => {
    const [backup] = await insertBackups(env.t.db, [{ project_id: P1, size: 5, container: 'c', service: 'cinder.backup.drivers.s3' }]);
    const restore = await env.call('POST', `/backups/${backup}/restore`, P1, { restore: { name: 'r' } });
    expect(restore.status).toBe(413);
    expect(restore.json).toEqual(
      overLimit('Requested volume or snapshot exceeds allowed gigabytes quota. Requested 5G, quota is 10G and 6G has been consumed.'),
    );
    const fromBackup = await env.call('POST', '/volumes', P1, { volume: { size: 5, backup_id: backup } }, '3.47');
    expect(fromBackup.json).toEqual(
      overLimit(
        'VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested 5G, quota is 10G and 6G has been consumed.',
      ),
    );
  });
});

// What the real clients send: cinderclient puts `tenant_id` in every quota set; the quota
// class `default` is what a project without overrides gets.
describe('quota updates as the clients send them, and the default quota class', () => {
  let env: BackupTestEnv;
  const P3 = '33333333333333333333333333333333';
  beforeAll(async () => {
    env = await backupTestEnv({ QUOTA_BACKUPS: '3', QUOTA_VOLUMES: '4' });
  });
  afterAll(async () => env.close());

  it('skips the non-quota keys tenant_id and id in a quota set (cinder quota-update)', async () => {
    const upd = await env.call('PUT', `/os-quota-sets/${P1}`, ADMIN, { quota_set: { tenant_id: P1, backups: 1 } });
    expect(upd.status, JSON.stringify(upd.json)).toBe(200);
    expect(upd.json.quota_set).toMatchObject({ backups: 1, volumes: 4 });
    const withId = await env.call('PUT', `/os-quota-sets/${P1}`, ADMIN, { quota_set: { id: P1, tenant_id: P1, volumes: '7' } });
    expect(withId.json.quota_set).toMatchObject({ backups: 1, volumes: 7 });
    expect((await env.call('PUT', `/os-quota-sets/${P1}`, ADMIN, { quota_set: { tenant_id: P1, bogus: 1 } })).json.badRequest.message).toBe(
      'Bad key(s) in quota set: bogus',
    );
  });

  it('GET os-quota-class-sets/default shows the configured defaults with id "default"; members get 403', async () => {
    const res = await env.call('GET', '/os-quota-class-sets/default', ADMIN);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      quota_class_set: {
        id: 'default',
        volumes: 4,
        snapshots: 10,
        gigabytes: 1000,
        backups: 3,
        backup_gigabytes: 1000,
        groups: 10,
        per_volume_gigabytes: -1,
      },
    });
    const member = await env.call('GET', '/os-quota-class-sets/default', P2);
    expect(member.status).toBe(403);
    expect(member.json.forbidden.message).toBe("Policy doesn't allow volume_extension:quota_classes to be performed.");
    expect((await env.call('PUT', '/os-quota-class-sets/default', P2, { quota_class_set: { backups: 9 } })).status).toBe(403);
  });

  it('PUT os-quota-class-sets/default (admin) changes what projects without overrides get; other keys are skipped', async () => {
    const upd = await env.call('PUT', '/os-quota-class-sets/default', ADMIN, {
      quota_class_set: { backups: 5, volumes: '6', class_name: 'default', bogus: 1 },
    });
    expect(upd.status, JSON.stringify(upd.json)).toBe(200);
    expect(upd.json.quota_class_set).toMatchObject({ backups: 5, volumes: 6, snapshots: 10 });
    expect((await env.call('GET', `/os-quota-sets/${P3}`, P3)).json.quota_set).toMatchObject({ backups: 5, volumes: 6 });
    expect((await env.call('GET', `/os-quota-sets/${P3}/defaults`, P3)).json.quota_set).toMatchObject({ id: P3, backups: 5, volumes: 6 });
    expect((await env.call('GET', '/limits', P3)).json.limits.absolute).toMatchObject({ maxTotalBackups: 5, maxTotalVolumes: 6 });
    // A project's own override still wins.
    expect((await env.call('GET', `/os-quota-sets/${P1}`, P1)).json.quota_set).toMatchObject({ backups: 1, volumes: 7 });
    expect((await env.call('GET', '/os-quota-class-sets/default', ADMIN)).json.quota_class_set).toMatchObject({ backups: 5, volumes: 6 });
  });

  it('refuses a quota class value that is not an integer or below -1', async () => {
    const text = await env.call('PUT', '/os-quota-class-sets/default', ADMIN, { quota_class_set: { backups: 'many' } });
    expect(text.status).toBe(400);
    expect(text.json.badRequest.message).toBe('Invalid input received: backups must be an integer.');
    const small = await env.call('PUT', '/os-quota-class-sets/default', ADMIN, { quota_class_set: { volumes: -2 } });
    expect(small.json.badRequest.message).toBe('Invalid input received: volumes must be >= -1');
    expect((await env.call('PUT', '/os-quota-class-sets/default', ADMIN, {})).status).toBe(400);
  });

  it('DELETE os-quota-sets/{project} (admin, cinder quota-delete) drops its overrides', async () => {
    expect((await env.call('DELETE', `/os-quota-sets/${P1}`, P1)).status).toBe(403);
    const del = await env.call('DELETE', `/os-quota-sets/${P1}`, ADMIN);
    expect(del.status).toBe(200);
    expect((await env.call('GET', `/os-quota-sets/${P1}`, P1)).json.quota_set).toMatchObject({ backups: 5, volumes: 6 });
  });
});
