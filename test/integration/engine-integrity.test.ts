import { join } from 'node:path';
import { truncate, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeVolumeImage } from '../../bench/volume-image.js';
import { BackupIntegrityError, OperationCancelledError, type BackupLocation } from '../../src/engine/engine-api.js';
import { EngineMemoryStore } from '../helpers/engine-memory-store.js';
import { engineFixture } from '../helpers/engine-fixtures.js';

let fx: Awaited<ReturnType<typeof engineFixture>>;
const size = 1024 * 1024 + 5000;
let store: EngineMemoryStore;
let loc: BackupLocation;
let src: string;

beforeEach(async () => {
  fx = await engineFixture();
  store = new EngineMemoryStore();
  loc = fx.location();
  src = join(fx.dir, 'src');
  await writeVolumeImage(src, size, { random: 0.5, text: 0.3 }, 5);
});
afterEach(async () => fx.cleanup());

const change = (suffix: string, fn: (b: Buffer) => Buffer) => store.mutate(loc.container, `${loc.prefix}${suffix}`, fn);

async function backupThenRestoreError(engine = fx.engine(), mutate: () => Promise<void>): Promise<BackupIntegrityError> {
  await engine.backup(store, fx.request(src, size, loc));
  await mutate();
  const dst = join(fx.dir, 'dst');
  await writeFile(dst, '');
  await truncate(dst, size);
  const err = await engine
    .restore(store, { chain: [loc], target: { path: dst, sizeBytes: size }, targetIsNew: true })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BackupIntegrityError);
  const verifyErr = await engine.verify(store, [loc]).catch((e: unknown) => e);
  expect(verifyErr).toBeInstanceOf(BackupIntegrityError);
  const message = (err as Error).message;
  expect(message.length).toBeLessThanOrEqual(255);
  return err as BackupIntegrityError;
}

describe('restore refuses damaged backups with a clear message', () => {
  it('fails on a corrupted stored object (raw: md5 mismatch)', async () => {
    const err = await backupThenRestoreError(fx.engine({ compression: 'none' }), () =>
      change('-00003', (b) => ((b[100] = b[100]! ^ 0xff), b)),
    );
    expect(err.message).toBe(`${loc.prefix}-00003: md5 mismatch (stored data is corrupt)`);
  });

  it('fails on a corrupted zstd object that no longer decodes', async () => {
    const err = await backupThenRestoreError(undefined, () => change('-00002', (b) => b.fill(0x55, 8, 40)));
    expect(err.message).toMatch(new RegExp(`^${loc.prefix}-00002: (cannot be decompressed|md5 mismatch|decompressed to)`));
  });

  it('fails on a truncated object', async () => {
    const err = await backupThenRestoreError(undefined, () => change('-00001', (b) => b.subarray(0, b.length - 7)));
    expect(err.message).toContain(`${loc.prefix}-00001:`);
  });

  it('fails on a corrupted _sha256file entry', async () => {
    const err = await backupThenRestoreError(undefined, () =>
      change('_sha256file', (b) => {
        const doc = JSON.parse(b.toString());
        doc.sha256s[20] = '0'.repeat(64);
        return Buffer.from(JSON.stringify(doc));
      }),
    );
    expect(err.message).toBe(`${loc.prefix}-00002: block 20 does not match its _sha256file`);
  });

  it('fails on a _sha256file that is not JSON', async () => {
    const err = await backupThenRestoreError(undefined, () => change('_sha256file', () => Buffer.from('{"chunk_size": 4')));
    expect(err.message).toBe(`${loc.prefix}_sha256file is not valid JSON`);
  });

  it('fails on a missing object', async () => {
    const err = await backupThenRestoreError(undefined, () => store.deleteMany(loc.container, [`${loc.prefix}-00004`]));
    expect(err.message).toBe(`${loc.prefix}-00004 is missing`);
  });

  it('fails on an extra object under the prefix', async () => {
    const err = await backupThenRestoreError(undefined, () => store.put(loc.container, `${loc.prefix}-00099`, Buffer.from('x')));
    expect(err.message).toBe(`${loc.prefix}-00099 is stored but not listed in ${loc.prefix}_metadata`);
  });

  it('fails on an unknown format version', async () => {
    const err = await backupThenRestoreError(undefined, () =>
      change('_metadata', (b) => Buffer.from(b.toString().replace('"1.0.0"', '"2.0.0"'))),
    );
    expect(err.message).toBe(`No support to restore backup version 2.0.0 (${loc.prefix}_metadata)`);
  });
});

describe('incremental preconditions, cancellation, progress and delete', () => {
  it('refuses an incremental when the block size changed or the volume grew', async () => {
    await fx.engine().backup(store, fx.request(src, size, loc));
    const parent = { backupId: 'p', location: loc };
    await expect(fx.engine({ blockSize: 8192 }).backup(store, fx.request(src, size, fx.location(), parent))).rejects.toThrow(
      'Hash block size has changed since the last backup. Do a full backup.',
    );
    await truncate(src, size + 4096);
    await expect(fx.engine().backup(store, fx.request(src, size + 4096, fx.location(), parent))).rejects.toThrow(
      'Volume size increased since the last backup. Do a full backup.',
    );
  });

  it('a cancelled backup deletes the objects it wrote', async () => {
    let asked = 0;
    const err = await fx
      .engine()
      .backup(store, fx.request(src, size, loc), { shouldCancel: async () => ++asked > 5 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationCancelledError);
    expect(store.puts).toBeGreaterThanOrEqual(4); // it did write before being cancelled
    expect(await store.list(loc.container, loc.prefix)).toEqual([]);
  });

  it('restore reports progress to the total, and stops with OperationCancelledError when asked', async () => {
    const engine = fx.engine();
    await engine.backup(store, fx.request(src, size, loc));
    const dst = join(fx.dir, 'dst');
    await writeFile(dst, '');
    await truncate(dst, size);
    const seen: number[] = [];
    await engine.restore(
      store,
      { chain: [loc], target: { path: dst, sizeBytes: size }, targetIsNew: true },
      { onProgress: (d, t) => seen.push(t - d) },
    );
    expect(seen.at(-1)).toBe(0);
    let asked = 0;
    const err = await engine
      .restore(
        store,
        { chain: [loc], target: { path: dst, sizeBytes: size }, targetIsNew: false },
        { shouldCancel: async () => ++asked > 2 },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationCancelledError);
    expect(asked).toBe(3);
  });

  it('reports progress up to the total and deleteBackup removes everything, twice without error', async () => {
    const engine = fx.engine();
    const seen: Array<[number, number]> = [];
    await engine.backup(store, fx.request(src, size, loc), { onProgress: (d, t) => seen.push([d, t]) });
    expect(seen.at(-1)).toEqual([size, size]);
    expect(seen.every(([d], i) => i === 0 || d >= seen[i - 1]![0])).toBe(true);
    await engine.deleteBackup(store, loc);
    expect(await store.list(loc.container, loc.prefix)).toEqual([]);
    await engine.deleteBackup(store, loc);
  });

  it('exposes byte counters on its own registry', async () => {
    const engine = fx.engine();
    const res = await engine.backup(store, fx.request(src, size, loc));
    const text = await engine.registry.metrics();
    expect(text).toContain(`backup_engine_bytes_read_total{operation="backup"} ${size}`);
    expect(text).toContain(`backup_engine_bytes_stored_total ${res.storedBytes}`);
    expect(text).toMatch(/backup_engine_chunk_seconds_count\{operation="backup"\} \d+/);
  });
});
