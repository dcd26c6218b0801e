/**
 * Job failures and the fail_reason text they leave on the row.
 */
import { failReason } from '../status.js';

/** An error whose message is meant for fail_reason as is. */
export class BackupJobFailure extends Error {
  override name = 'BackupJobFailure';
}

/**
 * A message fit for fail_reason from any error. Tenants read fail_reason: a Node system error
 * (ENOENT, EACCES...) names server paths, so it becomes its code and operation only (the full
 * error is logged by the job runner).
 */
export function reasonOf(err: unknown): string {
  const sys = err as { code?: unknown; syscall?: unknown };
  if (err instanceof Error && typeof sys.code === 'string' && /^E[A-Z0-9]+$/.test(sys.code) && typeof sys.syscall === 'string') {
    return failReason(`local storage error: ${sys.code} (${sys.syscall})`);
  }
  return failReason(err instanceof Error ? err.message : String(err));
}
