import type { InstancePaths } from './paths.js';

/** What a start needs to know: where to listen, how much memory, whether to recover first. */
export interface ClusterSettings {
  host: string;
  port: number;
  /** shared_buffers in MiB (small: a dozen clusters share a 24 GiB, 2-core machine). */
  sharedBuffersMb: number;
  maxConnections?: number;
  /** Set for a restore: archive recovery reads WAL segments from this directory. */
  restoreWalDir?: string;
}

/** The file our settings live in, included from postgresql.conf; rewritten at every start. */
export const TROVE_CONF = 'trove.conf';
export const INCLUDE_LINE = `include_if_exists = '${TROVE_CONF}'`;

/** A value as a postgresql.conf string literal. */
function lit(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A path as one shell word (archive_command and restore_command run through /bin/sh). */
function sh(path: string): string {
  if (path.includes("'")) throw new Error(`path not usable in a shell command: ${path}`);
  return `'${path}'`;
}

/**
 * trove.conf: listen address, port, socket, our hba/ident files, small memory, and the
 * WAL settings a physical backup needs (wal_level replica, every segment archived into
 * the instance's own archive directory). With `restoreWalDir`, a restore_command for the
 * archive recovery that recovery.signal starts.
 */
export function troveConf(paths: InstancePaths, s: ClusterSettings): string {
  const archive = `test ! -f ${sh(paths.walArchive)}/%f && cp %p ${sh(paths.walArchive)}/%f`;
  const lines: Array<[string, string | number]> = [
    ['listen_addresses', lit(s.host)],
    ['port', s.port],
    ['unix_socket_directories', lit(paths.run)],
    ['unix_socket_permissions', '0700'],
    ['hba_file', lit(paths.hba)],
    ['ident_file', lit(paths.ident)],
    ['max_connections', s.maxConnections ?? 30],
    ['shared_buffers', lit(`${s.sharedBuffersMb}MB`)],
    ['work_mem', lit('2MB')],
    ['maintenance_work_mem', lit('32MB')],
    ['effective_cache_size', lit('256MB')],
    ['max_worker_processes', 4],
    ['max_parallel_workers', 2],
    ['max_parallel_workers_per_gather', 1],
    ['wal_level', 'replica'],
    ['max_wal_senders', 3],
    ['max_wal_size', lit('256MB')],
    ['min_wal_size', lit('32MB')],
    ['archive_mode', 'on'],
    ['archive_command', lit(archive)],
    ['password_encryption', 'scram-sha-256'],
    ['logging_collector', 'off'],
  ];
  if (s.restoreWalDir) lines.push(['restore_command', lit(`cp ${sh(s.restoreWalDir)}/%f %p`)]);
  return `# Written by the service at every start; edits are lost.\n${lines.map(([k, v]) => `${k} = ${v}`).join('\n')}\n`;
}

/**
 * pg_hba.conf: the superuser only through the socket with peer authentication (mapped
 * from the service's OS user: no superuser password exists), everyone else over TCP
 * with a SCRAM password.
 */
export function hbaConf(): string {
  return [
    '# Written by the service at every start; edits are lost.',
    'local all postgres peer map=service',
    'local all all reject',
    'host all postgres 0.0.0.0/0 reject',
    'host all postgres ::/0 reject',
    'host all all 0.0.0.0/0 scram-sha-256',
    'host all all ::/0 scram-sha-256',
    '',
  ].join('\n');
}

/** pg_ident.conf: the service's OS user (and postgres itself) may connect as `postgres`. */
export function identConf(serviceUser: string): string {
  return `# Written by the service at every start.\nservice ${serviceUser} postgres\nservice postgres postgres\n`;
}
