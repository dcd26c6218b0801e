import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createDb } from '../../src/db/connection.js';
import type { Database } from '../../src/db/schema.js';
import { PageCache } from '../../src/domain/common/page-cache.js';
import { authHeaders } from '../helpers/app.js';
import { ADMIN, P1, P2, type VolumeTestApp, createVolumeTestApp, makeVolume } from './volumes-fixture.js';

/**
 * The volume and snapshot list page cache (LIST_CACHE_BYTES, domain/common/list-cache.ts) never
 * serves a stale page: every page (plain and detail, limits, sorts, filters, with_count,
 * microversions, followed next links, member and admin callers) through two cached app
 * instances (each its own cache and connection pool, as two API processes on one database) is
 * byte for byte the uncached one, first rendered and then served from the cache, and after
 * every kind of change the lists show: create and its job, rename, metadata and image metadata
 * set and unset, bootable, attach, detach, extend, status resets, snapshot progress, deletes and
 * their jobs, rows changed in SQL. The last tests turn each table's version trigger off and show
 * that the same check then sees the stale page: these tests fail if that table's bump is removed.
 */

const MiB = 1024 * 1024;

describe('the volume and snapshot list page cache', () => {
  let t: VolumeTestApp;
  let a: FastifyInstance;
  let b: FastifyInstance;
  let bDb: Kysely<Database>;
  const cacheA = new PageCache(32 * MiB);
  const cacheB = new PageCache(32 * MiB);
  const vols: string[] = [];
  const snaps: string[] = [];
  let live: string; // a real volume (a file) for the actions and snapshot jobs

  beforeAll(async () => {
    t = await createVolumeTestApp({ LIST_CACHE_BYTES: '0', QUOTA_VOLUMES: '-1', QUOTA_GIGABYTES: '-1', QUOTA_SNAPSHOTS: '-1' });
    const config = Object.freeze({ ...t.config, LIST_CACHE_BYTES: 32 * MiB });
    a = await buildApp({ ...t.deps, config, listCache: cacheA });
    bDb = createDb({ url: t.t.url, poolSize: 3 });
    b = await buildApp({ ...t.deps, db: bDb, config, listCache: cacheB });
    await Promise.all([a.ready(), b.ready()]);
    live = await makeVolume(t, { name: 'live' });
    // Rows in SQL: many pages, every shown table, other projects' rows beside them.
    const base = Date.parse('2026-01-01T00:00:00Z');
    const at = (i: number) => new Date(base + (i % 7) * 1000 + (i % 3) * 0.001);
    const volumes = Array.from({ length: 26 }, (_, i) => ({
      id: randomUUID(),
      project_id: i % 5 === 4 ? P2 : i % 9 === 8 ? ADMIN : P1,
      user_id: 'u0000000',
      display_name: i % 6 === 5 ? null : `v-${i % 11}`,
      display_description: i % 2 ? `d${i}` : null,
      size: 1 + (i % 4),
      status: i % 4 === 3 ? 'error' : 'available',
      attach_status: 'detached',
      availability_zone: 'nova',
      bootable: i % 3 === 0,
      created_at: at(i),
    }));
    await t.t.db.insertInto('volumes').values(volumes).execute();
    vols.push(...volumes.filter((v) => v.project_id === P1).map((v) => v.id));
    const meta = (ids: string[], owner: 'volume_id' | 'snapshot_id') =>
      ids.slice(0, 6).flatMap((id, i) => [
        { [owner]: id, key: `k${i % 2}`, value: `v${i}` },
        { [owner]: id, key: '10', value: 'x' },
      ]) as any[];
    await t.t.db.insertInto('volume_metadata').values(meta(vols, 'volume_id')).execute();
    await t.t.db
      .insertInto('volume_image_metadata')
      .values(vols.slice(2, 5).map((id) => ({ volume_id: id, key: 'image_name', value: `img-${id.slice(0, 4)}` })))
      .execute();
    await t.t.db
      .insertInto('volume_attachments')
      .values(
        vols.slice(3, 5).map((id, i) => ({
          id: randomUUID(),
          volume_id: id,
          instance_uuid: randomUUID(),
          attached_host: 'h1',
          mountpoint: `/dev/vd${'bc'[i]}`,
          attach_mode: 'rw',
          attached_at: at(i),
        })),
      )
      .execute();
    const snapshots = volumes.slice(0, 18).map((v, i) => ({
      id: randomUUID(),
      project_id: v.project_id,
      user_id: 'u0000000',
      volume_id: v.id,
      display_name: `s-${i % 5}`,
      display_description: null,
      status: i % 5 === 2 ? 'creating' : 'available',
      progress: i % 5 === 2 ? '40%' : '100%',
      volume_size: v.size,
      created_at: at(i),
    }));
    await t.t.db.insertInto('snapshots').values(snapshots).execute();
    snaps.push(...snapshots.filter((s) => s.project_id === P1).map((s) => s.id));
    await t.t.db.insertInto('snapshot_metadata').values(meta(snaps, 'snapshot_id')).execute();
  }, 120_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await bDb?.destroy();
    await t?.close();
  });

  const meta = encodeURIComponent("{'k0':'v0'}");
  const PAGES: Array<[string, string | undefined]> = [
    ['volumes/detail', undefined],
    ['volumes/detail', '3.64'],
    ['volumes/detail?limit=5', '3.45'],
    ['volumes/detail?limit=4&sort=name:asc,size:desc', '3.45'],
    ['volumes/detail?with_count=true&limit=3&sort_key=size&sort_dir=asc', '3.45'],
    ['volumes/detail?status=available&limit=6', '3.64'],
    [`volumes/detail?metadata=${meta}`, '3.64'],
    ['volumes?limit=7', undefined],
    ['volumes?with_count=true', '3.64'],
    ['snapshots/detail', undefined],
    ['snapshots/detail', '3.64'],
    ['snapshots/detail?limit=4&sort=name:asc', '3.30'],
    ['snapshots/detail?with_count=true&limit=5&sort=progress:asc', '3.45'],
    [`snapshots/detail?metadata=${meta}`, '3.22'],
    [`snapshots?limit=3&metadata=${meta}`, '3.21'],
    ['snapshots?limit=6', undefined],
  ];
  const VOLUMES_DETAIL = 1;
  const SNAPSHOTS_DETAIL = 10;

  async function get(app: FastifyInstance, project: string, url: string, version?: string) {
    return app.inject({ method: 'GET', url, headers: authHeaders(project, { version }) });
  }

  /**
   * Every page (and the pages its next links lead to) as P1, and some as P2 and the admin,
   * through the uncached app and both cached ones: the same status, type and bytes.
   * Returns P1's full detail lists (at 3.64).
   */
  async function same(label: string): Promise<{ volumes: any[]; snapshots: any[] }> {
    const full = { volumes: [] as any[], snapshots: [] as any[] };
    const callers: Array<[string, number[]]> = [
      [P1, PAGES.map((_, i) => i)],
      [P2, [0, 9]],
      [ADMIN, [1, 3, 10]],
    ];
    let pages = 0;
    for (const [project, which] of callers)
      for (const i of which) {
        const [path, version] = PAGES[i]!;
        let url: string | null = `/v3/${project}/${path}`;
        for (let hop = 0; url && hop < 8; hop++) {
          const want = await get(t.app, project, url, version);
          expect(want.statusCode, `${label}: ${url}`).toBe(200);
          for (const app of [a, b]) {
            const got = await get(app, project, url, version);
            expect(got.statusCode, `${label}: ${url}`).toBe(200);
            expect(got.headers['content-type'], `${label}: ${url}`).toBe(want.headers['content-type']);
            expect(got.body, `${label}: ${url} at ${version ?? '3.0'} as ${project}`).toBe(want.body);
          }
          pages++;
          const body = JSON.parse(want.body);
          if (project === P1 && i === VOLUMES_DETAIL) full.volumes = body.volumes;
          if (project === P1 && i === SNAPSHOTS_DETAIL) full.snapshots = body.snapshots;
          const next = (body.volumes_links ?? body.snapshots_links)?.[0]?.href as string | undefined;
          url = next ? new URL(next).pathname + new URL(next).search : null;
        }
      }
    expect(pages).toBeGreaterThan(PAGES.length + 10);
    return full;
  }

  const find = (list: any[], id: string) => list.find((x) => x.id === id);

  /** Runs `fn` with the job worker stopped: the state a request left is compared before a job moves it on. */
  async function whileJobsWait<T>(fn: () => Promise<T>): Promise<T> {
    await t.pauseJobs();
    try {
      return await fn();
    } finally {
      t.resumeJobs();
    }
  }
  const act = (app: FastifyInstance, kind: 'volumes' | 'snapshots', id: string, body: unknown, project = P1, version = '3.64') =>
    app.inject({
      method: 'POST',
      url: `/v3/${project}/${kind}/${id}/action`,
      headers: authHeaders(project, { version }),
      payload: body as object,
    });
  const call = (app: FastifyInstance, method: 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, version = '3.64') =>
    app.inject({ method, url: `/v3/${P1}/${url}`, headers: authHeaders(P1, { version }), ...(body ? { payload: body as object } : {}) });

  it('serves repeated pages from the cache, the same bytes as uncached', async () => {
    await same('first');
    const hits = cacheA.hits + cacheB.hits;
    const sizeA = cacheA.size;
    await same('again');
    expect(cacheA.hits + cacheB.hits - hits).toBeGreaterThan(2 * (PAGES.length + 10));
    expect(cacheA.size).toBe(sizeA);
    expect(cacheA.size).toBeGreaterThan(0);
  });

  it('shows a created volume, its job, a rename, metadata set and unset, through the other instance at once', async () => {
    await same('warm');
    const id = await whileJobsWait(async () => {
      const created = await call(a, 'POST', 'volumes', { volume: { size: 1, name: 'fresh' } });
      expect(created.statusCode).toBe(202);
      const id = JSON.parse(created.body).volume.id as string;
      expect(find((await same('after create')).volumes, id)).toMatchObject({ name: 'fresh' });
      return id;
    });
    await t.waitFor('volumes', id, 'available');
    expect(find((await same('after the create job')).volumes, id)).toMatchObject({ status: 'available' });

    expect((await call(b, 'PUT', `volumes/${id}`, { volume: { name: 'renamed-via-b' } })).statusCode).toBe(200);
    const viaA = await get(a, P1, `/v3/${P1}/volumes/detail`, '3.64');
    expect(find(JSON.parse(viaA.body).volumes, id).name).toBe('renamed-via-b');
    expect(find((await same('after rename')).volumes, id).name).toBe('renamed-via-b');

    expect((await call(a, 'POST', `volumes/${id}/metadata`, { metadata: { fresh: 'yes', gone: 'soon' } })).statusCode).toBe(200);
    const viaB = await get(b, P1, `/v3/${P1}/volumes/detail`, '3.64');
    expect(find(JSON.parse(viaB.body).volumes, id).metadata).toEqual({ fresh: 'yes', gone: 'soon' });
    expect(find((await same('after metadata set')).volumes, id).metadata).toEqual({ fresh: 'yes', gone: 'soon' });
    expect((await call(b, 'DELETE', `volumes/${id}/metadata/gone`)).statusCode).toBe(200);
    expect(find((await same('after metadata unset')).volumes, id).metadata).toEqual({ fresh: 'yes' });
    await t.t.db.updateTable('volume_metadata').set({ value: 'changed' }).where('volume_id', '=', id).execute();
    expect(find((await same('after a metadata row update in SQL')).volumes, id).metadata).toEqual({ fresh: 'changed' });
  }, 60_000);

  it('shows image metadata, bootable, attach, detach, extend and status resets', async () => {
    await same('warm');
    const img = await act(b, 'volumes', live, { 'os-set_image_metadata': { metadata: { image_name: 'cirros' } } });
    expect(img.statusCode).toBe(200);
    expect(find((await same('after image metadata set')).volumes, live).volume_image_metadata).toEqual({ image_name: 'cirros' });
    expect((await act(a, 'volumes', live, { 'os-unset_image_metadata': { key: 'image_name' } })).statusCode).toBe(200);
    expect(find((await same('after image metadata unset')).volumes, live).volume_image_metadata).toBeUndefined();

    expect((await act(b, 'volumes', live, { 'os-set_bootable': { bootable: true } })).statusCode).toBe(200);
    expect(find((await same('after bootable')).volumes, live).bootable).toBe('true');

    const server = randomUUID();
    expect((await act(a, 'volumes', live, { 'os-attach': { instance_uuid: server, mountpoint: '/dev/vdb' } })).statusCode).toBe(202);
    const attached = find((await same('after attach')).volumes, live);
    expect(attached.status).toBe('in-use');
    expect(attached.attachments).toEqual([expect.objectContaining({ server_id: server, device: '/dev/vdb' })]);
    expect((await act(b, 'volumes', live, { 'os-detach': {} })).statusCode).toBe(202);
    const detached = find((await same('after detach')).volumes, live);
    expect(detached).toMatchObject({ status: 'available', attachments: [] });

    const size = detached.size as number;
    expect((await act(a, 'volumes', live, { 'os-extend': { new_size: size + 1 } })).statusCode).toBe(202);
    await t.waitFor('volumes', live, 'available');
    expect(find((await same('after extend')).volumes, live).size).toBe(size + 1);

    const reset = await act(a, 'volumes', vols[0]!, { 'os-reset_status': { status: 'error' } }, ADMIN);
    expect(reset.statusCode).toBe(202);
    expect(find((await same('after a status reset')).volumes, vols[0]!).status).toBe('error');
  }, 60_000);

  it('shows a snapshot created, its job, progress, rename, metadata, and its delete', async () => {
    await same('warm');
    const id = await whileJobsWait(async () => {
      const created = await call(b, 'POST', 'snapshots', { snapshot: { volume_id: live, name: 'snap-fresh' } });
      expect(created.statusCode).toBe(202);
      const id = JSON.parse(created.body).snapshot.id as string;
      expect(find((await same('after snapshot create')).snapshots, id)).toMatchObject({ name: 'snap-fresh', status: 'creating' });
      return id;
    });
    await t.waitFor('snapshots', id, 'available');
    expect(find((await same('after the snapshot job')).snapshots, id)).toMatchObject({
      status: 'available',
      'os-extended-snapshot-attributes:progress': '100%',
    });

    // A progress write by a job (os-update_snapshot_status's table) on a creating snapshot.
    const creating = snaps.find((_, i) => i % 5 === 2)!;
    await t.t.db.updateTable('snapshots').set({ progress: '70%' }).where('id', '=', creating).execute();
    expect(find((await same('after a progress write')).snapshots, creating)['os-extended-snapshot-attributes:progress']).toBe('70%');
    const st = await act(a, 'snapshots', creating, { 'os-update_snapshot_status': { status: 'error', progress: '80%' } }, ADMIN);
    expect(st.statusCode).toBe(202);
    expect(find((await same('after os-update_snapshot_status')).snapshots, creating)).toMatchObject({ status: 'error' });

    expect((await call(a, 'PUT', `snapshots/${id}`, { snapshot: { name: 'snap-renamed' } })).statusCode).toBe(200);
    expect(find((await same('after snapshot rename')).snapshots, id).name).toBe('snap-renamed');
    expect((await call(b, 'PUT', `snapshots/${id}/metadata`, { metadata: { a: '1', b: '2' } })).statusCode).toBe(200);
    expect(find((await same('after snapshot metadata set')).snapshots, id).metadata).toEqual({ a: '1', b: '2' });
    expect((await call(a, 'DELETE', `snapshots/${id}/metadata/a`)).statusCode).toBe(200);
    expect(find((await same('after snapshot metadata unset')).snapshots, id).metadata).toEqual({ b: '2' });

    await whileJobsWait(async () => {
      expect((await call(b, 'DELETE', `snapshots/${id}`)).statusCode).toBe(202);
      expect(find((await same('after snapshot DELETE')).snapshots, id)).toMatchObject({ status: 'deleting' });
    });
    await t.waitFor('snapshots', id, null);
    expect(find((await same('after the snapshot delete job')).snapshots, id)).toBeUndefined();
    await t.t.db.deleteFrom('snapshots').where('id', '=', snaps[0]!).execute();
    expect(find((await same('after a snapshot row removed in SQL')).snapshots, snaps[0]!)).toBeUndefined();
  }, 90_000);

  it('shows a volume deleted, its job, and rows removed in SQL', async () => {
    await same('warm');
    const vol = await makeVolume(t, { name: 'doomed' });
    expect(find((await same('after another create')).volumes, vol)).toMatchObject({ name: 'doomed' });
    await whileJobsWait(async () => {
      expect((await call(a, 'DELETE', `volumes/${vol}`)).statusCode).toBe(202);
      // An empty volume may be gone at once (no job): whatever DELETE left, cached = uncached.
      await same('after DELETE');
    });
    await t.waitFor('volumes', vol, null);
    expect(find((await same('after the delete job')).volumes, vol)).toBeUndefined();
    const gone = vols[7]!;
    await t.t.db.deleteFrom('snapshots').where('volume_id', '=', gone).execute();
    await t.t.db.deleteFrom('volumes').where('id', '=', gone).execute();
    expect(find((await same('after a volume row removed in SQL')).volumes, gone)).toBeUndefined();
  }, 60_000);

  it('never caches all_tenants listings', async () => {
    const urls = ['volumes/detail?all_tenants=1&limit=50', 'snapshots/detail?all_tenants=1', 'volumes?all_tenants=true'];
    const size = cacheA.size;
    for (const url of urls) {
      const want = (await get(t.app, ADMIN, `/v3/${ADMIN}/${url}`, '3.64')).body;
      expect((await get(a, ADMIN, `/v3/${ADMIN}/${url}`, '3.64')).body).toBe(want);
    }
    expect(cacheA.size).toBe(size);
    // A P1 row changes: P1's version, not the admin's, moves; the all_tenants page must show it.
    await t.t.db.updateTable('volumes').set({ display_name: 'moved' }).where('id', '=', vols[1]!).execute();
    const body = (await get(a, ADMIN, `/v3/${ADMIN}/${urls[0]}`, '3.64')).body;
    expect(body).toBe((await get(t.app, ADMIN, `/v3/${ADMIN}/${urls[0]}`, '3.64')).body);
    expect(find(JSON.parse(body).volumes, vols[1]!).name).toBe('moved');
    // Another project's marker is not found in the caller's scope: 404 cached or not.
    for (const app of [t.app, a])
      expect((await get(app, ADMIN, `/v3/${ADMIN}/volumes/detail?marker=${vols[1]}`, '3.64')).statusCode).toBe(404);
  });

  // Each table's own trigger off, a change to that table only: the same check sees the stale page.
  const CHANGES: Array<[string, string, () => Promise<unknown>]> = [
    ['volumes', 'upd', () => t.t.db.updateTable('volumes').set({ display_name: 'unseen' }).where('id', '=', vols[2]!).execute()],
    [
      'volume_metadata',
      'ins',
      () => t.t.db.insertInto('volume_metadata').values({ volume_id: vols[2]!, key: 'unseen', value: '1' }).execute(),
    ],
    [
      'volume_image_metadata',
      'ins',
      () => t.t.db.insertInto('volume_image_metadata').values({ volume_id: vols[2]!, key: 'unseen', value: '1' }).execute(),
    ],
    ['volume_attachments', 'del', () => t.t.db.deleteFrom('volume_attachments').where('volume_id', '=', vols[3]!).execute()],
    ['snapshots', 'upd', () => t.t.db.updateTable('snapshots').set({ progress: '99%' }).where('id', '=', snaps[2]!).execute()],
    [
      'snapshot_metadata',
      'ins',
      () => t.t.db.insertInto('snapshot_metadata').values({ snapshot_id: snaps[2]!, key: 'unseen', value: '1' }).execute(),
    ],
  ];
  for (const [table, event, change] of CHANGES)
    it(`with ${table}'s ${event} trigger off, the same check sees the stale page (the tests above depend on it)`, async () => {
      await same('warm');
      const trigger = sql.raw(`${table}_list_version_${event}`);
      await sql`ALTER TABLE ${sql.table(table)} DISABLE TRIGGER ${trigger}`.execute(t.t.db);
      try {
        await change();
        await expect(same(`without ${table}'s trigger`)).rejects.toThrow();
      } finally {
        await sql`ALTER TABLE ${sql.table(table)} ENABLE TRIGGER ${trigger}`.execute(t.t.db);
      }
      // Any later bump of the project makes the pages fresh again.
      await t.t.db
        .updateTable('volumes')
        .set({ display_description: `after ${table}` })
        .where('id', '=', vols[5]!)
        .execute();
      await same(`after ${table}'s trigger is back`);
    });
});
