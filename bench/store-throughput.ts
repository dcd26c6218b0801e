/**
 * Put/get throughput of one ObjectStore: N objects of SIZE MiB at a given concurrency.
 *
 *   npx tsx bench/store-throughput.ts s3 http://127.0.0.1:9000 [accessKey] [secret] [mode]
 *   npx tsx bench/store-throughput.ts posix /tmp/bench-store
 * Env: BENCH_OBJECTS (16), BENCH_MIB (32), BENCH_CONCURRENCY (4).
 * Bodies are random (incompressible) and made once, so the numbers are the store's.
 */
import { randomBytes } from 'node:crypto';
import type { ObjectStore } from '../src/storage/object-store.js';
import { PosixObjectStore } from '../src/storage/posix-store.js';
import { S3ObjectStore } from '../src/storage/s3-store.js';

const count = Number(process.env.BENCH_OBJECTS ?? 16);
const mib = Number(process.env.BENCH_MIB ?? 32);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4);
const [kind, where, accessKeyId = 'test', secretAccessKey = 'test', mode = 'WHEN_REQUIRED'] = process.argv.slice(2);
if (!kind || !where) throw new Error('usage: store-throughput.ts s3|posix <endpoint|dir> [accessKey secret mode]');

const container = `bench-${Date.now()}`;
const store: ObjectStore =
  kind === 'posix'
    ? new PosixObjectStore(where)
    : new S3ObjectStore({
        endpoint: where,
        region: 'us-east-1',
        accessKeyId,
        secretAccessKey,
        forcePathStyle: true,
        checksumMode: mode === 'WHEN_SUPPORTED' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
        maxAttempts: 3,
        timeoutMs: 120_000,
        maxSockets: concurrency,
        bucket: container,
        multipartThreshold: 64 * 1024 * 1024,
      });

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; returns MiB/s. */
async function timed(task: (i: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return (count * mib) / ((performance.now() - started) / 1000);
}

const bodies = Array.from({ length: Math.min(count, concurrency * 2) }, () => randomBytes(mib * 1024 * 1024));
await store.ensureContainer(container);
const keys = Array.from({ length: count }, (_, i) => `volume_bench/az_nova_backup_bench-${String(i + 1).padStart(5, '0')}`);
const put = await timed((i) => store.put(container, keys[i]!, bodies[i % bodies.length]!));
const get = await timed(async (i) => {
  let n = 0;
  for await (const chunk of await store.getStream(container, keys[i]!)) n += (chunk as Buffer).length;
  if (n !== mib * 1024 * 1024) throw new Error(`short read of ${keys[i]}: ${n}`);
});
await store.deleteMany(container, keys);
await store.close();
console.log(
  `${kind} ${where} ${mode}: ${count} x ${mib} MiB, concurrency ${concurrency}: put ${put.toFixed(0)} MiB/s, get ${get.toFixed(0)} MiB/s`,
);
