import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { freePort } from '../../../src/db/embedded.js';

const ROOT = resolve(import.meta.dirname, '../../..');

/** The built service running as a child process on a fresh database and bucket. */
export interface RunningService {
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** The service's DATA_DIR (volumes, and the posix store under backups/). */
  dataDir: string;
  /** Its database, for tests that seed rows directly. */
  databaseUrl: string;
  /** The last lines the service logged (for failure messages). */
  logTail(): string;
  stop(): Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function waitForRoot(url: string, child: ChildProcess, ms: number, log: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 300 || res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`service did not answer GET / within ${ms} ms:\n${log()}`);
}

/**
 * Starts `node dist/src/main.js` (built by the global setup) with its own database on the
 * test Postgres, its own bucket on moto_server, a temp DATA_DIR and the given extra env
 * (AUTH_STRATEGY, KEYSTONE_*, quotas). Resolves once `GET /` answers.
 */
/**
 * The service's port: a free one, or (TEST_PORT_RANGE=lo-hi, for a shared machine where each
 * runner owns a port window) a free one inside that window.
 */
async function servicePort(): Promise<number> {
  const range = /^(\d+)-(\d+)$/.exec(process.env.TEST_PORT_RANGE ?? '');
  if (!range) return freePort();
  const [lo, hi] = [Number(range[1]), Number(range[2])];
  for (let i = 0; i < 50; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo + 1));
    if (await portFree(port)) return port;
  }
  throw new Error(`no free port in TEST_PORT_RANGE ${process.env.TEST_PORT_RANGE}`);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const srv = createServer();
    srv.once('error', () => done(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => done(true)));
  });
}

export async function startService(extraEnv: Record<string, string> = {}): Promise<RunningService> {
  const moto = inject('motoEndpoint');
  if (!moto) throw new Error('the acceptance suite needs moto_server (BACKUP_STORE=s3)');
  const suffix = randomBytes(5).toString('hex');
  const dbName = `acc_${suffix}`;
  await adminQuery(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(inject('pgAdminUrl'));
  dbUrl.pathname = `/${dbName}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'cbt-acc-'));
  const port = extraEnv.PORT ? Number(extraEnv.PORT) : await servicePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    HOST: '127.0.0.1',
    PORT: String(port),
    // No CBR listener unless a test asks for one (CBR_PORT in extraEnv): its default port is shared.
    CBR_PORT: '0',
    DATABASE_URL: dbUrl.toString(),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    BACKUP_STORE: 's3',
    S3_ENDPOINT: moto,
    S3_ACCESS_KEY_ID: 'acceptance',
    S3_SECRET_ACCESS_KEY: 'acceptance-secret',
    S3_BUCKET: `acc-${suffix}`,
    // Objects small enough that the written pattern (data.ts PATTERN_BYTES) spans three, large
    // enough that a 2 GiB volume is 128 objects: every object costs moto a PUT (1 MiB: 2048, ~1 min a backup).
    BACKUP_OBJECT_SIZE: String(16 * 1024 * 1024),
    BACKUP_BLOCK_SIZE: String(32 * 1024),
    QUOTA_VOLUMES: '100',
    QUOTA_SNAPSHOTS: '100',
    QUOTA_BACKUPS: '100',
    QUOTA_GIGABYTES: '5000',
    QUOTA_BACKUP_GIGABYTES: '1000',
    JOB_POLL_MS: '100',
    ...extraEnv,
  };
  const lines: string[] = [];
  const child = spawn(process.execPath, ['dist/src/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 400) lines.splice(0, lines.length - 400);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const logTail = () => lines.slice(-60).join('\n');
  let stopping = false;
  child.once('exit', (code, signal) => {
    // Every later step would only say "connection refused": say why once, with the log.
    if (!stopping) console.error(`the service exited unexpectedly (code ${code}, signal ${signal}); last log lines:\n${logTail()}`);
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForRoot(url, child, 60_000, logTail);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    port,
    url,
    dataDir,
    databaseUrl: dbUrl.toString(),
    logTail,
    async stop() {
      stopping = true;
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
