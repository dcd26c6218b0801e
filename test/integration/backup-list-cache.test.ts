import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createDb } from '../../src/db/connection.js';
import { saveProgress, transitionBackup } from '../../src/db/backups-repository.js';
import type { Database } from '../../src/db/schema.js';
import { PageCache } from '../../src/domain/common/page-cache.js';
import { ADMIN, type BackupTestEnv, P1, P2, backupTestEnv, insertBackups, makeVolume, runJob } from './backups-fixtures.js';

/**
 * The backup list page cache (LIST_CACHE_BYTES, domain/common/list-cache.ts) never serves a
 * stale page: after every kind of change (create, the backup job, a progress update, rename,
 * metadata, a status compare-and-set, delete and its job, rows removed in SQL) the next list
 * through two cached app instances (each with its own cache and its own connection pool, as two
 * API processes on one database) is byte for byte the uncached one, and shows the change.
 * The last test turns the version triggers off and shows that the same check then catches a
 * stale page: these tests fail if invalidation is removed.
 */

const MiB = 1024 * 1024;

describe('the backup list page cache', () => {
  let env: BackupTestEnv;
  let a: FastifyInstance;
  let b: FastifyInstance;
  let bDb: Kysely<Database>;
  const cacheA = new PageCache(32 * MiB);
  const cacheB = new PageCache(32 * MiB);
  let ids: string[] = [];

  beforeAll(async () => {
    env = await backupTestEnv({ LIST_CACHE_BYTES: '0', QUOTA_BACKUPS: '-1', QUOTA_BACKUP_GIGABYTES: '-1', QUOTA_VOLUMES: '-1' });
    const config = Object.freeze({ ...env.config, LIST_CACHE_BYTES: 32 * MiB });
    a = await buildApp({ ...env.deps, config, listCache: cacheA });
    bDb = createDb({ url: env.t.url, poolSize: 3 });
    b = await buildApp({ ...env.deps, db: bDb, config, listCache: cacheB });
    await Promise.all([a.ready(), b.ready()]);
    ids = await insertBackups(
      env.t.db,
      Array.from({ length: 24 }, (_, i) => ({ project_id: i % 4 === 3 ? P2 : P1, display_name: `b-${i}` })),
    );
    await env.t.db
      .insertInto('backup_metadata')
      .values(ids.slice(0, 6).map((id, i) => ({ backup_id: id, key: `k${i}`, value: `v${i}` })))
      .execute();
    // The admin's own project has rows (and so a version) too: its pages would be cacheable.
    await insertBackups(
      env.t.db,
      Array.from({ length: 10 }, (_, i) => ({ project_id: ADMIN, display_name: `admin-${i}` })),
    );
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await bDb?.destroy();
    await env?.close();
  });

  const headers = (project: string, version?: string) => ({
    'x-auth-token': `u${project.slice(0, 7)}:${project}`,
    ...(version ? { 'openstack-api-version': `volume ${version}` } : {}),
  });

  const PAGES: Array<[string, string | undefined]> = [
    ['backups/detail', undefined],
    ['backups/detail', '3.64'],
    ['backups/detail?limit=5', '3.43'],
    ['backups/detail?limit=4&sort=name:asc', '3.45'],
    ['backups/detail?with_count=true&limit=3', '3.64'],
    ['backups/detail?status=available', '3.64'],
    ['backups?limit=7', undefined],
    ['backups', '3.64'],
  ];

  /** Every page as P1 (and P2's first) through the uncached app and both cached ones: the same bytes. Returns P1's full detail list. */
  async function same(label: string): Promise<any[]> {
    let full: any[] = [];
    for (const project of [P1, P2])
      for (const [path, version] of project === P1 ? PAGES : PAGES.slice(0, 1)) {
        const url = `/v3/${project}/${path}`;
        const want = await env.app.inject({ method: 'GET', url, headers: headers(project, version) });
        expect(want.statusCode, url).toBe(200);
        for (const app of [a, b]) {
          const got = await app.inject({ method: 'GET', url, headers: headers(project, version) });
          expect(got.statusCode, `${label}: ${url}`).toBe(200);
          expect(got.headers['content-type'], `${label}: ${url}`).toBe(want.headers['content-type']);
          expect(got.body, `${label}: ${url} at ${version ?? '3.0'}`).toBe(want.body);
        }
        if (project === P1 && path === 'backups/detail' && version === '3.64') full = JSON.parse(want.body).backups;
      }
    return full;
  }

  const find = (list: any[], id: string) => list.find((x) => x.id === id);

  it('serves repeated pages from the cache, the same bytes as uncached', async () => {
    await same('first');
    const hits = cacheA.hits + cacheB.hits;
    await same('again');
    expect(cacheA.hits + cacheB.hits - hits).toBe(2 * (PAGES.length + 1));
    expect(cacheA.size).toBeGreaterThan(0);
    expect(cacheA.size).toBeLessThanOrEqual(32 * MiB);
  });

  it('shows a created backup, its job moving it to available, and nothing changes on progress writes', async () => {
    await same('warm');
    const vol = await makeVolume(env, P1);
    const created = await a.inject({
      method: 'POST',
      url: `/v3/${P1}/backups`,
      headers: headers(P1),
      payload: { backup: { volume_id: vol, name: 'fresh' } },
    });
    expect(created.statusCode).toBe(202);
    const id = JSON.parse(created.body).backup.id as string;
    expect(find(await same('after create'), id)).toMatchObject({ name: 'fresh', status: 'creating' });
    await runJob(env, 'backup', id);
    expect(find(await same('after the backup job'), id)).toMatchObject({ status: 'available' });

    // Progress columns are not shown by any list: the version stays and the pages stay cached.
    const version = async () =>
      (await env.t.db.selectFrom('list_versions').select('version').where('project_id', '=', P1).executeTakeFirst())?.version;
    const before = await version();
    const hits = cacheA.hits;
    await saveProgress(env.t.db, id, 5, 10, { phase: 'reading', bytesRead: 5, bytesStored: 1, rateBytesPerSec: 3 });
    expect(await version()).toBe(before);
    await same('after a progress write');
    expect(cacheA.hits - hits).toBe(PAGES.length + 1);
  }, 60_000);

  it('a rename or a metadata change through one instance is seen at once through the other', async () => {
    const id = ids[0]!;
    await same('warm');
    const renamed = await b.inject({
      method: 'PUT',
      url: `/v3/${P1}/backups/${id}`,
      headers: headers(P1, '3.9'),
      payload: { backup: { name: 'renamed-via-b' } },
    });
    expect(renamed.statusCode).toBe(200);
    const viaA = await a.inject({ method: 'GET', url: `/v3/${P1}/backups/detail`, headers: headers(P1, '3.64') });
    expect(find(JSON.parse(viaA.body).backups, id).name).toBe('renamed-via-b');
    expect(find(await same('after rename'), id).name).toBe('renamed-via-b');

    const meta = await a.inject({
      method: 'PUT',
      url: `/v3/${P1}/backups/${id}`,
      headers: headers(P1, '3.43'),
      payload: { backup: { metadata: { fresh: 'yes' } } },
    });
    expect(meta.statusCode).toBe(200);
    const viaB = await b.inject({ method: 'GET', url: `/v3/${P1}/backups/detail`, headers: headers(P1, '3.64') });
    expect(find(JSON.parse(viaB.body).backups, id).metadata).toEqual({ fresh: 'yes' });
    expect(find(await same('after metadata'), id).metadata).toEqual({ fresh: 'yes' });

    // A metadata row changed alone, in SQL.
    await env.t.db.updateTable('backup_metadata').set({ value: 'changed' }).where('backup_id', '=', id).execute();
    expect(find(await same('after a metadata row update'), id).metadata).toEqual({ fresh: 'changed' });
    await env.t.db.deleteFrom('backup_metadata').where('backup_id', '=', id).execute();
    expect(find(await same('after a metadata row delete'), id).metadata).toEqual({});
  });

  it('shows status compare-and-sets, a delete and its job, and rows removed in SQL', async () => {
    const [x, y, z] = [ids[1]!, ids[2]!, ids[4]!];
    await same('warm');
    expect(await transitionBackup(env.t.db, x, ['available'], { status: 'error', fail_reason: 'boom' })).toBeDefined();
    expect(find(await same('after a status change'), x)).toMatchObject({ status: 'error', fail_reason: 'boom' });

    const del = await b.inject({ method: 'DELETE', url: `/v3/${P1}/backups/${y}`, headers: headers(P1) });
    expect(del.statusCode).toBe(202);
    expect(find(await same('after DELETE'), y)).toMatchObject({ status: 'deleting' });
    await runJob(env, 'delete_backup', y);
    expect(find(await same('after the delete job'), y)).toBeUndefined();

    await env.t.db.deleteFrom('backups').where('id', '=', z).execute();
    expect(find(await same('after a row removed in SQL'), z)).toBeUndefined();
  }, 60_000);

  it('a write still open in a transaction neither blocks other writers of the project nor shows before its commit', async () => {
    const [x, y] = [ids[9]!, ids[10]!];
    await same('warm');
    const open = await env.t.db.startTransaction().execute();
    try {
      await open.updateTable('backups').set({ display_name: 'open-tx' }).where('id', '=', x).execute();
      // The version is written at commit (deferred triggers): another writer of P1 does not wait for this one.
      const other = bDb.updateTable('backups').set({ display_name: 'other-writer' }).where('id', '=', y).execute();
      const waited = await Promise.race([other.then(() => false), new Promise((r) => setTimeout(() => r(true), 3000))]);
      expect(waited, 'the other writer waited for the open transaction').toBe(false);
      const during = await same('while a write is open');
      expect(find(during, x).name).toBe('b-9');
      expect(find(during, y).name).toBe('other-writer');
      await open.commit().execute();
    } catch (err) {
      await open.rollback().execute();
      throw err;
    }
    expect(find(await same('after the commit'), x).name).toBe('open-tx');
  });

  it('never caches all_tenants listings, nor a page after another project`s marker', async () => {
    const admin = async (app: FastifyInstance, url: string) =>
      (await app.inject({ method: 'GET', url: `/v3/${ADMIN}/${url}`, headers: headers(ADMIN, '3.64') })).body;
    const p1Row = ids[5]!;
    const urls = ['backups/detail?all_tenants=1&limit=50', `backups/detail?marker=${p1Row}&all_tenants=0`];
    const size = cacheA.size;
    for (const url of urls) expect(await admin(a, url)).toBe(await admin(env.app, url));
    expect(cacheA.size).toBe(size);
    expect(JSON.parse(await admin(a, urls[1]!)).backups.length).toBeGreaterThan(0);
    // The marker row's sort keys move (another project's row: P1's version, not ADMIN's).
    await sql`UPDATE backups SET created_at = created_at - interval '1 day' WHERE id = ${p1Row}`.execute(env.t.db);
    await env.t.db.updateTable('backups').set({ display_name: 'moved' }).where('id', '=', ids[3]!).execute();
    for (const url of urls) expect(await admin(a, url)).toBe(await admin(env.app, url));
  });

  it('with the version triggers off, the same check sees the stale page (the tests above depend on invalidation)', async () => {
    await same('warm');
    const id = ids[6]!;
    await sql`ALTER TABLE backups DISABLE TRIGGER backups_list_version_upd`.execute(env.t.db);
    try {
      await env.t.db.updateTable('backups').set({ display_name: 'unseen' }).where('id', '=', id).execute();
      const stale = await a.inject({ method: 'GET', url: `/v3/${P1}/backups/detail`, headers: headers(P1, '3.64') });
      const fresh = await env.app.inject({ method: 'GET', url: `/v3/${P1}/backups/detail`, headers: headers(P1, '3.64') });
      expect(find(JSON.parse(fresh.body).backups, id).name).toBe('unseen');
      expect(stale.body).not.toBe(fresh.body);
      await expect(same('without triggers')).rejects.toThrow();
    } finally {
      await sql`ALTER TABLE backups ENABLE TRIGGER backups_list_version_upd`.execute(env.t.db);
    }
  });
});
