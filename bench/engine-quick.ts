/**
 * Quick engine benchmark (not a test): backup, 1 % incremental and restore of a generated 1 GiB
 * disk-like image (40 % random, 30 % text, 30 % zero 4 KiB pages), per store and codec, each
 * combination in its own process so peak RSS is its own. Also compares zlib level 1 vs 6.
 *   npx tsx bench/engine-quick.ts [sizeMiB]        (or node dist/bench/engine-quick.js after a build)
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { Compressor } from 'zstd-napi';
import { createBackupEngine } from '../src/engine/backup-engine.js';
import type { Compression } from '../src/engine/engine-api.js';
import { MemoryObjectStore } from '../src/storage/memory-store.js';
import { PosixObjectStore } from '../src/storage/posix-store.js';
import { writeVolumeImage } from './volume-image.js';

const MiB = 1024 * 1024;

async function runOne(image: string, size: number, storeKind: string, compression: Compression): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'engine-bench-'));
  const store = storeKind === 'posix' ? new PosixObjectStore(join(dir, 'store')) : new MemoryObjectStore();
  const engine = createBackupEngine({
    compression,
    objectSize: 32 * MiB,
    blockSize: 32 * 1024,
    chunksInFlight: 4,
    uploadConcurrency: 4,
    workerThreads: 2,
  });
  const req = (prefix: string, parent: { backupId: string; location: { container: string; prefix: string } } | null) => ({
    backupId: prefix,
    volumeId: 'v',
    name: null,
    description: null,
    createdAt: new Date(),
    location: { container: 'volumebackups', prefix },
    source: { path: image, sizeBytes: size },
    parent,
    volumeMeta: null,
  });
  // CPU seconds (all threads) per step too: on a shared, loaded machine wall time says little.
  const cpu: Record<string, number> = {};
  const timed = async <T>(fn: () => Promise<T>, step: string): Promise<[T, number]> => {
    const t = performance.now();
    const c = process.cpuUsage();
    const r = await fn();
    const used = process.cpuUsage(c);
    cpu[step] = +((used.user + used.system) / 1e6).toFixed(2);
    return [r, (performance.now() - t) / 1000];
  };
  // Sampled, because ru_maxrss of a child starts at its parent's RSS at fork time on Linux.
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  try {
    const [full, tFull] = await timed(() => engine.backup(store, req('full', null)), 'backup');
    // 1 % of 32 KiB blocks changed at random, then an incremental.
    const fh = await open(image, 'r+');
    for (let i = 0; i < size / (32 * 1024) / 100; i++)
      await fh.write(randomBytes(32 * 1024), 0, 32 * 1024, Math.floor(Math.random() * (size / (32 * 1024))) * 32 * 1024);
    await fh.close();
    const [inc, tInc] = await timed(
      () => engine.backup(store, req('inc', { backupId: 'full', location: { container: 'volumebackups', prefix: 'full' } })),
      'incremental',
    );
    const target = join(dir, 'restored');
    await writeFile(target, '');
    await truncate(target, size);
    const chain = [
      { container: 'volumebackups', prefix: 'full' },
      { container: 'volumebackups', prefix: 'inc' },
    ];
    const [, tRestore] = await timed(
      () => engine.restore(store, { chain, target: { path: target, sizeBytes: size }, targetIsNew: true }),
      'restore',
    );
    clearInterval(sampler);
    const peakRssMiB = Math.round(peakRss / MiB); // before the check below reads files
    const same = (await sha256(image)) === (await sha256(target));
    const mib = size / MiB;
    console.log(
      JSON.stringify({
        store: storeKind,
        compression,
        backupMiBs: +(mib / tFull).toFixed(1),
        incrementalMiBs: +(mib / tInc).toFixed(1),
        restoreMiBs: +(mib / tRestore).toFixed(1),
        storedMiB: +(full.storedBytes / MiB).toFixed(1),
        incStoredMiB: +(inc.storedBytes / MiB).toFixed(1),
        incObjects: inc.objectCount,
        peakRssMiB,
        cpuSeconds: cpu,
        loadAvg: +loadavg()[0]!.toFixed(1),
        restoredIdentical: same,
      }),
    );
  } finally {
    clearInterval(sampler);
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Single-thread speed and ratio of the codec levels in question, on 128 MiB of the image. */
async function codecLevels(image: string): Promise<void> {
  const fh = await open(image, 'r');
  const data = Buffer.alloc(Math.min(128 * MiB, (await fh.stat()).size));
  await fh.read(data, 0, data.length, 0);
  await fh.close();
  const zstd = (level: number) => {
    const c = new Compressor();
    c.setParameters({ compressionLevel: level, contentSizeFlag: true });
    return (b: Buffer) => c.compress(b);
  };
  const codecs: Array<[string, (b: Buffer) => Buffer]> = [
    ['zlib-1', (b) => deflateSync(b, { level: 1 })],
    ['zlib-6', (b) => deflateSync(b, { level: 6 })],
    ['zstd-1', zstd(1)],
    ['zstd-3', zstd(3)],
  ];
  for (const [name, fn] of codecs) {
    const t = performance.now();
    let out = 0;
    for (let off = 0; off < data.length; off += 32 * MiB) out += fn(data.subarray(off, off + 32 * MiB)).length;
    const s = (performance.now() - t) / 1000;
    console.log(JSON.stringify({ codec: name, MiBs: +(data.length / MiB / s).toFixed(1), ratio: +(data.length / out).toFixed(2) }));
  }
}

const [, , sizeArg, image, storeKind, compression] = process.argv;
const size = Number(sizeArg ?? 1024) * MiB;
if (image && storeKind && compression) {
  await runOne(image, size, storeKind, compression as Compression);
} else {
  const dir = await mkdtemp(join(tmpdir(), 'engine-bench-img-'));
  const img = join(dir, 'image');
  try {
    await writeVolumeImage(img, size);
    await codecLevels(img);
    const self = fileURLToPath(import.meta.url);
    const execArgv = self.endsWith('.ts') ? ['--import', 'tsx'] : [];
    for (const store of ['posix', 'memory']) {
      for (const codec of ['zstd', 'zlib']) {
        // A fresh image copy per run: the incremental step modifies it.
        const copy = join(dir, 'copy');
        await copyFile(img, copy); // not through this process's memory: a child inherits the parent's peak RSS
        execFileSync(process.execPath, [...execArgv, self, String(size / MiB), copy, store, codec], { stdio: 'inherit' });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
