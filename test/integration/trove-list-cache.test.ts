import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as troveMigration from '../../migrations/20261207_0100_list_versions_trove.js';
import { buildApp } from '../../src/app.js';
import { createDb } from '../../src/db/connection.js';
import type { Database, NewTroveBackupRow } from '../../src/db/schema.js';
import { transitionTroveBackup } from '../../src/db/trove-backups-repository.js';
import { PageCache } from '../../src/domain/common/page-cache.js';
import { DATASTORE, DATASTORE_VERSION } from '../../src/domain/trove/catalog.js';
import { troveBackupView } from '../../src/routes/trove/backups.views.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

/**
 * The Trove backup lists (GET /v1.0/{p}/backups, /instances/{id}/backups) through the page cache
 * (LIST_CACHE_BYTES, domain/common/list-cache.ts): every page (limits, offset markers, instance
 * and datastore filters, admin project_id and all_projects, followed next links, link bases)
 * through two cached app instances (each its own cache and connection pool, as two API processes
 * on one database) is byte for byte the uncached one, and the format the route answered before
 * the cache; after every change the lists show (a backup created, its status moving, renamed,
 * deleted, rows written in SQL over another connection, a TRUNCATE) the next page shows it. The
 * policy, the query and the instance are checked on every request. With a trigger off the same
 * check sees the stale page: these tests fail if trove_backups' version bump is removed.
 */

const MiB = 1024 * 1024;
const ADMIN = 'adadadadadadadadadadadadadadadad';
const P1 = '11111111111111111111111111111111';
const P2 = '22222222222222222222222222222222';
const P3 = '33333333333333333333333333333333';
const GiB = 1024 ** 3;
const NAMES = ['nightly', 'q"uote\\back/slash', 'line\u2028sep\u2029', 'emoji \u{1f600} \u4e2d', 'ctl\u0001\u001f', ''];

describe('the Trove backup list page cache', () => {
  let t: TestApp;
  let a: FastifyInstance;
  let b: FastifyInstance;
  let bDb: Kysely<Database>;
  const cacheA = new PageCache(32 * MiB);
  const cacheB = new PageCache(32 * MiB);
  const I = { a: randomUUID(), b: randomUUID(), p2: randomUUID(), admin: randomUUID(), gone: randomUUID() };

  const backupRow = (i: number, over: Partial<NewTroveBackupRow> = {}): NewTroveBackupRow => ({
    id: randomUUID(),
    project_id: i % 5 === 4 ? P2 : i % 7 === 6 ? ADMIN : P1,
    user_id: 'u1',
    instance_id: [I.a, I.b, I.gone][i % 3]!,
    name: `${NAMES[i % NAMES.length]}${i % 4 ? i : ''}`,
    description: i % 4 === 0 ? null : `d"\\/\u2028${i}`,
    status: ['COMPLETED', 'FAILED', 'COMPLETED', 'NEW', 'BUILDING', 'DELETE_FAILED'][i % 6]!,
    parent_id: i % 5 === 2 ? randomUUID() : null,
    datastore_type: DATASTORE.name,
    datastore_version: DATASTORE_VERSION.name,
    datastore_version_id: DATASTORE_VERSION.id,
    size_bytes: [null, 0, 1, 5 * GiB + 7, 123456789][i % 5],
    container: 'database_backups',
    prefix: `trove_${i}/x`,
    // Equal updated_at for several rows (the id breaks the tie), milliseconds that are not shown.
    created_at: new Date(Date.parse('2026-03-01T00:00:00Z') + i * 1000 + (i % 3)),
    updated_at: new Date(Date.parse('2026-03-02T00:00:00Z') + (i % 9) * 1000 + (i % 2) * 500),
    deleted: i % 11 === 10,
    ...over,
  });
  const seed = () =>
    t.t.db
      .insertInto('trove_backups')
      .values(Array.from({ length: 48 }, (_, i) => backupRow(i)))
      .execute();

  beforeAll(async () => {
    t = await createTestApp({ LIST_CACHE_BYTES: '0', NOAUTH_ADMIN_PROJECTS: ADMIN, QUOTA_BACKUPS: '-1', QUOTA_BACKUP_GIGABYTES: '-1' });
    const config = Object.freeze({ ...t.config, LIST_CACHE_BYTES: 32 * MiB });
    a = await buildApp({ ...t.deps, config, listCache: cacheA });
    bDb = createDb({ url: t.t.url, poolSize: 3 });
    b = await buildApp({ ...t.deps, db: bDb, config, listCache: cacheB });
    await Promise.all([a.ready(), b.ready()]);
    const instances: Array<[string, string]> = [
      [I.a, P1],
      [I.b, P1],
      [I.p2, P2],
      [I.admin, ADMIN],
    ];
    await t.t.db
      .insertInto('trove_instances')
      .values(
        instances.map(([id, project], i) => ({
          id,
          project_id: project,
          user_id: 'u1',
          name: `db-${i}`,
          status: 'ACTIVE',
          operating_status: 'HEALTHY',
          flavor_id: '1',
          volume_size: 1,
          datastore_version_id: DATASTORE_VERSION.id,
          host_id: t.config.HOST_ID,
          port: 17001 + i,
        })),
      )
      .execute();
    await seed();
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await bDb?.destroy();
    await t?.close();
  });

  const get = (app: FastifyInstance, project: string, url: string, host?: string) =>
    app.inject({
      method: 'GET',
      url: url.startsWith('/') ? url : `/v1.0/${project}/${url}`,
      headers: { 'x-auth-token': `u1:${project}`, ...(host ? { 'x-forwarded-host': host } : {}) },
    });

  const PAGES = (): Array<[string, string, string?]> => [
    [P1, 'backups'],
    [P1, 'backups?limit=5'],
    [P1, 'backups?limit=1&marker=2'],
    [P1, 'backups?limit=0'],
    [P1, `backups?marker=4&limit=3&instance_id=${I.a}`],
    [P1, `backups?instance_id=${I.b}`],
    [P1, `backups?instance_id=${I.gone}&limit=2`],
    [P1, 'backups?datastore=postgresql&limit=4'],
    [P1, `backups?datastore=${DATASTORE.id}&limit=6`],
    [P1, 'backups?limit=7&unknown=x'],
    [P1, 'backups?all_projects=0&limit=8'],
    [P1, 'backups?marker=1000'],
    [P1, 'backups?limit=1000'],
    [P1, 'backups?limit=5', 'example.org:8779'],
    [P1, 'backups?limit=5', 'a.example, b.example'],
    [P1, `instances/${I.a}/backups`],
    [P1, `instances/${I.a}/backups?limit=3`],
    [P1, `instances/${I.b.toUpperCase()}/backups?limit=2&datastore=mysql`],
    [P2, 'backups?limit=3'],
    [ADMIN, 'backups?limit=4'],
    [ADMIN, `backups?project_id=${P1}&limit=6`],
    [ADMIN, `backups?project_id=${P2}`],
    [ADMIN, 'backups?all_projects=1&limit=9'],
    [ADMIN, `backups?all_projects=true&instance_id=${I.a}`],
    [ADMIN, 'backups?all_projects=true&instance_id=not-a-uuid'],
    [P1, 'backups?instance_id=not-a-uuid'],
    [ADMIN, `instances/${I.a}/backups?limit=4`],
  ];

  // Pages of every project (the admin's all_projects pages and its view of an instance): never cached.
  const uncached = (project: string, url: string) => project === ADMIN && /all_projects=(1|true)|instances\//.test(url);

  /**
   * Every page (and up to 5 pages its next links lead to) through the uncached app and both
   * cached ones, twice each: the same status, content type and bytes. The first answer may be
   * rendered, the second of every one-project page must come from the cache (`cached: false`: no
   * page may, as after a TRUNCATE). Returns P1's full list.
   */
  async function same(label: string, o: { minPages?: number; cached?: boolean } = {}): Promise<any[]> {
    const hits = cacheA.hits + cacheB.hits;
    let full: any[] = [];
    let [pages, cacheable] = [0, 0];
    for (const [project, path, host] of PAGES()) {
      let url: string | null = path;
      for (let hop = 0; url && hop < 6; hop++) {
        const want = await get(t.app, project, url, host);
        expect(want.statusCode, `${label}: ${url}`).toBe(200);
        for (const app of [a, b])
          for (let round = 0; round < 2; round++) {
            const got = await get(app, project, url, host);
            expect(got.statusCode, `${label}: ${url}`).toBe(200);
            expect(got.headers['content-type'], `${label}: ${url}`).toBe(want.headers['content-type']);
            expect(got.body, `${label}: ${url} as ${project} via ${host ?? 'localhost'} (round ${round})`).toBe(want.body);
          }
        pages++;
        if (!uncached(project, url)) cacheable++;
        const body = JSON.parse(want.body);
        if (project === P1 && url === 'backups?limit=1000') full = body.backups;
        const next = body.links?.[0]?.href as string | undefined;
        url = next ? new URL(next).pathname + new URL(next).search : null;
      }
    }
    expect(pages).toBeGreaterThanOrEqual(o.minPages ?? PAGES().length + 10);
    const served = cacheA.hits + cacheB.hits - hits;
    if (o.cached === false) expect(served, `${label}: cache hits`).toBe(0);
    else expect(served, `${label}: cache hits`).toBeGreaterThanOrEqual(2 * cacheable);
    return full;
  }

  const find = (list: any[], id: string) => list.find((x) => x.id === id);
  const version = async (project: string) =>
    (await t.t.db.selectFrom('list_versions').select('version').where('project_id', '=', project).executeTakeFirst())?.version;

  it('serves repeated pages from the cache, the same bytes as uncached', async () => {
    expect((await same('first')).length).toBeGreaterThan(20);
    const hits = cacheA.hits + cacheB.hits;
    const size = cacheA.size;
    await same('again');
    expect(cacheA.hits + cacheB.hits - hits).toBeGreaterThan(2 * (PAGES().length + 10));
    expect(cacheA.size).toBe(size);
    expect(size).toBeGreaterThan(0);
  });

  it('answers what the route answered before the cache: the views through JSON.stringify, then the next link', async () => {
    const rows = await t.t.db
      .selectFrom('trove_backups')
      .selectAll()
      .where('project_id', '=', P1)
      .where('deleted', '=', false)
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    const ofA = rows.filter((r) => r.instance_id === I.a);
    const host = 'example.org:8779';
    const body = (list: typeof rows, next?: string) =>
      JSON.stringify({
        backups: list.map(troveBackupView),
        ...(next ? { links: [{ rel: 'next', href: `http://${host}/v1.0/${P1}/${next}` }] } : {}),
      });
    const cases: Array<[string, string]> = [
      ['backups', body(rows.slice(0, 20), 'backups?limit=20&marker=20')],
      ['backups?limit=3&marker=2', body(rows.slice(2, 5), 'backups?limit=3&marker=5')],
      [
        `backups?instance_id=${I.a}&datastore=postgresql&limit=2`,
        body(ofA.slice(0, 2), `backups?instance_id=${I.a}&datastore=postgresql&limit=2&marker=2`),
      ],
      [`backups?marker=${rows.length - 2}`, body(rows.slice(-2))],
      // Trove compares instance ids as strings: one that is no UUID matches nothing (was a 500).
      ['backups?instance_id=not-a-uuid', body([])],
      [`instances/${I.a}/backups?limit=2&marker=1&datastore=x`, body(ofA.slice(1, 3), `instances/${I.a}/backups?limit=2&marker=3`)],
    ];
    expect(rows.length).toBeGreaterThan(20);
    for (const [url, want] of cases)
      for (const app of [t.app, a, a, b, b]) {
        const res = await get(app, P1, url, host);
        expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(res.body, url).toBe(want);
      }
  });

  it('checks the policy, the query and the instance on every request, before the cache', async () => {
    await same('warm');
    const cases: Array<[string, string, number]> = [
      [P1, 'backups?all_projects=1', 403],
      [P1, `backups?project_id=${P1}`, 403],
      [P1, 'backups?datastore=mysql', 404],
      [P1, 'backups?limit=abc', 400],
      [P1, 'backups?marker=-1', 400],
      [P1, 'backups?limit=1.5', 400],
      [P1, `instances/${randomUUID()}/backups`, 404],
      [P1, `instances/${I.p2}/backups`, 404],
      [P1, 'instances/not-a-uuid/backups', 404],
      [P2, `/v1.0/${P1}/backups`, 403],
    ];
    const size = cacheA.size;
    for (const [project, url, status] of cases) {
      const want = await get(t.app, project, url);
      expect(want.statusCode, url).toBe(status);
      for (const app of [a, b]) {
        const got = await get(app, project, url);
        expect([got.statusCode, got.body], url).toEqual([status, want.body]);
      }
    }
    expect(cacheA.size).toBe(size);

    // A deleted instance changes no list version: its cached page must not answer for it.
    const url = `instances/${I.b}/backups?limit=2`;
    expect((await get(a, P1, url)).statusCode).toBe(200);
    const hits = cacheA.hits;
    expect((await get(a, P1, url)).statusCode).toBe(200);
    expect(cacheA.hits - hits).toBe(1);
    const before = await version(P1);
    await t.t.db.updateTable('trove_instances').set({ deleted: true }).where('id', '=', I.b).execute();
    try {
      expect(await version(P1)).toBe(before);
      for (const app of [a, b]) expect((await get(app, P1, url)).statusCode).toBe(404);
    } finally {
      await t.t.db.updateTable('trove_instances').set({ deleted: false }).where('id', '=', I.b).execute();
    }
  });

  it('shows a backup created through one instance and its status moving, at once through the other', async () => {
    await same('warm');
    const created = await a.inject({
      method: 'POST',
      url: `/v1.0/${P1}/backups`,
      headers: { 'x-auth-token': `u1:${P1}` },
      payload: { backup: { name: 'fresh', instance: I.a, description: 'made now' } },
    });
    expect(created.statusCode).toBe(202);
    const id = JSON.parse(created.body).backup.id as string;
    const viaB = await get(b, P1, `instances/${I.a}/backups`);
    expect(JSON.parse(viaB.body).backups[0]).toMatchObject({ id, name: 'fresh', status: 'NEW', locationRef: null });
    expect(find(await same('after create'), id)).toMatchObject({ name: 'fresh', status: 'NEW' });

    // What the backup job writes (jobs.ts), here through the other process's pool.
    expect(await transitionTroveBackup(bDb, id, ['NEW'], 'BUILDING')).toBe(true);
    expect(find(await same('after BUILDING'), id)).toMatchObject({ status: 'BUILDING' });
    expect(await transitionTroveBackup(bDb, id, ['BUILDING'], 'COMPLETED', { size_bytes: 3 * GiB, stored_bytes: 1 })).toBe(true);
    const done = find(await same('after COMPLETED'), id);
    expect(done).toMatchObject({ status: 'COMPLETED', size: 3 });
    expect(done.locationRef).toMatch(/_manifest$/);
    await t.t.db.updateTable('trove_instances').set({ status: 'ACTIVE' }).where('id', '=', I.a).execute();

    const failing = (await same('warm')).find((x) => x.status === 'BUILDING')!;
    expect(await transitionTroveBackup(t.t.db, failing.id, ['BUILDING'], 'FAILED', { fail_reason: 'boom' })).toBe(true);
    expect(find(await same('after FAILED'), failing.id)).toMatchObject({ status: 'FAILED' });
  }, 60_000);

  it('shows a rename, a delete, and rows inserted, changed in a transaction and removed in SQL over another connection', async () => {
    const full = await same('warm');
    const [x, y, z] = full.filter((r) => r.status === 'COMPLETED').map((r) => r.id as string);
    await bDb.updateTable('trove_backups').set({ name: 'renamed-in-sql' }).where('id', '=', x!).execute();
    expect(find(await same('after a rename'), x!).name).toBe('renamed-in-sql');

    const del = await b.inject({ method: 'DELETE', url: `/v1.0/${P1}/backups/${y}`, headers: { 'x-auth-token': `u1:${P1}` } });
    expect(del.statusCode).toBe(202);
    expect(find(await same('after DELETE'), y!)).toBeUndefined();

    const c = new pg.Client({ connectionString: t.t.url });
    await c.connect();
    try {
      const row = backupRow(1, { name: 'inserted-in-sql', updated_at: new Date('2030-01-01T00:00:00Z') });
      const cols = Object.keys(row);
      await c.query(
        `INSERT INTO trove_backups (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
        Object.values(row),
      );
      expect((await same('after an INSERT'))[0]).toMatchObject({ id: row.id, name: 'inserted-in-sql' });

      await c.query('BEGIN');
      await c.query("UPDATE trove_backups SET name = 'committed-later' WHERE id = $1", [row.id]);
      expect(find(await same('while the UPDATE is open'), row.id).name).toBe('inserted-in-sql');
      await c.query('COMMIT');
      expect(find(await same('after its COMMIT'), row.id).name).toBe('committed-later');

      await c.query('DELETE FROM trove_backups WHERE id = ANY($1)', [[row.id, z]]);
      const after = await same('after a DELETE in SQL');
      expect([find(after, row.id), find(after, z!)]).toEqual([undefined, undefined]);
    } finally {
      await c.end();
    }
  }, 60_000);

  it('never caches all_projects pages, nor an admin`s view of an instance (every project`s backups)', async () => {
    const urls = ['backups?all_projects=1&limit=100', `instances/${I.a}/backups?limit=100`];
    await same('warm');
    const [size, hits] = [cacheA.size, cacheA.hits];
    for (const url of urls) expect((await get(a, ADMIN, url)).body).toBe((await get(t.app, ADMIN, url)).body);
    expect([cacheA.size, cacheA.hits]).toEqual([size, hits]);
    // A P1 row changes: P1's version moves, not the admin's; both pages must show it.
    const id = (await same('warm')).find((r) => r.instance_id === I.a).id as string;
    await t.t.db.updateTable('trove_backups').set({ name: 'seen-by-admin' }).where('id', '=', id).execute();
    for (const url of urls) {
      const body = (await get(a, ADMIN, url)).body;
      expect(body).toBe((await get(t.app, ADMIN, url)).body);
      expect(find(JSON.parse(body).backups, id).name).toBe('seen-by-admin');
    }
  });

  // trove_backups' own trigger off, a change it would see: the same check sees the stale page.
  const newest = async () => (await same('newest'))[0].id as string;
  const CHANGES: Array<[string, () => Promise<unknown>]> = [
    [
      'ins',
      () =>
        t.t.db
          .insertInto('trove_backups')
          .values(backupRow(2, { updated_at: new Date('2031-01-01T00:00:00Z') }))
          .execute(),
    ],
    [
      'upd',
      async () =>
        t.t.db
          .updateTable('trove_backups')
          .set({ name: 'unseen' })
          .where('id', '=', await newest())
          .execute(),
    ],
    [
      'del',
      async () =>
        t.t.db
          .deleteFrom('trove_backups')
          .where('id', '=', await newest())
          .execute(),
    ],
  ];
  for (const [event, change] of CHANGES)
    it(`with trove_backups' ${event} trigger off, the same check sees the stale page (the tests above depend on it)`, async () => {
      await same('warm');
      const trigger = sql.raw(`trove_backups_list_version_${event}`);
      await sql`ALTER TABLE trove_backups DISABLE TRIGGER ${trigger}`.execute(t.t.db);
      try {
        await change();
        // A stale body (the first, rendered-or-cached answer), not any other failure.
        await expect(same(`without the ${event} trigger`)).rejects.toThrow(/\(round 0\)/);
      } finally {
        await sql`ALTER TABLE trove_backups ENABLE TRIGGER ${trigger}`.execute(t.t.db);
      }
      // Any later bump of the project makes the pages fresh again.
      await t.t.db
        .updateTable('trove_backups')
        .set({ description: `after ${event}` })
        .where('project_id', '=', P1)
        .execute();
      await same(`after the ${event} trigger is back`);
    });

  it('a TRUNCATE drops every version: nothing stale, and pages are cached again after the next write', async () => {
    await same('warm');
    await sql`TRUNCATE trove_backups`.execute(t.t.db);
    expect(await version(P1)).toBeUndefined();
    expect(await same('after TRUNCATE', { minPages: PAGES().length, cached: false })).toEqual([]);
    await seed();
    expect(await version(P1)).toBeDefined();
    expect((await same('after the rows are back')).length).toBeGreaterThan(20);
  });

  it("the migration's down() drops its four triggers; up() makes them again and versions projects that have Trove backups", async () => {
    const triggers = async () =>
      (
        await sql<{ tgname: string }>`SELECT tgname FROM pg_trigger
          WHERE tgrelid = 'trove_backups'::regclass AND NOT tgisinternal ORDER BY 1`.execute(t.t.db)
      ).rows.map((r) => r.tgname);
    const all = ['del', 'ins', 'trunc', 'upd'].map((e) => `trove_backups_list_version_${e}`);
    expect(await triggers()).toEqual(all);
    await troveMigration.down(t.t.db);
    expect(await triggers()).toEqual([]);
    await t.t.db
      .insertInto('trove_backups')
      .values(backupRow(0, { project_id: P3 }))
      .execute();
    expect(await version(P3)).toBeUndefined();
    await troveMigration.up(t.t.db);
    expect(await triggers()).toEqual(all);
    expect(await version(P3)).toBeDefined();
    await same('after down and up');
    const id = (await same('warm'))[0].id as string;
    await t.t.db.updateTable('trove_backups').set({ name: 'after-up' }).where('id', '=', id).execute();
    expect(find(await same('a change after up'), id).name).toBe('after-up');
  });
});
