import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ZLIB_LEVEL, ZSTD_LEVEL } from '../src/engine/codec.js';
import type { LimitResult, LimitTask } from './limit-worker.js';

/**
 * What this machine can do with one image, measured in the same run as the engine: the
 * pipeline's stages (read, sha256 per block, compress) each at full speed on all cores.
 * The slowest stage is the limit the engine is held against (issue 7); because hashing and
 * compressing share the same cores, "sha256+zstd" and the format's whole work (sha256+md5+zstd) are reported too,
 * and a restore's (decompress + sha256), the bound a restore is held against (issue 16).
 */

const MiB = 1024 * 1024;

export interface StageFigure {
  stage: string;
  mibPerSec: number;
  ratio?: number;
  note?: string;
}

export interface MachineLimit {
  file: string;
  sizeBytes: number;
  cores: number;
  coldCache: boolean;
  coldNote: string;
  stages: StageFigure[];
  /** The slowest of read (warm), sha256 and the engine's codec (zstd in the pool). */
  limit: StageFigure;
  /** sha256, md5 and compress of every chunk on the same cores: the CPU bound of one backup in Cinder's format. */
  combined: StageFigure;
  /** Decompress and sha256 of every chunk on the same cores: the CPU bound of one restore. */
  restoreWork: StageFigure;
}

/** Drops the page cache (root with a writable /proc/sys); returns why not otherwise. */
export function dropCaches(): { ok: boolean; note: string } {
  try {
    spawnSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return { ok: true, note: 'page cache dropped with /proc/sys/vm/drop_caches' };
  } catch (err) {
    return {
      ok: false,
      note: `cannot drop the page cache (${(err as NodeJS.ErrnoException).code ?? String(err)}): cold read not measured`,
    };
  }
}

/** Sequential read of the whole file in 4 MiB reads on one thread. */
export function sequentialRead(file: string): number {
  const size = statSync(file).size;
  const buf = Buffer.allocUnsafe(4 * MiB);
  const fd = openSync(file, 'r');
  const t0 = performance.now();
  try {
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, 0, buf.length, off);
      if (n === 0) break;
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  return size / MiB / ((performance.now() - t0) / 1000);
}

/** Runs one stage over the whole file on `workers` threads; returns MiB/s and bytes out. */
export async function poolStage(
  file: string,
  op: LimitTask['op'],
  workers = availableParallelism(),
  chunkSize = 32 * MiB,
): Promise<{ mibPerSec: number; busyMibPerSec: number; bytesOut: number }> {
  const sizeBytes = statSync(file).size;
  const counter = new SharedArrayBuffer(4);
  const task: LimitTask = { file, sizeBytes, chunkSize, blockSize: 32 * 1024, op, zstdLevel: ZSTD_LEVEL, zlibLevel: ZLIB_LEVEL, counter };
  const url = new URL('./limit-worker.js', import.meta.url);
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from(
      { length: workers },
      () =>
        new Promise<LimitResult>((resolve, reject) => {
          const w = new Worker(url, { workerData: task });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const bytesOut = results.reduce((a, r) => a + r.bytesOut, 0);
  // The measured work alone, every thread busy with it: bytes over the mean busy time per thread.
  const busySeconds = results.reduce((a, r) => a + r.busySeconds, 0) / workers;
  return { mibPerSec: sizeBytes / MiB / seconds, busyMibPerSec: sizeBytes / MiB / busySeconds, bytesOut };
}

/** The zstd command on all cores (`zstd -T0 -<level>`), output counted and discarded; null when absent. */
export async function zstdCli(file: string, level: number): Promise<StageFigure | null> {
  const size = statSync(file).size;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn('zstd', ['-T0', `-${level}`, '-c', '-q', file], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = 0;
    child.stdout.on('data', (d: Buffer) => (out += d.length));
    child.once('error', () => resolve(null));
    child.once('close', (code) => {
      if (code !== 0) return resolve(null);
      const s = (performance.now() - t0) / 1000;
      resolve({ stage: `zstd -T0 -${level} (command)`, mibPerSec: size / MiB / s, ratio: size / out });
    });
  });
}

/** Measures every stage on `file` and names the limit; zlib (not the engine's default codec) only when asked. */
export async function measureMachineLimit(file: string, log: (s: string) => void = () => {}, withZlib = false): Promise<MachineLimit> {
  const sizeBytes = statSync(file).size;
  const cores = availableParallelism();
  const stages: StageFigure[] = [];
  const add = (f: StageFigure | null): void => {
    if (!f) return;
    stages.push(f);
    log(`  ${f.stage}: ${f.mibPerSec.toFixed(0)} MiB/s${f.ratio ? ` (ratio ${f.ratio.toFixed(2)})` : ''}`);
  };
  const cold = dropCaches();
  if (cold.ok) add({ stage: 'sequential read, cold cache', mibPerSec: sequentialRead(file) });
  else log(`  ${cold.note}`);
  sequentialRead(file); // make sure the file is cached before the warm figures
  add({ stage: 'sequential read, warm cache', mibPerSec: sequentialRead(file) });
  const sha = await poolStage(file, 'sha256');
  add({ stage: `sha256 per 32 KiB block, ${cores} threads`, mibPerSec: sha.mibPerSec });
  const z = await poolStage(file, 'zstd');
  add({ stage: `zstd-napi L${ZSTD_LEVEL}, ${cores} threads`, mibPerSec: z.mibPerSec, ratio: sizeBytes / z.bytesOut });
  if (withZlib) {
    const zl = await poolStage(file, 'zlib');
    add({ stage: `zlib L${ZLIB_LEVEL}, ${cores} threads`, mibPerSec: zl.mibPerSec, ratio: sizeBytes / zl.bytesOut });
  }
  add(await zstdCli(file, 1));
  add(await zstdCli(file, ZSTD_LEVEL));
  const both = await poolStage(file, 'sha256+zstd');
  add({ stage: `sha256 + zstd L${ZSTD_LEVEL}, ${cores} threads`, mibPerSec: both.mibPerSec, ratio: sizeBytes / both.bytesOut });
  // The format's own floor: Cinder's _metadata records the md5 of every raw chunk, a third pass
  // over the data (md5 runs at ~650 MB/s a core) that none of the stages above includes.
  const floor = await poolStage(file, 'format');
  const combined = {
    stage: `sha256 + md5 + zstd L${ZSTD_LEVEL} (the format's work), ${cores} threads`,
    mibPerSec: floor.mibPerSec,
    ratio: sizeBytes / floor.bytesOut,
  };
  add(combined);
  // A restore's floor: each chunk is compressed first, outside the time counted.
  const restore = await poolStage(file, 'restore');
  const restoreWork = {
    stage: `zstd decompress + sha256 (a restore's work), ${cores} threads`,
    mibPerSec: restore.busyMibPerSec,
    ratio: sizeBytes / restore.bytesOut,
  };
  add(restoreWork);
  const candidates = stages.filter(
    (s) => s.stage === 'sequential read, warm cache' || s.stage.startsWith('sha256 per') || s.stage.startsWith('zstd-napi'),
  );
  const limit = candidates.reduce((a, b) => (b.mibPerSec < a.mibPerSec ? b : a));
  return { file, sizeBytes, cores, coldCache: cold.ok, coldNote: cold.note, stages, limit, combined, restoreWork };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/bench/machine-limit.js IMAGE\n');
    process.exit(2);
  }
  const r = await measureMachineLimit(file, (s) => process.stderr.write(s + '\n'), true);
  console.log(JSON.stringify(r, null, 1));
}
