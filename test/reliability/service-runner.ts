import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { inject } from 'vitest';
import { freePort } from '../../src/db/embedded.js';

const ROOT = resolve(import.meta.dirname, '../..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/ (tsc) unless dist/src/main.js is newer than every file under src/. */
export async function ensureBuilt(): Promise<void> {
  const main = join(ROOT, 'dist/src/main.js');
  let built = 0;
  try {
    built = statSync(main).mtimeMs;
  } catch {
    built = 0;
  }
  if (built > newestMtime(join(ROOT, 'src')) && built > statSync(join(ROOT, 'migrations')).mtimeMs) return;
  await promisify(execFile)(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], { cwd: ROOT, timeout: 240_000 });
}

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/**
 * The built service (`node dist/src/main.js`) as a child process that can be SIGKILLed and
 * started again on the same database and DATA_DIR (posix store under it by default).
 */
export interface ServiceRunner {
  url: string;
  dbUrl: string;
  dataDir: string;
  start(): Promise<void>;
  /** SIGKILL: no cleanup at all, as a power cut or OOM kill would. */
  kill(): Promise<void>;
  /** SIGTERM: a graceful stop (waits for the exit). */
  term(): Promise<void>;
  /** Every log line this runner's processes wrote that contains `text`. */
  grep(text: string): string[];
  /** The running service's pid (null when stopped). */
  pid(): number | null;
  logTail(): string;
  /** Stops the process and drops the database and the data directory. */
  destroy(): Promise<void>;
}

/**
 * `share`: run against another runner's database and DATA_DIR (another process of the same
 * host: ROLE=api and ROLE=worker processes side by side); destroy() then drops neither.
 * `port`: the listener's port (a worker serves /healthz on it as METRICS_PORT).
 */
export async function createServiceRunner(
  extraEnv: Record<string, string> = {},
  opts: { share?: ServiceRunner; port?: number } = {},
): Promise<ServiceRunner> {
  const dbName = `rel_${randomBytes(5).toString('hex')}`;
  if (!opts.share) await admin(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(opts.share?.dbUrl ?? inject('pgAdminUrl'));
  if (!opts.share) dbUrl.pathname = `/${dbName}`;
  const dataDir = opts.share?.dataDir ?? mkdtempSync(join(tmpdir(), 'cbt-crash-'));
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    HOST: '127.0.0.1',
    PORT: String(port),
    CBR_PORT: '0',
    DATABASE_URL: dbUrl.toString(),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    BACKUP_STORE: 'posix',
    BACKUP_OBJECT_SIZE: String(1024 * 1024),
    BACKUP_BLOCK_SIZE: String(32 * 1024),
    BACKUP_WORKER_THREADS: '2',
    QUOTA_VOLUMES: '-1',
    QUOTA_SNAPSHOTS: '-1',
    QUOTA_BACKUPS: '-1',
    QUOTA_GIGABYTES: '-1',
    QUOTA_BACKUP_GIGABYTES: '-1',
    JOB_POLL_MS: '100',
    JOB_LEASE_SECONDS: '5',
    ...(extraEnv.ROLE === 'worker' ? { METRICS_PORT: String(port) } : {}),
    ...extraEnv,
  };
  let child: ChildProcess | null = null;
  const lines: string[] = [];
  const found: string[] = [];
  let watched: string[] = [];
  const keep = (chunk: Buffer) => {
    const added = chunk.toString('utf8').split('\n').filter(Boolean);
    lines.push(...added);
    for (const l of added) if (watched.some((w) => l.includes(w))) found.push(l);
    if (lines.length > 300) lines.splice(0, lines.length - 300);
  };
  const runner: ServiceRunner = {
    url,
    dbUrl: dbUrl.toString(),
    dataDir,
    logTail: () => lines.slice(-40).join('\n'),
    pid: () => child?.pid ?? null,
    async start() {
      const c = spawn(process.execPath, ['dist/src/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      c.stdout!.on('data', keep);
      c.stderr!.on('data', keep);
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        if (c.exitCode !== null) throw new Error(`service exited with ${c.exitCode}:\n${runner.logTail()}`);
        const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`service did not become healthy:\n${runner.logTail()}`);
    },
    async kill() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
      child = null;
    },
    async term() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
      child = null;
    },
    grep(text: string) {
      if (!watched.includes(text)) {
        watched = [...watched, text];
        found.push(...lines.filter((l) => l.includes(text) && !found.includes(l)));
      }
      return found.filter((l) => l.includes(text));
    },
    async destroy() {
      await runner.kill();
      if (opts.share) return;
      await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return runner;
}
