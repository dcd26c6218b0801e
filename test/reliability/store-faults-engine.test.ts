import { join } from 'node:path';
import { truncate, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { writeVolumeImage } from '../../bench/volume-image.js';
import { BackupIntegrityError } from '../../src/engine/engine-api.js';
import { ObjectStoreError } from '../../src/storage/object-store.js';
import { changeRandomBlocks, engineFixture, sameBytes } from '../helpers/engine-fixtures.js';
import { ALL_FAULTS, startFaultProxy, totalInjected, type FaultKind } from './fault-proxy.js';
import { baseSeed, bucketName, report, rounds, s3Store, within } from './helpers.js';

/**
 * The engine against moto_server through the fault proxy: every backup and restore either
 * succeeds byte-identically or fails with a clear, bounded error; nothing hangs; a failed
 * backup, once deleted, leaves no object behind.
 */
const moto = inject('motoEndpoint');
const size = 640 * 1024 + 1234;
const seed = baseSeed();
let fx: Awaited<ReturnType<typeof engineFixture>>;
let bucket: string;
const clean = () => s3Store(moto!, bucket);
const totals = {
  rounds: 0,
  injected: 0,
  byKind: {} as Record<string, number>,
  backupsOk: 0,
  backupsFailed: 0,
  restoresOk: 0,
  restoresFailed: 0,
};

function expectClearFailure(err: unknown): void {
  expect(err instanceof ObjectStoreError || err instanceof BackupIntegrityError, `unexpected error type: ${String(err)}`).toBe(true);
  const message = (err as Error).message;
  expect(message.length).toBeGreaterThan(10);
  expect(message.length).toBeLessThanOrEqual(255);
  expect(message).not.toMatch(/test|secret|signature/i); // no credentials or request details
}

async function restoreInto(dst: string, run: () => Promise<unknown>): Promise<unknown> {
  await writeFile(dst, '');
  await truncate(dst, size);
  return run().then(
    () => null,
    (e: unknown) => e,
  );
}

describe.skipIf(moto === null)('object store faults (engine through a fault proxy to moto_server)', () => {
  beforeAll(async () => {
    fx = await engineFixture();
    bucket = bucketName('faults');
    const s = clean();
    await s.ensureContainer(bucket);
    await s.close();
  });
  afterAll(async () => {
    report('store-faults-engine', { seed, ...totals });
    await fx?.cleanup();
  });

  it.each(Array.from({ length: rounds(4, 20) }, (_, i) => i))(
    'round %i: a full and an incremental backup under 15 percent faults restore byte-identically or fail clearly',
    async (i) => {
      const proxy = await startFaultProxy(moto!, { seed: seed + i, rate: 0.15 });
      const faulty = s3Store(proxy.endpoint, bucket, { timeoutMs: 800 });
      const engine = fx.engine({ objectSize: 64 * 1024, blockSize: 4096 });
      const src = join(fx.dir, `src-${i}`);
      await writeVolumeImage(src, size, { random: 0.5, text: 0.3 }, seed + i);
      const full = fx.location();
      const check = clean();
      try {
        totals.rounds++;
        const backupErr = await within(90_000, 'backup', engine.backup(faulty, fx.request(src, size, full))).then(
          () => null,
          (e: unknown) => e,
        );
        if (backupErr) {
          totals.backupsFailed++;
          expectClearFailure(backupErr);
          await engine.deleteBackup(check, full);
          expect(await check.list(bucket, full.prefix)).toEqual([]);
          return;
        }
        totals.backupsOk++;
        const dst = join(fx.dir, `dst-${i}`);
        const restoreErr = await within(
          90_000,
          'restore',
          restoreInto(dst, () => engine.restore(faulty, { chain: [full], target: { path: dst, sizeBytes: size }, targetIsNew: true })),
        );
        if (restoreErr) {
          totals.restoresFailed++;
          expectClearFailure(restoreErr);
        } else {
          totals.restoresOk++;
          expect(await sameBytes(src, dst, size)).toBe(true);
        }
        // The backup itself is intact: a clean restore gives the source back.
        const dst2 = join(fx.dir, `dst2-${i}`);
        expect(
          await restoreInto(dst2, () =>
            engine.restore(check, { chain: [full], target: { path: dst2, sizeBytes: size }, targetIsNew: true }),
          ),
        ).toBeNull();
        expect(await sameBytes(src, dst2, size)).toBe(true);

        await changeRandomBlocks(src, size, 4096, 12);
        const incr = fx.location();
        const incrErr = await within(
          90_000,
          'incremental',
          engine.backup(faulty, fx.request(src, size, incr, { backupId: full.prefix.slice(-36), location: full })),
        ).then(
          () => null,
          (e: unknown) => e,
        );
        if (incrErr) {
          totals.backupsFailed++;
          expectClearFailure(incrErr);
          await engine.deleteBackup(check, incr);
          expect(await check.list(bucket, incr.prefix)).toEqual([]);
        } else {
          totals.backupsOk++;
          expect(
            await restoreInto(dst2, () =>
              engine.restore(check, { chain: [full, incr], target: { path: dst2, sizeBytes: size }, targetIsNew: false }),
            ),
          ).toBeNull();
          expect(await sameBytes(src, dst2, size)).toBe(true);
        }
      } finally {
        totals.injected += totalInjected(proxy);
        for (const [k, v] of Object.entries(proxy.stats.injected)) totals.byKind[k] = (totals.byKind[k] ?? 0) + v;
        await faulty.close();
        await check.close();
        await proxy.close();
      }
    },
    240_000,
  );

  it.each(['error500', 'slowdown503', 'reset', 'stall', 'stallBody', 'truncate'] as FaultKind[])(
    'a store that always answers %s fails the backup with a clear error in bounded time and leaves nothing once deleted',
    async (kind) => {
      // The proxy never ends a stall by itself here: only the client's timeout can.
      const proxy = await startFaultProxy(moto!, { seed, rate: 1, kinds: [kind], maxStallMs: 120_000 });
      const faulty = s3Store(proxy.endpoint, bucket, { timeoutMs: 500, maxAttempts: 3 });
      const engine = fx.engine({ objectSize: 64 * 1024, blockSize: 4096 });
      const src = join(fx.dir, `always-${kind}`);
      await writeVolumeImage(src, 200 * 1024, { random: 0.5, text: 0.3 }, seed);
      const loc = fx.location();
      const check = clean();
      try {
        const started = Date.now();
        const err = await within(60_000, 'backup', engine.backup(faulty, fx.request(src, 200 * 1024, loc))).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).not.toBeNull();
        expectClearFailure(err);
        expect(Date.now() - started).toBeLessThan(30_000);
        await engine.deleteBackup(check, loc);
        expect(await check.list(bucket, loc.prefix)).toEqual([]);
        totals.injected += totalInjected(proxy);
      } finally {
        await faulty.close();
        await check.close();
        await proxy.close();
      }
    },
    90_000,
  );

  it('the fault proxy injects every kind it is given (the schedule is real)', async () => {
    const proxy = await startFaultProxy(moto!, { seed: 7, rate: 1, kinds: ALL_FAULTS, maxStallMs: 2000 });
    const faulty = s3Store(proxy.endpoint, bucket, { timeoutMs: 300, maxAttempts: 1 });
    try {
      await clean().put(bucket, 'probe', Buffer.alloc(4096, 1));
      for (let n = 0; n < 40; n++) await faulty.get(bucket, 'probe').catch(() => undefined);
      for (const kind of ALL_FAULTS) expect(proxy.stats.injected[kind], kind).toBeGreaterThan(0);
    } finally {
      await faulty.close();
      await proxy.close();
    }
  }, 60_000);
});
