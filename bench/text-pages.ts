import type { Xorshift128 } from './prng.js';

/**
 * Text-like, compressible pages: log lines, JSON records and CSV rows with random ids,
 * numbers and timestamps, as found on real root and data volumes. A pool of lines is
 * made once from the seed; each page concatenates lines picked at random, so pages
 * differ while compressing about as well as real logs (deflate ~3x, zstd more).
 */

const WORDS = [
  'backup',
  'volume',
  'snapshot',
  'restore',
  'request',
  'completed',
  'started',
  'failed',
  'retry',
  'worker',
  'manager',
  'scheduler',
  'api',
  'connection',
  'timeout',
  'accepted',
  'created',
  'deleted',
  'available',
  'error',
  'chunk',
  'object',
  'upload',
  'download',
  'checksum',
  'verified',
  'host',
  'disk',
  'mounted',
  'filesystem',
  'kernel',
  'service',
  'session',
  'user',
  'project',
  'token',
];
const LEVELS = ['INFO', 'DEBUG', 'WARNING', 'ERROR', 'INFO', 'INFO', 'DEBUG'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'GET', 'GET'];

function hex(rng: Xorshift128, n: number): string {
  let s = '';
  while (s.length < n) s += rng.u32().toString(16).padStart(8, '0');
  return s.slice(0, n);
}

// Real logs repeat the same few hundred ids (volumes, projects), set per pool.
let idPool: string[] = [];

function uuid(rng: Xorshift128): string {
  return idPool[rng.int(idPool.length)]!;
}

function freshUuid(rng: Xorshift128): string {
  const h = hex(rng, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function stamp(rng: Xorshift128): string {
  const sec = 1_795_000_000 + rng.int(10_000_000);
  return new Date(sec * 1000 + rng.int(1000)).toISOString();
}

function words(rng: Xorshift128, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[rng.int(WORDS.length)]!);
  return out.join(' ');
}

function line(rng: Xorshift128): string {
  switch (rng.int(4)) {
    case 0:
      return `${stamp(rng)} ${rng.int(90000) + 1000} ${LEVELS[rng.int(LEVELS.length)]} cinder.${WORDS[rng.int(WORDS.length)]} [req-${freshUuid(rng)} ${uuid(rng).replace(/-/g, '')} -] ${words(rng, 3 + rng.int(8))} ${uuid(rng)}\n`;
    case 1:
      return `{"ts":"${stamp(rng)}","level":"${LEVELS[rng.int(LEVELS.length)]!.toLowerCase()}","method":"${METHODS[rng.int(METHODS.length)]}","path":"/v3/${uuid(rng).replace(/-/g, '')}/volumes/${uuid(rng)}","status":${[200, 200, 202, 204, 400, 404][rng.int(6)]},"bytes":${rng.int(100000)},"ms":${(rng.float() * 200).toFixed(2)},"msg":"${words(rng, 2 + rng.int(6))}"}\n`;
    case 2:
      return `${uuid(rng)},${stamp(rng)},${rng.int(1 << 30)},${(rng.float() * 1e6).toFixed(3)},${WORDS[rng.int(WORDS.length)]},${words(rng, 1 + rng.int(4))}\n`;
    default:
      return `Nov ${1 + rng.int(28)} ${String(rng.int(24)).padStart(2, '0')}:${String(rng.int(60)).padStart(2, '0')}:${String(rng.int(60)).padStart(2, '0')} host-${rng.int(64)} kernel: [${rng.int(999999)}.${String(rng.int(999999)).padStart(6, '0')}] ${words(rng, 4 + rng.int(8))}\n`;
  }
}

/** A pool of text lines that pages are assembled from. */
export class TextPool {
  private readonly lines: Buffer[] = [];

  constructor(rng: Xorshift128, count = 65_536) {
    idPool = Array.from({ length: 512 }, () => freshUuid(rng));
    for (let i = 0; i < count; i++) this.lines.push(Buffer.from(line(rng), 'latin1'));
  }

  /** Fills `target` (one page or more) with randomly chosen lines; the last line is cut at the end. */
  fill(rng: Xorshift128, target: Buffer): void {
    let pos = 0;
    while (pos < target.length) {
      const l = this.lines[rng.int(this.lines.length)]!;
      pos += l.copy(target, pos, 0, Math.min(l.length, target.length - pos));
    }
  }
}
