import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { compress } from '../../src/engine/codec.js';
import { BufferPool } from '../../src/engine/concurrency.js';
import { WorkerPool } from '../../src/engine/worker-pool.js';
import { transferList } from '../../src/engine/worker-protocol.js';

/**
 * The pools' buffers go to a worker and back shared, never transferred: a transferred buffer comes
 * back as new external memory for V8, and the collections that set off took 16-18 % of a restore.
 */
const workers = new WorkerPool(1);
afterAll(() => workers.close());

describe('shared pool buffers', () => {
  it('a BufferPool hands out SharedArrayBuffers, which transferList keeps out of a transfer list', async () => {
    const pool = new BufferPool(1, 64);
    const shared = await pool.acquire();
    expect((shared as unknown) instanceof SharedArrayBuffer).toBe(true);
    const own = new ArrayBuffer(8);
    expect(transferList([shared, own])).toEqual([own]);
  });

  it('a decode through the worker pool leaves the caller its pooled buffers attached, the decoded bytes in them', async () => {
    const pool = new BufferPool(2, 256 * 1024 + 1);
    const body = await pool.acquire();
    const out = await pool.acquire();
    const raw = randomBytes(128 * 1024);
    raw.fill(0, 32 * 1024, 64 * 1024); // one all-zero block
    const frame = compress(raw, 'zstd');
    new Uint8Array(body).set(frame);
    const r = await workers.run(
      {
        kind: 'decode',
        data: new Uint8Array(body, 0, frame.length),
        compression: 'zstd',
        length: raw.length,
        blockSize: 32 * 1024,
        wantZeroFlags: true,
        wantMd5: true,
        out,
      },
      [body, out],
    );
    // Not detached: the caller's own buffers still hold their bytes, and the decode wrote into `out`.
    expect(body.byteLength).toBe(256 * 1024 + 1);
    expect(Buffer.from(out, 0, raw.length).equals(raw)).toBe(true);
    expect(Buffer.from(r.raw.buffer, r.raw.byteOffset, r.raw.byteLength).equals(raw)).toBe(true);
    expect(r.md5).toBe(createHash('md5').update(raw).digest('hex'));
    expect(Buffer.from(r.digests.subarray(32, 64))).toEqual(
      createHash('sha256')
        .update(raw.subarray(32 * 1024, 64 * 1024))
        .digest(),
    );
    expect([...(r.zero ?? [])]).toEqual([0, 1, 0, 0]);
    pool.release(body);
    pool.release(out);
  });
});
