import { randomFillSync } from 'node:crypto';
import { open } from 'node:fs/promises';

/**
 * Writes a disk-like image: 4 KiB pages, each random, text-like (log/JSON lines) or zero, in the
 * given proportions. Used by the engine tests and bench/engine-quick.ts.
 */
export async function writeVolumeImage(
  path: string,
  size: number,
  mix: { random: number; text: number } = { random: 0.4, text: 0.3 },
  seed = 1,
): Promise<void> {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  const lines: string[] = [];
  for (let i = 0; lines.join('').length < 256 * 1024; i++) {
    lines.push(
      `2026-11-23T18:${String(i % 60).padStart(2, '0')}:21Z INFO req-${(i * 7919) % 100000} {"volume":"vol-${i % 97}","bytes":${i * 4096},"status":"ok"}\n`,
    );
  }
  const text = Buffer.from(lines.join(''));
  const page = 4096;
  const fh = await open(path, 'w');
  try {
    const buf = Buffer.alloc(4 * 1024 * 1024);
    for (let off = 0; off < size; off += buf.length) {
      const len = Math.min(buf.length, size - off);
      for (let p = 0; p < len; p += page) {
        const end = Math.min(p + page, len);
        const r = next();
        if (r < mix.random) randomFillSync(buf, p, end - p);
        else if (r < mix.random + mix.text) {
          const from = Math.floor(next() * (text.length - page));
          text.copy(buf, p, from, from + (end - p));
        } else buf.fill(0, p, end);
      }
      await fh.write(buf, 0, len, off);
    }
  } finally {
    await fh.close();
  }
}
