import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * The service as operators run it: a child process of src/main.ts (through tsx, so the
 * test needs no prior build; .ci/run repeats the bad-config case on dist/src/main.js).
 */
export const ROOT = resolve(import.meta.dirname, '../..');

export interface ServiceProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts src/main.ts with `env` over this environment minus S3_*, KEYSTONE_*, NOAUTH_* and DATABASE_URL. */
export function startService(env: Record<string, string>): ServiceProcess {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('S3_') && !k.startsWith('KEYSTONE_') && !k.startsWith('NOAUTH_') && k !== 'DATABASE_URL',
    ),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...clean, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d) => (text += String(d)));
  child.stderr!.on('data', (d) => (text += String(d)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => text, exited };
}

/** GETs `url` until something answers (connection refused is retried) or `ms` ran out. */
export async function waitForHttp(url: string, ms: number): Promise<Response> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fetch(url);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
