/**
 * The progress extension (GET /backups/{id}/progress): the persisted progress_* columns of the
 * backup, read against the newest backup, restore or verify job of that backup, so a record
 * left by an earlier run is never shown as the current one's.
 */
import { latestJobOf } from '../../db/jobs-repository.js';
import type { BackupRow, JobRow } from '../../db/schema.js';
import { type HostLiveness, hostLiveness } from '../../db/worker-heartbeats-repository.js';
import type { RequestContext } from '../common/context.js';
import type { BackupApiDeps } from './deps.js';
import { getBackupFor, progressPercent } from './reads.js';

/** The jobs that write a backup's progress record; their kind is the record's operation. */
const PROGRESS_KINDS = ['backup', 'restore', 'verify'] as const;

/**
 * What the operation is doing: queued (its job waits for a worker), starting, then the
 * engine's reading / uploading / restoring / verifying / finishing; done or failed once its
 * job ended; stalled when its worker stopped renewing the lease (another will take it over);
 * waiting when its job is bound to a host that has no live worker (it runs when one comes back).
 * Null when no operation ever ran.
 */
export type ProgressPhase =
  | 'queued'
  | 'starting'
  | 'reading'
  | 'uploading'
  | 'restoring'
  | 'verifying'
  | 'finishing'
  | 'done'
  | 'failed'
  | 'stalled'
  | 'waiting';

const ACTIVE: ReadonlySet<string> = new Set(['starting', 'reading', 'uploading', 'restoring', 'verifying', 'finishing']);

/** The progress extension's figures. */
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
  phase: ProgressPhase | null;
  /** The attempt of the job run the figures belong to (1 = first), null without a job. */
  attempt: number | null;
  bytesRead: number;
  bytesStored: number;
  /** Rate over the last seconds while the operation runs, else 0. */
  currentRateBytesPerSec: number;
  /** Seconds left at the current rate while the operation runs, else null. */
  etaSeconds: number | null;
  /** Why the operation does not run (phase waiting), in words: "waiting for host C: ...". */
  waitingReason: string | null;
}

/** True when the record was written by another run than `job`'s (an earlier job, or an earlier attempt of a running one). */
export function isStaleRecord(row: Pick<BackupRow, 'progress_job_id' | 'progress_attempt'>, job: JobRow): boolean {
  // Written before records named their job (an older version): the last run's, unless a new one is under way.
  if (row.progress_job_id === null) return job.status === 'queued' || job.status === 'running';
  if (row.progress_job_id !== job.id) return true;
  // Given back to the queue (shutdown) or claimed again (takeover): the next attempt starts its own record.
  if (job.status === 'queued') return true;
  return job.status === 'running' && row.progress_attempt !== job.attempts;
}

function phaseOf(row: BackupRow, job: JobRow | undefined, now: Date): ProgressPhase | null {
  const recorded = (row.progress_phase as ProgressPhase | null) ?? (row.progress_operation ? 'starting' : null);
  if (!job) {
    // Its job row was pruned (JOB_RETENTION_HOURS) or never existed: nothing runs on this record now.
    if (row.status === 'creating' || row.status === 'restoring') return recorded;
    const complete = row.progress_bytes_total > 0 && row.progress_bytes_done >= row.progress_bytes_total;
    return recorded && complete ? 'done' : recorded && 'failed';
  }
  if (job.status === 'done') return 'done';
  if (job.status === 'failed') return 'failed';
  if (job.status === 'queued') return 'queued';
  if (job.lease_expires_at && job.lease_expires_at < now) return 'stalled';
  return recorded ?? 'starting';
}

/**
 * Why a job that should run does not: it is bound to a host none of whose workers is live (no
 * heartbeat within a lease). Null when it can run (or is not waiting at all).
 */
export function waitingReason(job: JobRow | undefined, host: HostLiveness | undefined, now: Date): string | null {
  if (!job?.host_id || !host || host.hostId !== job.host_id || host.liveWorkers > 0) return null;
  const claimable = job.status === 'queued' || (job.status === 'running' && job.lease_expires_at !== null && job.lease_expires_at < now);
  if (!claimable) return null;
  const seen = host.lastSeenAt ? `its last worker was seen at ${host.lastSeenAt.toISOString()}` : 'no worker of it has been seen';
  return `waiting for host ${job.host_id}: ${seen}; the ${job.kind} runs there (its data is on that host) when a worker with HOST_ID=${job.host_id} is back`;
}

/**
 * The progress of a backup's current (or last) operation, from its row, its newest job and the
 * liveness of that job's host (omit it for a job of no host, or where it is not known).
 */
export function progressOf(row: BackupRow, job: JobRow | undefined, now = new Date(), host?: HostLiveness): BackupProgress {
  const waiting = waitingReason(job, host, now);
  const common = {
    backupId: row.id,
    status: row.status,
    verifiedAt: row.verified_at,
    verifyResult: row.verify_result,
    failReason: row.fail_reason,
    waitingReason: waiting,
  };
  if (job && isStaleRecord(row, job)) {
    return {
      ...common,
      operation: job.kind,
      percent: 0,
      bytesDone: 0,
      bytesTotal: 0,
      rateBytesPerSec: 0,
      startedAt: null,
      updatedAt: null,
      phase: waiting ? 'waiting' : job.status === 'running' ? 'starting' : phaseOf(row, job, now),
      attempt: job.attempts || null,
      bytesRead: 0,
      bytesStored: 0,
      currentRateBytesPerSec: 0,
      etaSeconds: null,
    };
  }
  const done = row.progress_bytes_done;
  const total = row.progress_bytes_total;
  const seconds =
    row.progress_started_at && row.progress_updated_at ? (row.progress_updated_at.getTime() - row.progress_started_at.getTime()) / 1000 : 0;
  const phase = waiting ? 'waiting' : phaseOf(row, job, now);
  const active = phase !== null && ACTIVE.has(phase);
  const current = active ? row.progress_rate_bytes_per_sec : 0;
  return {
    ...common,
    operation: row.progress_operation,
    percent: progressPercent(done, total),
    bytesDone: done,
    bytesTotal: total,
    rateBytesPerSec: seconds > 0 ? Math.round(done / seconds) : 0,
    startedAt: row.progress_started_at,
    updatedAt: row.progress_updated_at,
    phase,
    attempt: row.progress_attempt,
    bytesRead: row.progress_bytes_read,
    bytesStored: row.progress_bytes_stored,
    currentRateBytesPerSec: current,
    etaSeconds: active && current > 0 ? Math.ceil(Math.max(0, total - done) / current) : null,
  };
}

/** GET /backups/{id}/progress (extension; backup:get policy). Throws as getBackupFor. */
export async function backupProgress(deps: Pick<BackupApiDeps, 'db'>, ctx: RequestContext, id: string): Promise<BackupProgress> {
  const row = await getBackupFor(deps, ctx, id, 'backup:get');
  const job = await latestJobOf(deps.db, row.id, PROGRESS_KINDS);
  const live = job?.status === 'queued' || job?.status === 'running';
  const host = live && job.host_id ? await hostLiveness(deps.db, job.host_id) : undefined;
  return progressOf(row, job, new Date(), host);
}
