import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * `--warm-memory`: touches nearly all of the machine's free memory once, in a child process that
 * then exits, before anything is measured. This VM hands freed memory back to its host (virtio
 * free page reporting, in 2 MiB blocks: `/sys/module/page_reporting`), and the host backs it again
 * only on the next touch, so each fresh page (the page cache a restore writes into, a pool
 * buffer) can also cost a fault in the host. A 1 GiB posix restore's kernel time swung from 0.43
 * to 1.32 s between runs of the same build; for some minutes after one warm-up it stayed at
 * 0.37-0.50 s (BENCHMARKS.md, round seven). The effect fades as the warm-up's freed memory is
 * reported back, so figures taken with it show the code's own cost with fewer of the platform's
 * faults; they are not what a server on this VM type always sees. It applies to every process
 * alike (ours, Cinder's, restic's).
 */

const CHUNK = 256 * 2 ** 20;
const PAGE = 4096;

/** Runs the warm-up in a child process; returns what it did, for the report ("touched 18.3 GiB once in 42.8 s"). */
export function warmMemory(reserveBytes = 1.5 * 2 ** 30): string {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), String(reserveBytes)], { encoding: 'utf8' });
  const { bytes, seconds } = JSON.parse(out.trim()) as { bytes: number; seconds: number };
  return `touched ${(bytes / 2 ** 30).toFixed(1)} GiB once in ${seconds.toFixed(1)} s`;
}

/** The child: touches one byte per page of MemFree less `reserve`, then prints what it did. */
function touchFreeMemory(reserve: number): void {
  const free = Number(/MemFree:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) * 1024;
  const t0 = performance.now();
  const held: Buffer[] = [];
  let bytes = 0;
  while (bytes + CHUNK <= free - reserve) {
    const b = Buffer.allocUnsafeSlow(CHUNK);
    for (let p = 0; p < b.length; p += PAGE) b[p] = 1;
    held.push(b);
    bytes += CHUNK;
  }
  console.log(JSON.stringify({ bytes, seconds: (performance.now() - t0) / 1000 }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) touchFreeMemory(Number(process.argv[2]));
