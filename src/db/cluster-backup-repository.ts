import pg from 'pg';

/**
 * The SQL of a physical backup of a PostgreSQL cluster (non-exclusive low-level API): one session
 * held open from pg_backup_start to pg_backup_stop, as the API requires.
 */
export interface BackupSession {
  /** pg_backup_start(label, fast => true). */
  start(label: string): Promise<{ startLsn: string }>;
  /** pg_backup_stop(wait_for_archive) and the WAL file names of the start and stop LSNs. */
  stop(waitForArchive: boolean): Promise<{ stopLsn: string; labelFile: string; spcmapFile: string; stopWalFile: string }>;
  walSegmentSize(): Promise<number>;
  close(): Promise<void>;
}

export async function openBackupSession(config: pg.ClientConfig): Promise<BackupSession> {
  const client = new pg.Client(config);
  await client.connect();
  client.on('error', () => undefined); // a dying cluster ends the backup through the failed query instead
  return {
    async start(label) {
      const r = await client.query<{ lsn: string }>('SELECT pg_backup_start($1, true)::text AS lsn', [label]);
      return { startLsn: r.rows[0]!.lsn };
    },
    async stop(waitForArchive) {
      const r = await client.query<{ lsn: string; labelfile: string; spcmapfile: string; walfile: string }>(
        'SELECT s.lsn::text AS lsn, s.labelfile, s.spcmapfile, pg_walfile_name(s.lsn) AS walfile FROM pg_backup_stop($1) s',
        [waitForArchive],
      );
      const row = r.rows[0]!;
      return { stopLsn: row.lsn, labelFile: row.labelfile, spcmapFile: row.spcmapfile, stopWalFile: row.walfile };
    },
    async walSegmentSize() {
      const r = await client.query<{ setting: string }>("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'");
      return Number(r.rows[0]!.setting);
    },
    close: () => client.end().catch(() => undefined),
  };
}
