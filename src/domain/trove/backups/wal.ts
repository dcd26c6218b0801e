import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileSetSource } from '../../../engine/file-set-backup.js';

const NAME = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$/;

/** The WAL segment names from `first` to `last` inclusive, on first's timeline. */
export function walSegmentRange(first: string, last: string, segmentSize: number): string[] {
  const a = NAME.exec(first);
  const b = NAME.exec(last);
  if (!a || !b) throw new Error(`bad WAL file name ${a ? last : first}`);
  const perId = 0x100000000 / segmentSize;
  const number = (m: RegExpExecArray): number => parseInt(m[2]!, 16) * perId + parseInt(m[3]!, 16);
  const hex = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0');
  const names: string[] = [];
  for (let n = number(a); n <= number(b); n++) names.push(`${a[1]}${hex(Math.floor(n / perId))}${hex(n % perId)}`);
  return names;
}

/** `START WAL LOCATION: 0/2000028 (file 000000010000000000000002)` of a backup_label. */
export function startWalFile(labelFile: string): string {
  const m = /^START WAL LOCATION: \S+ \(file ([0-9A-F]{24})\)$/m.exec(labelFile);
  if (!m) throw new Error('backup_label has no START WAL LOCATION');
  return m[1]!;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * The segments a restore needs to reach consistency, as pg_wal/ entries of the backup: each from
 * the archive directory when it is there (complete and immutable), else from the live pg_wal.
 */
export async function walSources(names: string[], dataDir: string, archiveDir: string | null): Promise<FileSetSource[]> {
  const out: FileSetSource[] = [];
  for (const name of names) {
    const archived = archiveDir ? join(archiveDir, name) : null;
    const absPath = archived && (await exists(archived)) ? archived : join(dataDir, 'pg_wal', name);
    if (!(await exists(absPath))) throw new Error(`WAL segment ${name} is neither archived nor in pg_wal`);
    out.push({ type: 'file', path: `pg_wal/${name}`, absPath, mode: 0o600 });
  }
  return out;
}
