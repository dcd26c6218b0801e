import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../src/db/embedded.js';
import { loadavg } from 'node:os';
import { createDb } from '../src/db/connection.js';
import { type ApiDatabase, seedApiDatabase } from './api-seed.js';
import { onOff, writeCost } from './api-write-cost.js';
import { repoRoot } from './cinder.js';
import { startService, waitHealthy } from './service.js';
import type { Figures } from './stats.js';

/**
 * API load (issue 7): backups seeded straight into Postgres (100 projects x 1,000 = 100,000
 * rows; --smoke: 10 x 100), the real service (`node dist/src/main.js`, ROLE=api, noauth) on
 * loopback, and autocannon in a second process for a bounded time against
 * GET /v3/{p}/backups/detail?limit=100, /volumes/detail?limit=100, the Trove list GET /v1.0/{p}/backups
 * (limit=20, Trove's default page, and limit=100 as the Cinder lists) and GET /v3/{p}/backups/{id}; then the
 * accept latency of POST /v3/{p}/backups (202) for one backup per volume, sequentially.
 * Issue 16: two services on the same seeded database, LIST_CACHE_BYTES=0 (the baseline) and the
 * default page cache, loaded one after the other in each of `runs` runs; the write cost of the
 * list version triggers (on vs off, bench/api-write-cost.ts).
 */
export interface ApiBenchOptions {
  smoke: boolean;
  /** Repetitions of the list and show loads (each run: the detail list without and with the page cache, then show). */
  runs: number;
  figures: Figures;
  gaps: string[];
  notes: string[];
  log: (s: string) => void;
  workdir: string;
}

interface Cannon {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}

function autocannon(url: string, token: string, seconds: number, connections: number): Promise<Cannon> {
  const bin = join(repoRoot(), 'node_modules/autocannon/autocannon.js');
  const args = [bin, '-j', '-c', String(connections), '-d', String(seconds), '-H', `X-Auth-Token=${token}`, url];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`autocannon: ${stderr.slice(-500)}`)) : resolve(JSON.parse(stdout) as Cannon),
    );
  });
}

/** The Trove list's figures (bench/ratios.ts names them). */
export const TROVE_LISTS = ['GET /v1.0/{p}/backups?limit=20', 'GET /v1.0/{p}/backups?limit=100'] as const;

/** The same service twice on one database: LIST_CACHE_BYTES=0 (the baseline) and the default page cache. */
const SERVICES = [
  ['cache off', '0'],
  ['cache on', undefined],
] as const;

export async function apiBench(o: ApiBenchOptions): Promise<void> {
  const [projects, perProject, volumes, seconds] = o.smoke ? [10, 100, 20, 3] : [100, 1000, 200, 15];
  const section = `API, ${(projects * perProject).toLocaleString('en')} backups in ${projects} projects`;
  o.log(`${section}: seeding`);
  const db = await seedApiDatabase(o.workdir, projects, perProject, volumes);
  o.figures.add(section, 'seeding through Kysely', 's', db.seedSeconds);
  const started: Array<{ label: string; base: string; service: ReturnType<typeof startService> }> = [];
  const p = db.projects[0]!;
  const token = `bench:${p}`;
  try {
    for (const [label, cacheBytes] of SERVICES) {
      const port = await freePort();
      const dataDir = join(o.workdir, `api-data-${started.length}`);
      mkdirSync(dataDir, { recursive: true });
      const service = startService({
        DATABASE_URL: db.url,
        PORT: String(port),
        CBR_PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        ROLE: 'api',
        LOG_LEVEL: 'warn',
        BACKUP_STORE: 'posix',
        QUOTA_BACKUPS: '-1',
        QUOTA_BACKUP_GIGABYTES: '-1',
        AUTH_STRATEGY: 'noauth',
        LIST_CACHE_BYTES: cacheBytes,
      });
      started.push({ label, base: `http://127.0.0.1:${port}`, service });
      await waitHealthy(started.at(-1)!.base, 60_000).catch((err: Error) => {
        throw new Error(`${err.message}: ${service.stderr()}`);
      });
    }
    const [off, on] = started as [(typeof started)[0], (typeof started)[0]];
    // Issue 16's lists: backups, volumes (the seeded volumes of project 0, with metadata) and Trove backups.
    const lists = [
      ['GET /v3/{p}/backups/detail?limit=100', `/v3/${p}/backups/detail?limit=100`],
      ['GET /v3/{p}/volumes/detail?limit=100', `/v3/${p}/volumes/detail?limit=100`],
      [TROVE_LISTS[0], `/v1.0/${p}/backups?limit=20`],
      [TROVE_LISTS[1], `/v1.0/${p}/backups?limit=100`],
    ] as const;
    const show = ['GET /v3/{p}/backups/{id}', `/v3/${p}/backups/${db.someBackupId}`] as const;
    const probe = async (base: string, metric: string, path: string) => {
      const r = await fetch(base + path, { headers: { 'x-auth-token': token } });
      const text = await r.text();
      if (r.status !== 200) throw new Error(`${metric} answered ${r.status}: ${text.slice(0, 300)}`);
      return text;
    };
    // The two services answer the same bytes but for their ports in the links (test/integration/*-list-cache.test.ts prove it at length).
    const unported = async (s: typeof off, l: (typeof lists)[number]) =>
      (await probe(s.base, l[0], l[1])).replaceAll(s.base, 'http://service');
    for (const l of lists)
      if ((await unported(off, l)) !== (await unported(on, l)))
        throw new Error(`the cached and uncached services answered different ${l[0]}`);
    const load = async (base: string, metric: string, path: string, label: string) => {
      await probe(base, metric, path);
      o.log(`${section}: autocannon ${metric} (${label}) for ${seconds} s, load ${loadavg()[0]!.toFixed(2)}`);
      const r = await autocannon(base + path, token, seconds, 10);
      if (r.non2xx || r.errors) o.notes.push(`${metric} (${label}): ${r.non2xx} non-2xx answers and ${r.errors} errors under load`);
      return r;
    };
    for (let run = 0; run < o.runs; run++) {
      // Alternate which goes first, so that drift in the machine's load falls on both alike.
      const order = run % 2 === 0 ? [off, on] : [on, off];
      for (const [metric, path] of lists) {
        const got = new Map<string, Cannon>();
        for (const s of order) got.set(s.label, await load(s.base, metric, path, s.label));
        const [rOff, rOn] = [got.get('cache off')!, got.get('cache on')!];
        record(o, section, metric, rOn);
        record(o, section, `${metric} with LIST_CACHE_BYTES=0`, rOff);
        o.figures.add(section, `${metric}: requests/s, cache on / off (same run)`, 'x', rOn.requests.average / rOff.requests.average);
      }
      o.figures.add(section, 'load average (1 min) during the run', '', loadavg()[0]!);
      record(o, section, show[0], await load(on.base, show[0], show[1], 'cache on'));
    }
    await postAndWriteCost(o, section, on.base, token, db);
  } catch (err) {
    o.gaps.push(`API load: ${(err as Error).message.slice(0, 400)}`);
  } finally {
    for (const s of started) await s.service.stop();
    await db.drop();
  }
}

function record(o: ApiBenchOptions, section: string, metric: string, r: Cannon): void {
  o.figures.add(section, `${metric}: requests/s (10 connections)`, 'req/s', r.requests.average);
  o.figures.add(section, `${metric}: p50 latency`, 'ms', r.latency.p50);
  o.figures.add(section, `${metric}: p99 latency`, 'ms', r.latency.p99);
}

/**
 * POST /backups accept latency (sequential, one backup per volume), alternating the list
 * version triggers on and off in blocks, then what the triggers cost other writes.
 */
async function postAndWriteCost(o: ApiBenchOptions, section: string, base: string, token: string, seeded: ApiDatabase): Promise<void> {
  const p = seeded.projects[0]!;
  o.log(`${section}: POST /backups x ${seeded.volumeIds.length}, list version triggers on and off`);
  const db = createDb({ url: seeded.url, poolSize: 2 });
  try {
    const volumeIds = [...seeded.volumeIds];
    const perBlock = Math.max(1, Math.floor(volumeIds.length / 10));
    const post = await onOff(db, 5, perBlock, async () => {
      const volumeId = volumeIds.shift();
      if (!volumeId) return;
      const res = await fetch(`${base}/v3/${p}/backups`, {
        method: 'POST',
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ backup: { volume_id: volumeId, name: 'bench' } }),
      });
      await res.arrayBuffer();
      if (res.status !== 202) throw new Error(`POST /backups answered ${res.status}`);
    });
    o.figures.add(section, 'POST /v3/{p}/backups accept latency p50 (sequential)', 'ms', post.on);
    o.figures.add(section, 'POST /v3/{p}/backups accept latency p50, list version triggers off', 'ms', post.off);
    const other = seeded.projects[1] ?? p;
    const ids = (await db.selectFrom('backups').select('id').where('project_id', '=', other).limit(200).execute()).map((r) => r.id);
    const cost = await writeCost(db, other, ids);
    for (const [what, m] of [
      ['UPDATE of one backup name', cost.rename],
      ['UPDATE of one backup progress', cost.progress],
      ["UPDATE of all of one project's backups (one statement)", cost.bulk],
    ] as const) {
      o.figures.add(section, `${what}: ms, list version triggers on`, 'ms', m.on);
      o.figures.add(section, `${what}: ms, list version triggers off`, 'ms', m.off);
    }
  } finally {
    await db.destroy();
  }
}
