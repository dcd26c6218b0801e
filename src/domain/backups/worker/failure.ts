/**
 * Job failures and the fail_reason text they leave on the row.
 */
import { failReason } from '../status.js';

/** An error whose message is meant for fail_reason as is. */
export class BackupJobFailure extends Error {
  override name = 'BackupJobFailure';
}

/** A message fit for fail_reason from any error. */
export function reasonOf(err: unknown): string {
  return failReason(err instanceof Error ? err.message : String(err));
}
