import { z } from 'zod';
import { CbrTimestamp, PagingQuery, queryTime } from './common.schemas.js';

/** T1/T2. progress is an integer 0-100; a backup log's incremental is the string "true"/"false". */

export const ListOperationLogsQuery = PagingQuery.extend({
  operation_type: z.enum(['backup', 'copy', 'replication', 'delete', 'restore', 'vault_delete', 'remove_resource', 'sync']).optional(),
  status: z.enum(['success', 'skipped', 'failed', 'running', 'timeout', 'waiting']).optional(),
  vault_id: z.string().optional(),
  vault_name: z.string().optional(),
  resource_id: z.string().optional(),
  resource_name: z.string().optional(),
  provider_id: z.string().optional(),
  start_time: queryTime.optional(),
  end_time: queryTime.optional(),
  enterprise_project_id: z.string().optional(),
});

const Counts = { total_count: z.number().int(), fail_count: z.number().int() };

export const OperationLog = z.object({
  id: z.string(),
  project_id: z.string(),
  operation_type: z.string(),
  status: z.string().describe('waiting | running | success | failed | skipped | timeout'),
  checkpoint_id: z.string().nullable(),
  policy_id: z.string().nullable(),
  provider_id: z.string(),
  vault_id: z.string().nullable(),
  vault_name: z.string().nullable(),
  created_at: CbrTimestamp,
  started_at: CbrTimestamp,
  updated_at: CbrTimestamp,
  ended_at: CbrTimestamp.nullable(),
  error_info: z.object({ code: z.string(), message: z.string() }),
  extra_info: z.object({
    common: z.object({
      progress: z.number().int().min(0).max(100),
      request_id: z.string(),
      task_id: z.string(),
      // Extension, while a backup or restore runs: the progress extension's readable figures.
      phase: z.string().optional(),
      bytes_read: z.number().optional(),
      bytes_stored: z.number().optional(),
      current_mib_per_sec: z.number().optional(),
      eta_seconds: z.number().int().nullable().optional(),
    }),
    resource: z.object({ id: z.string(), name: z.string(), type: z.string() }),
    backup: z.object({ backup_id: z.string(), backup_name: z.string(), incremental: z.enum(['true', 'false']) }).optional(),
    restore: z
      .object({ backup_id: z.string(), backup_name: z.string(), target_resource_id: z.string(), target_resource_name: z.string() })
      .optional(),
    delete: z.object({ backup_id: z.string(), backup_name: z.string() }).optional(),
    vault_delete: z.object(Counts).optional(),
    remove_resources: z.object({ ...Counts, resources: z.array(z.unknown()) }).optional(),
  }),
});

export const OperationLogBody = z.object({ operation_log: OperationLog });
export const OperationLogList = z.object({
  operation_logs: z.array(OperationLog),
  count: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});
