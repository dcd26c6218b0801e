import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { PageCache } from '../../src/domain/common/page-cache.js';
import { seededRandom } from '../reliability/fault-proxy.js';
import { ADMIN, type BackupTestEnv, P1, P2, backupTestEnv, insertBackups } from './backups-fixtures.js';

/**
 * Backup list pages rendered by Postgres (LIST_RENDERING=postgres, db/backup-views-json.ts)
 * against the views' reference path (LIST_RENDERING=js: view objects through JSON.stringify),
 * on the same database: status, content type and body must be the same bytes for every page,
 * sort, filter, marker, offset, count, microversion, caller and link base tried here, over
 * rows holding adversarial strings (every control character, quotes, backslashes, "/",
 * U+2028/U+2029, astral characters), NULLs, microsecond and whole-second timestamps and
 * metadata keys that JSON.parse reorders.
 * Both again with the page cache (LIST_CACHE_BYTES > 0, domain/common/list-cache.ts): each
 * page asked twice (rendered, then served from the cache) must be the same bytes as uncached.
 */

const CONTROLS = Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1));
const ALPHABET = [
  ...CONTROLS,
  '\u007f',
  '"',
  '\\',
  '/',
  "'",
  '<',
  '>',
  '&',
  '\u2028',
  '\u2029',
  '\u00e9',
  '\u0080',
  '\u00ff',
  '\ufeff',
  '\ufffd',
  '\u{1f600}',
  '\u4e2d',
  ' ',
  'a',
  'Z',
  '0',
  '%',
  '+',
  '?',
  '#',
  '\u0301',
  '\u200b',
];

function adversarial(rand: () => number, max = 24): string {
  const n = Math.floor(rand() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)]!;
  return s;
}

const META_KEYS = [
  '0',
  '1',
  '10',
  '2',
  '01',
  '-1',
  '1.5',
  '4294967294',
  '4294967295',
  '99999999999',
  'a',
  '__proto__',
  'constructor',
  'b"\\/\u2028',
  'z',
];
const NO_KEY = '00000000-0000-0000-0000-000000000000';
const TIMES = [
  '2026-01-01 00:00:00+00',
  '2026-03-04 05:06:07.1+00',
  '2026-03-04 05:06:07.12+00',
  '2026-03-04 05:06:07.123456+00',
  '2026-12-31 23:59:59.999999+00',
  '2026-06-30 12:00:00.0005+00',
  '0999-01-02 03:04:05.678+00',
];

describe('backup list pages rendered by Postgres are byte-identical to the views', () => {
  let env: BackupTestEnv;
  let jsApp: FastifyInstance;
  let cachedApps: FastifyInstance[] = [];
  const caches = [new PageCache(64 << 20), new PageCache(64 << 20)];
  let compared = 0;

  beforeAll(async () => {
    env = await backupTestEnv({ LIST_RENDERING: 'postgres', LIST_CACHE_BYTES: '0' });
    jsApp = await buildApp({ ...env.deps, config: Object.freeze({ ...env.config, LIST_RENDERING: 'js' as const }) });
    await jsApp.ready();
    cachedApps = await Promise.all(
      (['postgres', 'js'] as const).map(async (LIST_RENDERING, i) => {
        const config = Object.freeze({ ...env.config, LIST_RENDERING, LIST_CACHE_BYTES: 64 << 20 });
        const app = await buildApp({ ...env.deps, config, listCache: caches[i]! });
        await app.ready();
        return app;
      }),
    );
    const rand = seededRandom(20261206);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const rows = Array.from({ length: 160 }, (_, i) => ({
      project_id: i % 4 === 3 ? P2 : i % 8 === 1 ? ADMIN : P1,
      display_name: i % 9 === 0 ? null : i % 5 === 0 ? `same-${i % 3}` : adversarial(rand),
      display_description: i % 3 === 0 ? null : adversarial(rand, 60),
      fail_reason: i % 4 === 0 ? adversarial(rand) : null,
      availability_zone: i % 6 === 0 ? null : pick(['nova', 'az-\u2028', adversarial(rand, 8)]),
      container: i % 7 === 0 ? null : pick(['volumebackups', adversarial(rand, 12)]),
      status: pick(['available', 'error', 'creating', 'deleting', 'restoring']),
      size: pick([0, 1, 7, 2147483647]),
      object_count: pick([0, 3, 100000]),
      num_dependent_backups: pick([0, 0, 2]),
      parent_id: i % 5 === 2 ? randomUUID() : null,
      snapshot_id: i % 6 === 4 ? randomUUID() : null,
      encryption_key_id: pick([null, NO_KEY, '', randomUUID(), 'k"\\\u2028']),
      user_id: pick(['u', adversarial(rand, 10) || 'u']),
    }));
    const ids = await insertBackups(env.t.db, rows);
    for (const [i, id] of ids.entries()) {
      const created = TIMES[i % TIMES.length]!;
      const updated = i % 3 === 0 ? null : TIMES[(i * 5) % TIMES.length]!;
      // Equal created_at for several rows: the id tie-break decides their order.
      await sql`UPDATE backups SET created_at = ${created}::timestamptz + (${i % 40} * interval '1 microsecond'),
        updated_at = ${updated}::timestamptz, data_timestamp = ${TIMES[(i * 3) % TIMES.length]!}::timestamptz WHERE id = ${id}`.execute(
        env.t.db,
      );
      if (i % 3 === 0) {
        const keys = [...META_KEYS].sort(() => rand() - 0.5).slice(0, 1 + Math.floor(rand() * META_KEYS.length));
        await env.t.db
          .insertInto('backup_metadata')
          .values(keys.map((key) => ({ backup_id: id, key, value: adversarial(rand, 30) })))
          .execute();
      }
    }
  }, 120_000);

  afterAll(async () => {
    await jsApp?.close();
    for (const app of cachedApps) await app.close();
    await env?.close();
  });

  async function both(url: string, project: string, version?: string, host?: string) {
    const headers: Record<string, string> = { 'x-auth-token': `u${project.slice(0, 7)}:${project}` };
    if (version) headers['openstack-api-version'] = `volume ${version}`;
    if (host) headers['x-forwarded-host'] = host;
    const [a, b] = await Promise.all([env.app, jsApp].map((app) => app.inject({ method: 'GET', url, headers })));
    expect(a!.statusCode, url).toBe(b!.statusCode);
    expect(a!.headers['content-type'], url).toBe(b!.headers['content-type']);
    expect(a!.headers['content-length'], url).toBe(b!.headers['content-length']);
    expect(a!.body, `${url} at ${version ?? '3.0'} as ${project}`).toBe(b!.body);
    compared++;
    // Cached: the first answer may be rendered, the second is served from the cache when cacheable.
    for (let round = 0; round < 2; round++) {
      const cached = await Promise.all(cachedApps.map((app) => app.inject({ method: 'GET', url, headers })));
      for (const c of cached) {
        expect(c.statusCode, `cached ${url}`).toBe(b!.statusCode);
        expect(c.headers['content-type'], `cached ${url}`).toBe(b!.headers['content-type']);
        expect(c.headers['content-length'], `cached ${url}`).toBe(b!.headers['content-length']);
        expect(c.body, `cached (round ${round}) ${url} at ${version ?? '3.0'} as ${project}`).toBe(b!.body);
      }
    }
    return a!.statusCode === 200 ? JSON.parse(a!.body) : null;
  }

  /** Compares the page, then every page its next links lead to (as far as `pages`). */
  async function walk(path: string, query: string, project: string, version?: string, pages = 4, host?: string) {
    let url: string | null = `/v3/${project}/${path}${query ? `?${query}` : ''}`;
    for (let i = 0; url && i < pages; i++) {
      const body = await both(url, project, version, host);
      const next: string | undefined = body?.backups_links?.[0]?.href;
      url = next ? next.slice(next.indexOf(`/v3/${project}/`)) : null;
    }
  }

  const QUERIES = [
    '',
    'limit=1',
    'limit=7',
    'limit=100',
    'limit=0',
    'offset=5&limit=10',
    'sort=name:asc&limit=9',
    'sort=size:desc,name&limit=11',
    'sort_key=display_name&sort_dir=asc&limit=6',
    'sort=updated_at:asc&limit=13',
    'sort=fail_reason:asc,container:desc&limit=8',
    'sort=availability_zone&limit=10',
    'status=error',
    'name=same-1',
    'name~=a',
    'with_count=true&limit=5',
    'with_count=true&status=available&limit=3',
    'all_tenants=1&limit=50',
    'all_tenants=true&with_count=1&sort=created_at:asc&limit=17',
    'limit=-1',
    'sort=bogus',
    `marker=${randomUUID()}`,
  ];
  const VERSIONS = [undefined, '3.18', '3.37', '3.43', '3.45', '3.56', '3.64', 'latest'];

  for (const path of ['backups', 'backups/detail']) {
    it(`GET /${path}: every query, microversion and caller`, async () => {
      for (const project of [ADMIN, P1])
        for (const version of VERSIONS) for (const q of QUERIES) await walk(path, q, project, version, q.includes('limit=1&') ? 2 : 4);
    }, 240_000);

    it(`GET /${path}: following next links over all pages, and other link bases`, async () => {
      await walk(path, 'limit=3', P1, 'latest', 100);
      await walk(path, 'all_tenants=1&limit=40&sort=name:asc', ADMIN, '3.64', 100);
      for (const host of ['example.org:8776', 'h"q\\/\u00e9\u00ff<x>', 'a.example, b.example'])
        await walk(path, 'limit=5', P1, '3.64', 2, host);
    }, 120_000);
  }

  it('compared many bodies, and the adversarial rows were in them', async () => {
    expect(compared).toBeGreaterThan(1000);
    // Most pages were served from the caches (all_tenants pages and errors never are).
    for (const cache of caches) expect(cache.hits).toBeGreaterThan(1000);
    const r = await both(`/v3/${ADMIN}/backups/detail?all_tenants=1&limit=1000`, ADMIN, 'latest');
    const text = JSON.stringify(r);
    for (const s of ['\\u0001', '\\u001f', '\u2028', '\\"', '\\\\', '/', '\u{1f600}', '"0":', '"4294967295":', ':null'])
      expect(text).toContain(s);
    expect(r.backups.length).toBe(160);
  });
});
