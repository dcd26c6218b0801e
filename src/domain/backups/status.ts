/**
 * Backup statuses and the table of what each operation accepts (reference §4.1).
 * Domain code passes these lists to the repository's compare-and-set updates.
 */

export const BACKUP_STATUSES = ['creating', 'available', 'deleting', 'deleted', 'error', 'error_deleting', 'restoring'] as const;
export type BackupStatus = (typeof BACKUP_STATUSES)[number];

/** Every status of a live (not soft-deleted) row. */
export const LIVE_STATUSES: readonly BackupStatus[] = ['creating', 'available', 'deleting', 'error', 'error_deleting', 'restoring'];

/** From-statuses per operation (the allowed-transitions table; one test per row). */
export const BACKUP_TRANSITIONS = {
  /** DELETE: available | error -> deleting. */
  delete: ['available', 'error'],
  /** os-force_delete: any live status -> deleting. */
  forceDelete: LIVE_STATUSES,
  /** restore and volume-from-backup: available -> restoring. */
  restore: ['available'],
  /** export_record needs available. */
  export: ['available'],
  /** os-verify (extension) needs available. */
  verify: ['available'],
  /** os-reset_status: any live status -> available | error. */
  resetStatus: LIVE_STATUSES,
  /** The running job finishes: creating -> available | error. */
  finishBackup: ['creating'],
  /** The restore job finishes: restoring -> available. */
  finishRestore: ['restoring'],
  /** The delete job finishes: deleting -> deleted (soft) | error. */
  finishDelete: ['deleting'],
} as const satisfies Record<string, readonly BackupStatus[]>;

/** Statuses os-reset_status may set. */
export const RESET_TARGETS: readonly BackupStatus[] = ['available', 'error'];

/** Volume statuses a backup may start from (in-use needs force). */
export const VOLUME_BACKUP_SOURCES = ['available', 'in-use'] as const;

/** Cinder's fail_reason column holds 255 characters. */
export function failReason(message: string): string {
  const text = message.trim() || 'unknown error';
  return text.length > 255 ? `${text.slice(0, 252)}...` : text;
}

/** True while a status still counts as "this backup's data is complete and usable". */
export function isUsableParent(status: string): boolean {
  return status === 'available';
}
