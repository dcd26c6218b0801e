import { backupsByIds, volumesByIds } from '../../../db/cbr-backups-repository.js';
import { findOperationLog, listOperationLogs, type OperationLogFilter } from '../../../db/cbr-checkpoints-repository.js';
import type { BackupRow, CbrOperationLogRow, Db, VolumeRow } from '../../../db/schema.js';
import { progressOf } from '../../backups/progress.js';
import { progressPercent } from '../../backups/reads.js';
import type { RequestContext } from '../../common/context.js';
import { CbrError } from '../errors.js';
import { DISK_PROVIDER_ID, VOLUME_TYPE, cbrTime } from '../time.js';

/** T1/T2: one operation log per resource per action; status moved by the job hooks (worker/job-hooks.ts). */

export interface OperationLogView {
  id: string;
  project_id: string;
  operation_type: string;
  status: string;
  checkpoint_id: string | null;
  policy_id: string | null;
  provider_id: string;
  vault_id: string | null;
  vault_name: string | null;
  created_at: string;
  started_at: string;
  updated_at: string;
  ended_at: string | null;
  error_info: { code: string; message: string };
  extra_info: {
    common: { progress: number; request_id: string; task_id: string } & Partial<RunningFigures>;
    resource: { id: string; name: string; type: string };
    backup?: { backup_id: string; backup_name: string; incremental: 'true' | 'false' };
    restore?: { backup_id: string; backup_name: string; target_resource_id: string; target_resource_name: string };
    delete?: { backup_id: string; backup_name: string };
    vault_delete?: { total_count: number; fail_count: number };
    remove_resources?: { total_count: number; fail_count: number; resources: unknown[] };
  };
}

/** What a running backup or restore log adds to extra_info.common: the progress extension's readable figures. */
export interface RunningFigures {
  phase: string;
  bytes_read: number;
  bytes_stored: number;
  current_mib_per_sec: number;
  eta_seconds: number | null;
}

/**
 * The figures of a running log from its backup row, when the row's progress record is this
 * operation's (same operation, started with or after the log, same job when both are known); else none.
 */
export function runningFigures(log: CbrOperationLogRow, backup: BackupRow | undefined): Partial<RunningFigures> {
  if (log.status !== 'running' || !backup || backup.progress_operation !== PROGRESS_PHASE[log.operation_type]) return {};
  if (log.job_id !== null && backup.progress_job_id !== null && Number(log.job_id) !== backup.progress_job_id) return {};
  // The log runs before its job starts the record: a record started well before it is an earlier run's
  // (NOTE: 5 s of slack for the app's and the database's clocks).
  const started = backup.progress_started_at?.getTime();
  if (log.started_at && (started === undefined || started < log.started_at.getTime() - 5000)) return {};
  const p = progressOf(backup, undefined);
  return {
    phase: p.phase ?? 'starting',
    bytes_read: p.bytesRead,
    bytes_stored: p.bytesStored,
    current_mib_per_sec: Math.round((p.currentRateBytesPerSec / 1024 ** 2) * 10) / 10,
    eta_seconds: p.etaSeconds,
  };
}

/** The engine phase whose byte counters feed each operation type's progress. */
const PROGRESS_PHASE: Record<string, string> = { backup: 'backup', restore: 'restore' };

/**
 * Progress 0-100 (integer): the progress extension's figure while the backup row runs this
 * operation, 100 on success, the figure frozen at settle time on failure.
 */
export function operationProgress(log: CbrOperationLogRow, backup: BackupRow | undefined): number {
  if (log.status === 'success') return 100;
  const extra = log.extra as { progress?: number };
  if (log.status !== 'running') return typeof extra.progress === 'number' ? extra.progress : 0;
  if (!backup || backup.progress_operation !== PROGRESS_PHASE[log.operation_type]) return 0;
  return Math.floor(progressPercent(Number(backup.progress_bytes_done), Number(backup.progress_bytes_total)));
}

function view(log: CbrOperationLogRow, backup: BackupRow | undefined, target: VolumeRow | undefined): OperationLogView {
  const extra = log.extra as Record<string, unknown>;
  const created = cbrTime(log.created_at)!;
  const out: OperationLogView = {
    id: log.id,
    project_id: log.project_id,
    operation_type: log.operation_type,
    status: log.status,
    checkpoint_id: log.checkpoint_id,
    policy_id: log.policy_id,
    provider_id: DISK_PROVIDER_ID,
    vault_id: log.vault_id,
    vault_name: log.vault_name,
    created_at: created,
    started_at: cbrTime(log.started_at) ?? created,
    updated_at: cbrTime(log.updated_at) ?? created,
    ended_at: cbrTime(log.ended_at),
    error_info: { code: log.error_code, message: log.error_message },
    extra_info: {
      common: {
        progress: operationProgress(log, backup),
        request_id: typeof extra.request_id === 'string' ? extra.request_id : '',
        task_id: log.job_id !== null ? String(log.job_id) : '',
        ...runningFigures(log, backup),
      },
      resource: { id: log.resource_id ?? '', name: log.resource_name ?? '', type: VOLUME_TYPE },
    },
  };
  const backupRef = { backup_id: log.backup_id ?? '', backup_name: log.backup_name ?? '' };
  if (log.operation_type === 'backup' && log.backup_id) {
    out.extra_info.backup = { ...backupRef, incremental: log.incremental ? 'true' : 'false' };
  } else if (log.operation_type === 'restore') {
    out.extra_info.restore = {
      ...backupRef,
      target_resource_id: log.target_resource_id ?? '',
      target_resource_name: target?.display_name ?? '',
    };
  } else if (log.operation_type === 'delete') {
    out.extra_info.delete = backupRef;
  }
  if (extra.vault_delete) out.extra_info.vault_delete = extra.vault_delete as OperationLogView['extra_info']['vault_delete'];
  if (extra.remove_resources)
    out.extra_info.remove_resources = extra.remove_resources as OperationLogView['extra_info']['remove_resources'];
  return out;
}

async function views(db: Db, logs: readonly CbrOperationLogRow[]): Promise<OperationLogView[]> {
  const backups = await backupsByIds(
    db,
    logs.filter((l) => l.status === 'running' && l.backup_id).map((l) => l.backup_id!),
  );
  const targets = await volumesByIds(
    db,
    logs.filter((l) => l.target_resource_id).map((l) => l.target_resource_id!),
  );
  return logs.map((l) =>
    view(l, l.backup_id ? backups.get(l.backup_id) : undefined, l.target_resource_id ? targets.get(l.target_resource_id) : undefined),
  );
}

/** T2: 404 BackupService.6500 for an unknown id or another project's log. */
export async function showOperationLog(db: Db, ctx: RequestContext, id: string): Promise<OperationLogView> {
  const log = await findOperationLog(db, id, ctx.projectId);
  if (!log) throw new CbrError('BackupService.6500', 'Operation log does not exist.', true);
  return (await views(db, [log]))[0]!;
}

/** T1: newest first; `count` is the total matching the filter; an offset past the end gives []. */
export async function listOperationLogsOf(
  db: Db,
  ctx: RequestContext,
  filter: Omit<OperationLogFilter, 'projectId'>,
  offset: number,
  limit: number,
): Promise<{ logs: OperationLogView[]; count: number }> {
  const { rows, count } = await listOperationLogs(db, { ...filter, projectId: ctx.projectId }, offset, limit);
  return { logs: await views(db, rows), count };
}
