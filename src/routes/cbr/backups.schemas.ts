import { z } from 'zod';
import { CbrName, CbrTimestamp, PagingQuery, queryBool, queryTime, repeatable } from './common.schemas.js';

/** B1-B5. A backup's resource_size is an integer; extend_info's flags are booleans. */

export const ListBackupsQuery = PagingQuery.extend({
  checkpoint_id: z.string().optional(),
  vault_id: z.string().optional(),
  resource_id: z.string().optional(),
  resource_name: z.string().optional(),
  resource_type: z.string().optional(),
  resource_az: z.string().optional(),
  status: repeatable.optional(),
  name: z.string().optional(),
  image_type: z.string().optional(),
  parent_id: z.string().optional(),
  incremental: queryBool.optional(),
  show_replication: queryBool.optional(),
  own_type: z.enum(['private', 'shared', 'all_granted']).optional(),
  start_time: queryTime.optional(),
  end_time: queryTime.optional(),
  sort: z.string().max(255).optional(),
  marker: z.string().optional(),
  member_status: z.string().optional(),
  used_percent: z.string().optional(),
  dec: queryBool.optional(),
  enterprise_project_id: z.string().optional(),
});

export const Backup = z.object({
  id: z.string(),
  checkpoint_id: z.string(),
  vault_id: z.string(),
  project_id: z.string(),
  name: z.string(),
  description: z.string(),
  resource_id: z.string(),
  resource_name: z.string(),
  resource_type: z.string(),
  resource_size: z.number().int(),
  resource_az: z.string(),
  status: z.string(),
  image_type: z.string(),
  provider_id: z.string(),
  parent_id: z.string().nullable(),
  incremental: z.boolean(),
  created_at: CbrTimestamp,
  updated_at: CbrTimestamp,
  expired_at: CbrTimestamp.nullable(),
  protected_at: CbrTimestamp,
  extend_info: z.object({
    auto_trigger: z.boolean(),
    bootable: z.boolean(),
    encrypted: z.boolean(),
    snapshot_id: z.string(),
    support_lld: z.boolean(),
    supported_restore_mode: z.string(),
    system_disk: z.boolean(),
    is_multi_az: z.boolean(),
    progress: z.number().int().min(0).max(100),
  }),
  children: z.array(z.never()),
  replication_records: z.array(z.never()),
  enterprise_project_id: z.string(),
  version: z.number().int(),
});

export const BackupBody = z.object({ backup: Backup });
export const BackupList = z.object({
  backups: z.array(Backup),
  count: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});
export const UpdateBackupBody = z.object({ backup: z.object({ name: CbrName }) });

export const RestoreBody = z.object({
  restore: z.object({
    volume_id: z.string().optional(),
    resource_id: z.string().optional(),
    // Server restores only; a volume restore accepts and ignores them.
    power_on: z.boolean().optional(),
    server_id: z.string().optional(),
    mappings: z.array(z.unknown()).optional(),
  }),
});
export const RestoreAccepted = z.object({ job_id: z.string() });
