import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../src/storage/memory-store.js';
import { engineFixture, sameBytes } from '../helpers/engine-fixtures.js';

/** BACKUP_ZSTD_LEVEL reaches the compressor: levels store different bytes and every level reads back. */
describe('zstd level', () => {
  let fx: Awaited<ReturnType<typeof engineFixture>>;
  beforeAll(async () => {
    fx = await engineFixture();
  });
  afterAll(async () => fx.cleanup());

  it('level 1 and level 19 store different objects of the same data, both restore byte-identical', async () => {
    const size = 256 * 1024;
    const src = join(fx.dir, 'text.img');
    const words = ['volume', 'backup', 'chunk', 'cinder', 'restore', 'zstd', 'level', 'block'];
    let text = '';
    for (let i = 0; text.length < size; i++) text += `${words[(i * 7 + (i >> 3)) % words.length]} ${i % 1000} `;
    await writeFile(src, text.slice(0, size));
    const stored: number[] = [];
    for (const level of [1, 19]) {
      const engine = fx.engine({ zstdLevel: level });
      const store = new MemoryObjectStore();
      const loc = fx.location();
      const r = await engine.backup(store, fx.request(src, size, loc));
      stored.push(r.storedBytes);
      const out = join(fx.dir, `out-${level}.img`);
      await writeFile(out, '');
      await engine.restore(store, { chain: [loc], target: { path: out, sizeBytes: size }, targetIsNew: true });
      expect(await sameBytes(src, out, size)).toBe(true);
    }
    expect(stored[1]).not.toBe(stored[0]); // the level reached the compressor (which level is smaller depends on the data)
  });
});
