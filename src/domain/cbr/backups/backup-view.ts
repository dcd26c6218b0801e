import { volumesByIds } from '../../../db/cbr-backups-repository.js';
import type { BackupRow, Db, VolumeRow } from '../../../db/schema.js';
import { progressPercent } from '../../backups/reads.js';
import { DISK_PROVIDER_ID, VOLUME_TYPE, cbrTime } from '../time.js';

/** The BackupResp object of B1-B3 (CBR's BackupResp: resource_size an integer, extend_info booleans). */
export interface CbrBackupView {
  id: string;
  checkpoint_id: string;
  vault_id: string;
  project_id: string;
  name: string;
  description: string;
  resource_id: string;
  resource_name: string;
  resource_type: string;
  resource_size: number;
  resource_az: string;
  status: string;
  image_type: string;
  provider_id: string;
  parent_id: string | null;
  incremental: boolean;
  created_at: string;
  updated_at: string;
  expired_at: string | null;
  protected_at: string;
  extend_info: {
    auto_trigger: boolean;
    bootable: boolean;
    encrypted: boolean;
    snapshot_id: string;
    support_lld: boolean;
    supported_restore_mode: string;
    system_disk: boolean;
    is_multi_az: boolean;
    progress: number;
  };
  children: never[];
  replication_records: never[];
  enterprise_project_id: string;
  version: number;
}

/** Our backup statuses -> CBR's. */
const CBR_STATUS: Record<string, string> = {
  creating: 'protecting',
  available: 'available',
  restoring: 'restoring',
  deleting: 'deleting',
  error: 'error',
  error_deleting: 'error',
};

/** CBR status filter values -> our statuses (the waiting_* states are the queued halves of ours). */
export const STATUS_FILTER: Record<string, string[]> = {
  waiting_protect: ['creating'],
  protecting: ['creating'],
  available: ['available'],
  waiting_restore: ['restoring'],
  restoring: ['restoring'],
  waiting_delete: ['deleting'],
  deleting: ['deleting'],
  error: ['error', 'error_deleting'],
};

export const cbrBackupStatus = (status: string): string => CBR_STATUS[status] ?? status;

function view(row: BackupRow, volume: VolumeRow | undefined): CbrBackupView {
  const created = cbrTime(row.created_at)!;
  return {
    id: row.id,
    checkpoint_id: row.checkpoint_id ?? '',
    vault_id: row.vault_id ?? '',
    project_id: row.project_id,
    name: row.display_name ?? '',
    description: row.display_description ?? '',
    resource_id: row.volume_id,
    resource_name: volume?.display_name ?? '',
    resource_type: VOLUME_TYPE,
    resource_size: row.size,
    resource_az: row.availability_zone ?? volume?.availability_zone ?? '',
    status: cbrBackupStatus(row.status),
    image_type: 'backup',
    provider_id: DISK_PROVIDER_ID,
    parent_id: row.parent_id,
    incremental: row.parent_id !== null,
    created_at: created,
    updated_at: cbrTime(row.updated_at) ?? created,
    expired_at: null,
    protected_at: cbrTime(row.data_timestamp) ?? created,
    extend_info: {
      auto_trigger: row.cbr_auto_trigger,
      bootable: false,
      encrypted: row.encryption_key_id !== null,
      snapshot_id: row.snapshot_id ?? '',
      support_lld: false,
      supported_restore_mode: 'backup',
      system_disk: false,
      is_multi_az: false,
      progress:
        row.status === 'available' ? 100 : Math.floor(progressPercent(Number(row.progress_bytes_done), Number(row.progress_bytes_total))),
    },
    children: [],
    replication_records: [],
    enterprise_project_id: '0',
    version: 3,
  };
}

/** Views of backup rows (their volumes read in one query). */
export async function cbrBackupViews(db: Db, rows: readonly BackupRow[]): Promise<CbrBackupView[]> {
  const volumes = await volumesByIds(
    db,
    rows.map((r) => r.volume_id),
  );
  return rows.map((r) => view(r, volumes.get(r.volume_id)));
}
