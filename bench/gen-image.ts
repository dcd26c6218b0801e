import { closeSync, copyFileSync, openSync, statSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KeyStream, Xorshift128 } from './prng.js';
import { TextPool } from './text-pages.js';

/**
 * Deterministic volume images for the benchmark: 4 KiB pages laid out in runs, as on a
 * real disk (extents of data, log files, unallocated zeros), 40% incompressible random,
 * 30% text-like, 30% zeros by page count. Same seed and size => same bytes, every time.
 */

export const PAGE = 4096;
const WRITE_CHUNK = 32 * 1024 * 1024;

type PageKind = 0 | 1 | 2; // random, text, zero
const TARGET = [0.4, 0.3, 0.3] as const;
// Mean run lengths in pages: zero regions are long (free space), text runs short (files).
const MEAN_RUN = [64, 24, 256] as const;
// Pick a run's kind with weight target/mean so that pages, not runs, meet the target mix.
const WEIGHT = TARGET.map((t, i) => t / MEAN_RUN[i]!);
const WEIGHT_SUM = WEIGHT.reduce((a, b) => a + b, 0);

export interface ImageStats {
  path: string;
  sizeBytes: number;
  seed: number;
  pages: { random: number; text: number; zero: number };
  seconds: number;
}

function pickKind(rng: Xorshift128): PageKind {
  let u = rng.float() * WEIGHT_SUM;
  for (let k = 0; k < 3; k++) {
    u -= WEIGHT[k]!;
    if (u < 0) return k as PageKind;
  }
  return 2;
}

/**
 * Page kinds of a whole image, run by run (exponential run lengths, capped at 8 MiB).
 * A kind already 0.5% of the image ahead of its share yields to the one furthest behind,
 * so the mix is on target at any size and seed, not just on average.
 */
function* pageRuns(rng: Xorshift128, totalPages: number): Generator<{ kind: PageKind; pages: number }> {
  const have = [0, 0, 0];
  let done = 0;
  while (done < totalPages) {
    let kind = pickKind(rng);
    const len = Math.min(2048, 1 + Math.floor(-Math.log(1 - rng.float()) * MEAN_RUN[kind]), totalPages - done);
    const excess = (k: number): number => have[k]! + len - TARGET[k]! * (done + len);
    if (excess(kind) > 0.005 * totalPages) kind = [0, 1, 2].reduce((a, b) => (excess(b) < excess(a) ? b : a)) as PageKind;
    have[kind] = have[kind]! + len;
    done += len;
    yield { kind, pages: len };
  }
}

/**
 * Writes an image of `sizeBytes` (need not be a page multiple) to `path`, zeros written
 * out (a fully allocated raw image, not sparse). Returns the page mix actually produced.
 */
export function generateImage(path: string, sizeBytes: number, seed: number): ImageStats {
  const t0 = performance.now();
  const rng = new Xorshift128(seed);
  const keys = new KeyStream(seed, 'image');
  const text = new TextPool(new Xorshift128(seed ^ 0x5eed));
  const totalPages = Math.ceil(sizeBytes / PAGE);
  const pages = { random: 0, text: 0, zero: 0 };
  const buf = Buffer.alloc(WRITE_CHUNK);
  const fd = openSync(path, 'w');
  try {
    let bufPages = 0;
    let written = 0;
    const flush = (): void => {
      const len = Math.min(bufPages * PAGE, sizeBytes - written);
      writeSync(fd, buf, 0, len, written);
      written += len;
      bufPages = 0;
    };
    for (const run of pageRuns(rng, totalPages)) {
      let left = run.pages;
      while (left > 0) {
        const n = Math.min(left, WRITE_CHUNK / PAGE - bufPages);
        const region = buf.subarray(bufPages * PAGE, (bufPages + n) * PAGE);
        if (run.kind === 0) keys.bytes(region.length).copy(region);
        else if (run.kind === 1) for (let p = 0; p < n; p++) text.fill(rng, region.subarray(p * PAGE, (p + 1) * PAGE));
        else region.fill(0);
        pages[(['random', 'text', 'zero'] as const)[run.kind]] += n;
        bufPages += n;
        left -= n;
        if (bufPages === WRITE_CHUNK / PAGE) flush();
      }
    }
    if (bufPages > 0) flush();
  } finally {
    closeSync(fd);
  }
  return { path, sizeBytes, seed, pages, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Copies `from` to `to` and rewrites `fraction` of its `blockSize` blocks, chosen at
 * seeded random positions, with new content (half random, half text pages), so that every
 * chosen block really changes. Returns the sorted indices of the rewritten blocks.
 */
export function makeChangedCopy(
  from: string,
  to: string,
  sizeBytes: number,
  fraction: number,
  seed: number,
  blockSize = 32 * 1024,
): number[] {
  copyFileSync(from, to);
  const rng = new Xorshift128(seed ^ 0xc4a1);
  const keys = new KeyStream(seed, 'change');
  const text = new TextPool(new Xorshift128(seed ^ 0x7e47), 4096);
  const blocks = Math.ceil(sizeBytes / blockSize);
  const want = Math.max(1, Math.round(blocks * fraction));
  const chosen = new Set<number>();
  while (chosen.size < Math.min(want, blocks)) chosen.add(rng.int(blocks));
  const indices = [...chosen].sort((a, b) => a - b);
  const fd = openSync(to, 'r+');
  try {
    for (const b of indices) {
      const len = Math.min(blockSize, sizeBytes - b * blockSize);
      const block = keys.bytes(len);
      for (let p = PAGE; p < len; p += 2 * PAGE) text.fill(rng, block.subarray(p, Math.min(len, p + PAGE)));
      writeSync(fd, block, 0, len, b * blockSize);
    }
  } finally {
    closeSync(fd);
  }
  return indices;
}

/** Parses "64M", "1G", "1.5GiB", "4096" into bytes. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size: ${s}`);
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * mult);
}

function main(argv: string[]): void {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) args.set(argv[i]!.replace(/^--/, ''), argv[i + 1] ?? '');
  const out = args.get('out');
  if (!out || (!args.has('size') && !args.has('change-from'))) {
    process.stderr.write(
      'usage: node dist/bench/gen-image.js --out FILE --size 1G [--seed 1]\n' +
        '       node dist/bench/gen-image.js --out FILE --change-from BASE [--fraction 0.01] [--seed 2]\n',
    );
    process.exit(2);
  }
  const seed = Number(args.get('seed') ?? 1);
  const base = args.get('change-from');
  if (base) {
    const size = statSync(base).size;
    const t0 = performance.now();
    const idx = makeChangedCopy(base, out, size, Number(args.get('fraction') ?? 0.01), seed);
    console.log(JSON.stringify({ out, changedBlocks: idx.length, seconds: (performance.now() - t0) / 1000 }));
  } else {
    console.log(JSON.stringify(generateImage(out, parseSize(args.get('size')!), seed)));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
