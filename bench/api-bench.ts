import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../src/db/embedded.js';
import { seedApiDatabase } from './api-seed.js';
import { repoRoot } from './cinder.js';
import { startService, waitHealthy } from './service.js';
import { median, type Figures } from './stats.js';

/**
 * API load (issue 7): backups seeded straight into Postgres (100 projects x 1,000 = 100,000
 * rows; --smoke: 10 x 100), the real service (`node dist/src/main.js`, ROLE=api, noauth) on
 * loopback, and autocannon in a second process for a bounded time against
 * GET /v3/{p}/backups/detail?limit=100 and GET /v3/{p}/backups/{id}; then the accept latency
 * of POST /v3/{p}/backups (202) for one backup per volume, sequentially.
 */
export interface ApiBenchOptions {
  smoke: boolean;
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

export async function apiBench(o: ApiBenchOptions): Promise<void> {
  const [projects, perProject, volumes, seconds] = o.smoke ? [10, 100, 20, 3] : [100, 1000, 200, 15];
  const section = `API, ${(projects * perProject).toLocaleString('en')} backups in ${projects} projects`;
  o.log(`${section}: seeding`);
  const db = await seedApiDatabase(o.workdir, projects, perProject, volumes);
  o.figures.add(section, 'seeding through Kysely', 's', db.seedSeconds);
  const port = await freePort();
  const dataDir = join(o.workdir, 'api-data');
  mkdirSync(dataDir, { recursive: true });
  const env = {
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
  };
  const service = startService(env);
  const base = `http://127.0.0.1:${port}`;
  const p = db.projects[0]!;
  const token = `bench:${p}`;
  try {
    await waitHealthy(base, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${service.stderr()}`);
    });
    for (const [metric, path] of [
      ['GET /v3/{p}/backups/detail?limit=100', `/v3/${p}/backups/detail?limit=100`],
      ['GET /v3/{p}/backups/{id}', `/v3/${p}/backups/${db.someBackupId}`],
    ] as const) {
      const probe = await fetch(base + path, { headers: { 'x-auth-token': token } });
      if (probe.status !== 200) throw new Error(`${metric} answered ${probe.status}: ${(await probe.text()).slice(0, 300)}`);
      o.log(`${section}: autocannon ${metric} for ${seconds} s`);
      const r = await autocannon(base + path, token, seconds, 10);
      o.figures.add(section, `${metric}: requests/s (10 connections)`, 'req/s', r.requests.average);
      o.figures.add(section, `${metric}: p50 latency`, 'ms', r.latency.p50);
      o.figures.add(section, `${metric}: p99 latency`, 'ms', r.latency.p99);
      if (r.non2xx || r.errors) o.notes.push(`${metric}: ${r.non2xx} non-2xx answers and ${r.errors} errors under load`);
    }
    o.log(`${section}: POST /backups x ${volumes}`);
    const lat: number[] = [];
    for (const volumeId of db.volumeIds) {
      const t0 = performance.now();
      const res = await fetch(`${base}/v3/${p}/backups`, {
        method: 'POST',
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ backup: { volume_id: volumeId, name: 'bench' } }),
      });
      await res.arrayBuffer();
      if (res.status !== 202) throw new Error(`POST /backups answered ${res.status}`);
      lat.push(performance.now() - t0);
    }
    lat.sort((a, b) => a - b);
    o.figures.add(section, 'POST /v3/{p}/backups accept latency p50 (sequential)', 'ms', median(lat));
    o.figures.add(
      section,
      'POST /v3/{p}/backups accept latency p99 (sequential)',
      'ms',
      lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))]!,
    );
  } catch (err) {
    o.gaps.push(`API load: ${(err as Error).message.slice(0, 400)}`);
  } finally {
    await service.stop();
    await db.drop();
  }
}
