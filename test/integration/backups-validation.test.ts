import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type BackupTestEnv, P1, backupTestEnv, insertBackups, makeVolume } from './backups-fixtures.js';

/** Bad input of every field is a 400 Cinder body; generated bodies never produce a 500 or change the DB when refused. */

const long = 'x'.repeat(256);
// Case tables are built before beforeAll runs: a well-formed id (the schema fails before any lookup).
const VOL = 'e0e0e0e0-0000-4000-8000-000000000000';

describe('backup request validation', () => {
  let env: BackupTestEnv;
  let vol: string;
  let backupId: string;
  beforeAll(async () => {
    env = await backupTestEnv({ QUOTA_BACKUPS: '-1', QUOTA_VOLUMES: '-1', QUOTA_GIGABYTES: '-1' });
    vol = await makeVolume(env, P1);
    [backupId] = (await insertBackups(env.t.db, [{ project_id: P1 }])) as [string];
  });
  afterAll(async () => env.close());

  const state = async () => {
    const backups = await env.t.db
      .selectFrom('backups')
      .select(['id', 'status', 'display_name', 'display_description'])
      .orderBy('id')
      .execute();
    const meta = await env.t.db.selectFrom('backup_metadata').selectAll().orderBy('backup_id').orderBy('key').execute();
    const jobs = await env.t.db.selectFrom('jobs').select('id').execute();
    const vols = await env.t.db.selectFrom('volumes').select(['id', 'status']).orderBy('id').execute();
    return JSON.stringify({ backups, meta, jobs: jobs.length, vols });
  };

  const createCases: Array<[string, unknown, string?]> = [
    ['volume_id missing', { backup: {} }],
    ['volume_id a number', { backup: { volume_id: 123 } }],
    ['volume_id not a uuid', { backup: { volume_id: 'abc' } }, "'abc' is not a 'uuid'"],
    ['volume_id null', { backup: { volume_id: null } }],
    ['name too long', { backup: { volume_id: '', name: long } }],
    ['name a number', { backup: { volume_id: VOL, name: 5 } }],
    ['name an object', { backup: { volume_id: VOL, name: {} } }],
    ['description with a newline', { backup: { volume_id: VOL, description: 'a\nb' } }],
    ['description with an emoji', { backup: { volume_id: VOL, description: 'a😀' } }],
    ['description too long', { backup: { volume_id: VOL, description: long } }],
    ['container too long', { backup: { volume_id: VOL, container: long } }],
    ['container a list', { backup: { volume_id: VOL, container: [] } }],
    ['incremental not a boolean', { backup: { volume_id: VOL, incremental: 'maybe' } }],
    ['incremental a number', { backup: { volume_id: VOL, incremental: 2 } }],
    ['force an object', { backup: { volume_id: VOL, force: {} } }],
    ['snapshot_id not a uuid', { backup: { volume_id: VOL, snapshot_id: 'snap' } }],
    ['an unknown key', { backup: { volume_id: VOL, foo: 1 } }, "Additional properties are not allowed ('foo' was unexpected)"],
    ['an unknown envelope key', { backup: { volume_id: VOL }, other: {} }],
    ['backup null', { backup: null }],
    ['backup a string', { backup: 'x' }],
    ['an array body', [1, 2]],
  ];
  it.each(createCases)('create with %s is a 400', async (_name, body, message) => {
    const before = await state();
    const r = await env.call('POST', '/backups', P1, body);
    expect(r.status).toBe(400);
    expect(r.json.badRequest.code).toBe(400);
    expect(r.json.badRequest.message).toMatch(/^Invalid input for field\/attribute|^Malformed request body/);
    if (message) expect(r.json.badRequest.message).toContain(message);
    expect(await state()).toBe(before);
  });

  it.each<[string, unknown]>([
    ['metadata a string', { backup: { volume_id: VOL, metadata: 'x' } }],
    ['metadata with a bad key', { backup: { volume_id: VOL, metadata: { 'bad!key': 'v' } } }],
    ['metadata with a number value', { backup: { volume_id: VOL, metadata: { k: 1 } } }],
    ['metadata with a long value', { backup: { volume_id: VOL, metadata: { k: long } } }],
    ['availability_zone a number', { backup: { volume_id: VOL, availability_zone: 5 } }],
    ['availability_zone too long', { backup: { volume_id: VOL, availability_zone: long } }],
  ])('create at 3.51 with %s is a 400', async (_name, body) => {
    const r = await env.call('POST', '/backups', P1, body, '3.51');
    expect(r.status).toBe(400);
    expect(r.json.badRequest.message).toMatch(/^Invalid input for field\/attribute/);
  });

  it.each<[string, string, string, unknown, string?]>([
    ['update with backup null', 'PUT', 'u', { backup: null }, '3.43'],
    ['update with a long name', 'PUT', 'u', { backup: { name: long } }, '3.9'],
    ['update with metadata null', 'PUT', 'u', { backup: { metadata: null } }, '3.43'],
    ['update with an unknown key', 'PUT', 'u', { backup: { size: 3 } }, '3.9'],
    ['restore with a bad volume_id', 'POST', 'r', { restore: { volume_id: 'abc' } }],
    ['restore with a long name', 'POST', 'r', { restore: { name: long } }],
    ['restore with an unknown key', 'POST', 'r', { restore: { force: true } }],
    ['restore with a number', 'POST', 'r', { restore: 5 }],
    ['reset without status', 'POST', 'a', { 'os-reset_status': {} }],
    ['reset with a numeric status', 'POST', 'a', { 'os-reset_status': { status: 5 } }],
    ['an action body with two keys', 'POST', 'a', { 'os-force_delete': {}, 'os-verify': {} }],
    ['an action body that is a list', 'POST', 'a', [] as unknown],
    ['import without backup_service', 'POST', 'i', { 'backup-record': { backup_url: 'eyJ9' } }],
    ['import with an empty url', 'POST', 'i', { 'backup-record': { backup_service: 's', backup_url: '' } }],
    ['import with a url that is not base64', 'POST', 'i', { 'backup-record': { backup_service: 's', backup_url: '!!!' } }],
    [
      'import with a url that is not JSON',
      'POST',
      'i',
      { 'backup-record': { backup_service: 's', backup_url: Buffer.from('nope').toString('base64') } },
    ],
    [
      'import of a record without id',
      'POST',
      'i',
      { 'backup-record': { backup_service: 's', backup_url: Buffer.from('{"size": 1}').toString('base64') } },
    ],
  ])('%s is a 400', async (_name, method, kind, body, version) => {
    const before = await state();
    const path = {
      u: `/backups/${backupId}`,
      r: `/backups/${backupId}/restore`,
      a: `/backups/${backupId}/action`,
      i: '/backups/import_record',
    }[kind]!;
    const r = await env.call(method, path, ADMIN, body, version);
    expect(r.status).toBe(400);
    expect(Object.keys(r.json)).toEqual(['badRequest']);
    expect(await state()).toBe(before);
  });

  it.each(['', '..', '.', '../etc', '/abs/path', 'a//b', 'a/', 'a\\b', 'volumebackups/volume_x'])(
    'create with the posix container %j is a 400 at once, before any row or job',
    async (container) => {
      const before = await state();
      const r = await env.call('POST', '/backups', P1, { backup: { volume_id: vol, container } });
      expect(r.status).toBe(400);
      expect(r.json.badRequest.message).toMatch(/^Invalid input received: Container name .* is not valid/);
      expect(await state()).toBe(before);
    },
  );

  it('a posix container may not hold another container the service wrote into', async () => {
    await env.t.db
      .insertInto('backup_prefixes')
      .values({ container: 'tenant/inner', prefix: 'volume_x/1/az_nova_backup_x', backup_id: VOL })
      .execute();
    const r = await env.call('POST', '/backups', P1, { backup: { volume_id: vol, container: 'tenant' } });
    expect(r.status).toBe(400);
    expect(r.json.badRequest.message).toContain('overlaps container "tenant/inner"');
    const ok = await env.call('POST', '/backups', P1, { backup: { volume_id: vol, container: 'tenant/inner' } });
    expect(ok.status).toBe(202);
  });

  it('a non-uuid backup id in the path is a 404, not a database error', async () => {
    for (const [m, p] of [
      ['GET', '/backups/zzz'],
      ['DELETE', '/backups/zzz'],
      ['GET', '/backups/zzz/progress'],
      ['GET', '/backups/zzz/export_record'],
    ] as const) {
      const r = await env.call(m, p, ADMIN);
      expect(r.status, `${m} ${p}`).toBe(404);
      expect(r.json.itemNotFound.message).toBe('Backup zzz could not be found.');
    }
  });

  it('generated bodies for create, update, restore and actions never cause a 500 and leave the DB unchanged when refused', async () => {
    const keys = [
      'volume_id',
      'name',
      'description',
      'container',
      'incremental',
      'force',
      'snapshot_id',
      'metadata',
      'availability_zone',
      'volume_id',
      'status',
      'extra',
    ];
    const value = fc.oneof(fc.jsonValue(), fc.constantFrom(vol, backupId, 'true', 'no', null, '', long, 'a\u0000b'));
    const inner = fc.oneof(fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 5 }), fc.jsonValue());
    const target = fc.constantFrom(
      ['POST', '/backups', 'backup'],
      ['PUT', `/backups/${backupId}`, 'backup'],
      ['POST', `/backups/${backupId}/restore`, 'restore'],
      ['POST', `/backups/${backupId}/action`, 'os-reset_status'],
      ['POST', `/backups/${backupId}/action`, 'os-verify'],
      ['POST', '/backups/import_record', 'backup-record'],
    );
    const version = fc.constantFrom(undefined, '3.9', '3.43', '3.51', '3.70');
    const project = fc.constantFrom(P1, ADMIN);
    await fc.assert(
      fc.asyncProperty(target, inner, version, project, fc.boolean(), async ([method, path, envelope], body, v, who, wrap) => {
        const before = await state();
        const r = await env.call(method!, path!, who, wrap ? { [envelope!]: body } : body, v);
        expect(r.status).toBeLessThan(500);
        if (r.status >= 400) {
          expect(Object.keys(r.json)).toHaveLength(1);
          expect(await state()).toBe(before);
        }
      }),
      { numRuns: 300, seed: 4242 },
    );
  }, 120_000);
});

describe('strict backup names (STRICT_BACKUP_NAMES=true)', () => {
  let env: BackupTestEnv;
  beforeAll(async () => {
    env = await backupTestEnv({ STRICT_BACKUP_NAMES: 'true' });
  });
  afterAll(async () => env.close());

  it('create and update refuse names outside 1-64 letters, digits, _ and -, or starting with auto', async () => {
    const vol = await makeVolume(env, P1);
    for (const name of ['auto_daily', 'has space', 'x'.repeat(65), 'dots.not.allowed']) {
      const r = await env.call('POST', '/backups', P1, { backup: { volume_id: vol, name } });
      expect(r.status, name).toBe(400);
      expect(r.json.badRequest.message).toContain('Invalid input for field/attribute name.');
    }
    const ok = await env.call('POST', '/backups', P1, { backup: { volume_id: vol, name: 'backup1' } });
    expect(ok.status).toBe(202);
    const upd = await env.call('PUT', `/backups/${ok.json.backup.id}`, P1, { backup: { name: 'autoX' } }, '3.9');
    expect(upd.status).toBe(400);
  });
});
