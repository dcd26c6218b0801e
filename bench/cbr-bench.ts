import { mkdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../src/db/embedded.js';
import { FileVolumeBackend } from '../src/volumes/file-backend.js';
import { freshDatabase } from './bench-db.js';
import { generateImage } from './gen-image.js';
import { sequentialRead } from './machine-limit.js';
import { startService, waitHealthy } from './service.js';
import type { Figures } from './stats.js';

/**
 * CBR against the Cinder API of the same service (issue 14): the real service (ROLE=all, posix,
 * zstd, default BACKUP_MAX_OPERATIONS) with `count` volumes of 1 GiB created through the Cinder
 * API, the first `fillBytes` of each filled with a seeded image (gen-image.ts; --smoke: 16 MiB, the
 * rest stays sparse). Per run, both full backups of the same volumes, in alternating order:
 * ONE checkpoint over a vault holding them (POST /checkpoints, incremental false, polled until the
 * checkpoint is available and every protect_status available), and `count` sequential Cinder
 * backups (POST /v3/{p}/backups, each polled until available before the next). The volume files
 * are read once before each timed part, so both start from a warm page cache. Backups are
 * deleted between runs.
 */
export interface CbrBenchOptions {
  smoke: boolean;
  runs: number;
  figures: Figures;
  gaps: string[];
  log: (s: string) => void;
  workdir: string;
}

const GiB = 2 ** 30;
const PROJECT = 'cbcbcbcbcbcbcbcbcbcbcbcbcbcbcbcb';
const POLL_MS = 200;

type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>;

function caller(base: string): Call {
  return async (method, path, body) => {
    const res = await fetch(`${base}/v3/${PROJECT}${path}`, {
      method,
      headers: { 'x-auth-token': `bench:${PROJECT}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
}

async function poll<T>(what: string, f: () => Promise<T | undefined>, ms = 3_600_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function expectStatus(what: string, r: { status: number; json: any }, status: number): void {
  if (r.status !== status) throw new Error(`${what} answered ${r.status}: ${JSON.stringify(r.json).slice(0, 300)}`);
}

/** One checkpoint over the vault, until it and every resource are available; returns its backup ids. */
async function checkpoint(cbr: Call, vaultId: string): Promise<string[]> {
  const cp = await cbr('POST', '/checkpoints', { checkpoint: { vault_id: vaultId, parameters: { incremental: false } } });
  expectStatus('POST /checkpoints', cp, 200);
  const id = cp.json.checkpoint.id as string;
  await poll('checkpoint available', async () => {
    const c = (await cbr('GET', `/checkpoints/${id}`)).json.checkpoint;
    if (c.status === 'error') throw new Error(`checkpoint ${id} failed`);
    return c.status === 'available' && c.vault.resources.every((r: any) => r.protect_status === 'available') ? true : undefined;
  });
  const list = await cbr('GET', `/backups?checkpoint_id=${id}`);
  return list.json.backups.map((b: any) => b.id as string);
}

/** One Cinder backup per volume, each until available before the next; returns their ids. */
async function sequentialBackups(cinder: Call, volumeIds: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const volumeId of volumeIds) {
    const r = await cinder('POST', '/backups', { backup: { volume_id: volumeId, name: 'bench-seq' } });
    expectStatus('POST /backups', r, 202);
    const id = r.json.backup.id as string;
    await poll('backup available', async () => {
      const b = (await cinder('GET', `/backups/${id}`)).json.backup;
      if (b.status === 'error') throw new Error(`backup ${id} failed: ${b.fail_reason}`);
      return b.status === 'available' ? true : undefined;
    });
    ids.push(id);
  }
  return ids;
}

export async function cbrBench(o: CbrBenchOptions): Promise<void> {
  const count = 8;
  const fillBytes = o.smoke ? 16 * 2 ** 20 : GiB;
  const filled = o.smoke ? ', 16 MiB written' : '';
  const section = `CBR checkpoint vs Cinder API backups, ${count} volumes of 1 GiB${filled}, one service, posix, zstd`;
  const db = await freshDatabase(o.workdir, `cbt_cbr_bench_${process.pid}`);
  const [port, cbrPort] = [await freePort(), await freePort()];
  const dataDir = join(o.workdir, 'cbr-data');
  mkdirSync(dataDir, { recursive: true });
  const service = startService({
    DATABASE_URL: db.url,
    PORT: String(port),
    CBR_PORT: String(cbrPort),
    HOST: '127.0.0.1',
    HOST_ID: 'bench',
    DATA_DIR: dataDir,
    ROLE: 'all',
    LOG_LEVEL: 'warn',
    BACKUP_STORE: 'posix',
    BACKUP_COMPRESSION: 'zstd',
    JOB_POLL_MS: '100',
    QUOTA_VOLUMES: String(count + 2),
    QUOTA_GIGABYTES: '-1',
    QUOTA_BACKUPS: '-1',
    QUOTA_BACKUP_GIGABYTES: '-1',
    AUTH_STRATEGY: 'noauth',
  });
  const cinder = caller(`http://127.0.0.1:${port}`);
  const cbr = caller(`http://127.0.0.1:${cbrPort}`);
  const files = new FileVolumeBackend(dataDir);
  try {
    await waitHealthy(`http://127.0.0.1:${port}`, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${service.stderr()}`);
    });
    o.log(`${section}: ${count} volumes`);
    const volumeIds: string[] = [];
    for (let i = 0; i < count; i++) {
      const r = await cinder('POST', '/volumes', { volume: { size: 1, name: `cbr-bench-${i}` } });
      expectStatus('POST /volumes', r, 202);
      const id = r.json.volume.id as string;
      await poll('volume available', async () =>
        (await cinder('GET', `/volumes/${id}`)).json.volume.status === 'available' ? true : undefined,
      );
      // Written in place (the volume is not in use): the same seeded content the other parts back up.
      generateImage(files.volumePath(id), fillBytes, 201 + i);
      truncateSync(files.volumePath(id), GiB); // back to the volume's size (sparse after the image)
      volumeIds.push(id);
    }
    const billing = { object_type: 'disk', protect_type: 'backup', consistent_level: 'crash_consistent', size: 10_000 };
    const resources = volumeIds.map((id) => ({ id, type: 'OS::Cinder::Volume' }));
    const vault = await cbr('POST', '/vaults', { vault: { name: 'bench', billing, resources } });
    expectStatus('POST /vaults', vault, 200);
    const vaultId = vault.json.vault.id as string;
    const warm = () => volumeIds.forEach((id) => sequentialRead(files.volumePath(id)));
    const mib = (count * GiB) / 2 ** 20;

    for (let run = 1; run <= o.runs; run++) {
      const order = run % 2 === 1 ? ['cbr', 'cinder'] : ['cinder', 'cbr'];
      const made: string[] = [];
      for (const part of order) {
        warm();
        const t0 = performance.now();
        if (part === 'cbr') {
          o.log(`${section}: run ${run}/${o.runs}: one checkpoint`);
          made.push(...(await checkpoint(cbr, vaultId)));
          const s = (performance.now() - t0) / 1000;
          o.figures.add(section, `one checkpoint over the ${count} volumes`, 's', s);
          o.figures.add(section, 'one checkpoint: volume bytes / time', 'MiB/s', mib / s);
        } else {
          o.log(`${section}: run ${run}/${o.runs}: ${count} sequential Cinder backups`);
          made.push(...(await sequentialBackups(cinder, volumeIds)));
          const s = (performance.now() - t0) / 1000;
          o.figures.add(section, `${count} sequential Cinder backups`, 's', s);
          o.figures.add(section, 'sequential Cinder backups: volume bytes / time', 'MiB/s', mib / s);
        }
      }
      const cp = o.figures.all().find((f) => f.section === section && f.metric.startsWith('one checkpoint over'))!;
      const seq = o.figures.all().find((f) => f.section === section && f.metric.endsWith('sequential Cinder backups'))!;
      o.figures.add(section, 'checkpoint time / sequential time (same run)', '%', (100 * cp.values.at(-1)!) / seq.values.at(-1)!);
      for (const id of made) await cinder('DELETE', `/backups/${id}`);
      await poll('backups deleted', async () => {
        for (const id of made) if ((await cinder('GET', `/backups/${id}`)).status !== 404) return undefined;
        return true;
      });
    }
  } catch (err) {
    o.gaps.push(`CBR vs Cinder API: ${(err as Error).message.slice(0, 400)}`);
  } finally {
    await service.stop();
    await db.drop();
  }
}
