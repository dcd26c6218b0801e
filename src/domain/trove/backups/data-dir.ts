import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileSetSource } from '../../../engine/file-set-backup.js';

/** Directories whose contents a base backup omits (kept empty), per PostgreSQL's backup docs. */
const EMPTY_DIRS = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_stat_tmp',
  'pg_subtrans',
]);
/** Top-level files a base backup omits (the server's own, or stale copies of what pg_backup_stop returns). */
const SKIPPED_TOP = new Set([
  'postmaster.pid',
  'postmaster.opts',
  'backup_label',
  'tablespace_map',
  'backup_manifest',
  'postgresql.auto.conf.tmp',
]);

function skippedFile(name: string): boolean {
  return name.startsWith('pgsql_tmp') || name.startsWith('pg_internal.init') || name === 'current_logfiles.tmp';
}

/** Every entry of a data directory a physical backup copies, in a stable order (paths relative, '/'-separated). */
export async function walkDataDir(dataDir: string): Promise<FileSetSource[]> {
  const out: FileSetSource[] = [];
  const visit = async (rel: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(join(dataDir, rel))).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // dropped while walking
      throw err;
    }
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      if (skippedFile(name) || (rel === '' && SKIPPED_TOP.has(name))) continue;
      let st;
      try {
        st = await lstat(join(dataDir, path));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (st.isDirectory()) {
        out.push({ type: 'dir', path, mode: st.mode & 0o7777 });
        if (!(rel === '' && EMPTY_DIRS.has(name))) await visit(path);
        else if (name === 'pg_wal') out.push({ type: 'dir', path: 'pg_wal/archive_status', mode: st.mode & 0o7777 });
      } else if (st.isSymbolicLink()) {
        out.push({ type: 'symlink', path, target: await readlink(join(dataDir, path)) });
      } else if (st.isFile()) {
        out.push({ type: 'file', path, absPath: join(dataDir, path), mode: st.mode & 0o7777 });
      }
    }
  };
  await visit('');
  return out;
}
