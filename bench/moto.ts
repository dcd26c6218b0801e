import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from '../src/db/embedded.js';

/** A moto_server on a free loopback port, started and stopped by the benchmark itself. */
export interface Moto {
  endpoint: string;
  pid: number;
  /** Current and peak resident set of the moto process, bytes. */
  rss(): { now: number; peak: number };
  stop(): Promise<void>;
}

/** Starts moto_server (on `fixedPort`, else a free port); rejects when it is not installed or does not answer within 30 s. */
export async function startMoto(fixedPort?: number): Promise<Moto> {
  const port = fixedPort ?? (await freePort());
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await fetch(endpoint);
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error('moto_server did not answer within 30 s');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const pid = child.pid!;
  return {
    endpoint,
    pid,
    rss() {
      try {
        const s = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0) * 1024;
        return { now: kb('VmRSS'), peak: kb('VmHWM') };
      } catch {
        return { now: 0, peak: 0 };
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
