import { hostname } from 'node:os';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';

/** Who holds an embedded cluster: written as JSON into the lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  /** The embedded PostgreSQL's port, once it listens (so a CLI can point DATABASE_URL at it). */
  port?: number;
  since: string;
}

/** Thrown when another live process holds the lock; the message names it. */
export class DataDirBusyError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    const reach = holder.port
      ? `; its embedded PostgreSQL listens on 127.0.0.1:${holder.port} (set DATABASE_URL=postgres://postgres:<password>@127.0.0.1:${holder.port}/cinder to share it)`
      : '';
    super(`DATA_DIR ${dir} is in use by another process (pid ${holder.pid} on host ${holder.host}, since ${holder.since})${reach}`);
    this.name = 'DataDirBusyError';
  }
}

export interface DirLock {
  /** Records the cluster's port in the lock file. */
  setPort(port: number): void;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the pid exists but belongs to another user, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return typeof parsed.pid === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes `path` (O_EXCL) for this process. A lock whose pid is gone on this host is stale and
 * taken over; one naming our own pid is left by an earlier life of this container (pid 1 again).
 * NOTE: a holder on another host cannot be probed, so it counts as live: remove the file by hand
 * once that host is known to be down.
 */
export function acquireDirLock(path: string, dir: string, host = hostname()): DirLock {
  const me: LockHolder = { pid: process.pid, host, since: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw err;
      const holder = readHolder(path);
      const stale = !holder || (holder.host === host && (holder.pid === process.pid || !alive(holder.pid)));
      if (!stale) throw new DataDirBusyError(dir, holder);
      rmSync(path, { force: true });
      continue;
    }
    writeSync(fd, JSON.stringify(me));
    closeSync(fd);
    return {
      setPort(port) {
        me.port = port;
        writeFileSync(path, JSON.stringify(me));
      },
      release() {
        const holder = readHolder(path);
        if (holder?.pid === me.pid && holder.host === host) rmSync(path, { force: true });
      },
    };
  }
}
