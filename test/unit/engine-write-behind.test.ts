import { mkdtempSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WriteBehind } from '../../src/engine/write-behind.js';

/** A file handle whose fdatasync the test settles by hand, counting the calls. */
function manualHandle(): { fh: FileHandle; calls: () => number; finish: (err?: Error) => void } {
  const waiting: Array<(err?: Error) => void> = [];
  let calls = 0;
  const fh = {
    datasync: () =>
      new Promise<void>((resolve, reject) => {
        calls++;
        waiting.push((err) => (err ? reject(err) : resolve()));
      }),
  } as unknown as FileHandle;
  return { fh, calls: () => calls, finish: (err) => waiting.shift()!(err) };
}

describe('WriteBehind', () => {
  it('keeps one flush in flight while writes go on, and starts the next after it ends', async () => {
    const h = manualHandle();
    const wb = new WriteBehind(h.fh);
    wb.wrote();
    wb.wrote();
    wb.wrote();
    expect(h.calls()).toBe(1);
    h.finish();
    await new Promise((r) => setImmediate(r));
    wb.wrote();
    expect(h.calls()).toBe(2);
    h.finish();
    await expect(wb.settle()).resolves.toBeUndefined();
  });

  it('settle() waits for the flush in flight', async () => {
    const h = manualHandle();
    const wb = new WriteBehind(h.fh);
    wb.wrote();
    let settled = false;
    const s = wb.settle().then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    h.finish();
    await s;
    expect(settled).toBe(true);
  });

  it('a failed background flush is thrown by settle(), and no later flush hides it', async () => {
    const h = manualHandle();
    const wb = new WriteBehind(h.fh);
    wb.wrote();
    h.finish(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await new Promise((r) => setImmediate(r));
    wb.wrote(); // a later flush could succeed over the lost pages: none starts
    expect(h.calls()).toBe(1);
    await expect(wb.settle()).rejects.toThrow(/EIO/);
  });

  it('flushes a real file (fdatasync) without disturbing writes made meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'write-behind-'));
    const fh = await open(join(dir, 'target.img'), 'w+');
    try {
      const wb = new WriteBehind(fh);
      const block = Buffer.alloc(1 << 20);
      for (let i = 0; i < 8; i++) {
        block.fill(i + 1);
        await fh.write(block, 0, block.length, i * block.length);
        wb.wrote();
      }
      await wb.settle();
      const back = Buffer.alloc(8 << 20);
      await fh.read(back, 0, back.length, 0);
      for (let i = 0; i < 8; i++) expect(back[i * (1 << 20) + 12345]).toBe(i + 1);
    } finally {
      await fh.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
