import type { Db } from './schema.js';

/** One backup of a volume as the chain extension shows it. */
export interface ChainMemberRow {
  id: string;
  parent_id: string | null;
  display_name: string | null;
  status: string;
  size: number;
  stored_bytes: number;
  created_at: Date;
}

/**
 * Every live backup of one volume in one project, oldest first: the family an incremental
 * chain is drawn from (a volume has tens of backups, not thousands: quotas bound them).
 */
export async function listVolumeBackupFamily(db: Db, projectId: string, volumeId: string): Promise<ChainMemberRow[]> {
  return db
    .selectFrom('backups')
    .select(['id', 'parent_id', 'display_name', 'status', 'size', 'stored_bytes', 'created_at'])
    .where('project_id', '=', projectId)
    .where('volume_id', '=', volumeId)
    .where('deleted', '=', false)
    .orderBy('created_at')
    .orderBy('id')
    .execute() as Promise<ChainMemberRow[]>;
}
