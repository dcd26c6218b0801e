import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where one Trove instance lives on its host: everything under DATA_DIR/instances/<id>.
 * `pgdata` is the PostgreSQL data directory (what a physical backup copies); the WAL
 * archive, the socket directory and the files we rewrite at every start sit beside it,
 * so a backup of `pgdata` never contains them.
 */
export interface InstancePaths {
  /** DATA_DIR/instances/<id>: removed as a whole when the instance is deleted. */
  root: string;
  /** The cluster's data directory (initdb target, or the restore target). */
  pgdata: string;
  /** archive_command copies every finished WAL segment here (backups read it). */
  walArchive: string;
  /** The unix socket directory: the service's superuser connections go through it. */
  run: string;
  /** pg_ctl's log file (server log). */
  log: string;
  /** hba_file and ident_file, written by us at every start (outside pgdata). */
  hba: string;
  ident: string;
}

/** The folder holding every instance of this host. */
export function instancesDir(dataDir: string): string {
  return join(dataDir, 'instances');
}

/** The paths of instance `id` (nothing is created). */
export function instancePaths(dataDir: string, id: string): InstancePaths {
  const root = join(instancesDir(dataDir), id);
  return {
    root,
    pgdata: join(root, 'pgdata'),
    walArchive: join(root, 'wal-archive'),
    run: socketDir(root),
    log: join(root, 'postgres.log'),
    hba: join(root, 'pg_hba.conf'),
    ident: join(root, 'pg_ident.conf'),
  };
}

/** The WAL archive of instance `id` (where archive_command puts segments). */
export function walArchiveDir(dataDir: string, id: string): string {
  return instancePaths(dataDir, id).walArchive;
}

// NOTE: a unix socket path is limited to 107 bytes; a deep DATA_DIR falls back to a short
// directory under the system tmpdir named after the instance root.
function socketDir(root: string): string {
  const dir = join(root, 'run');
  if (`${dir}/.s.PGSQL.65535`.length <= 100) return dir;
  return join(tmpdir(), `trove-${createHash('sha256').update(root).digest('hex').slice(0, 16)}`);
}
