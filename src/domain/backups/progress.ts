import { getBackupFor } from './read.js';
import type { BackupApiDeps } from './read.js';
import type { RequestContext } from '../common/context.js';

/** The progress extension's figures, computed from the persisted progress_* columns. */
export interface BackupProgress {
  backupId: string;
  status: string;
  /** backup | restore | verify, or null when nothing ran yet. */
  operation: string | null;
  percent: number;
  bytesDone: number;
  bytesTotal: number;
  /** Average rate of the operation between its start and the last persisted counter. */
  rateBytesPerSec: number;
  startedAt: Date | null;
  updatedAt: Date | null;
  verifiedAt: Date | null;
  verifyResult: string | null;
  failReason: string | null;
}

/** Percent done (one decimal), the figure the progress extension and CBR's operation logs report. */
export function progressPercent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((done * 1000) / total) / 10) : 0;
}

/** GET /backups/{id}/progress (extension; backup:get policy). */
export async function backupProgress(deps: Pick<BackupApiDeps, 'db'>, ctx: RequestContext, id: string): Promise<BackupProgress> {
  const r = await getBackupFor(deps, ctx, id, 'backup:get');
  const done = r.progress_bytes_done;
  const total = r.progress_bytes_total;
  const percent = progressPercent(done, total);
  const seconds =
    r.progress_started_at && r.progress_updated_at ? (r.progress_updated_at.getTime() - r.progress_started_at.getTime()) / 1000 : 0;
  return {
    backupId: r.id,
    status: r.status,
    operation: r.progress_operation,
    percent,
    bytesDone: done,
    bytesTotal: total,
    rateBytesPerSec: seconds > 0 ? Math.round(done / seconds) : 0,
    startedAt: r.progress_started_at,
    updatedAt: r.progress_updated_at,
    verifiedAt: r.verified_at,
    verifyResult: r.verify_result,
    failReason: r.fail_reason,
  };
}
