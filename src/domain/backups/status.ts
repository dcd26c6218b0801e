/**
 * Backup statuses and the table of what each operation accepts (Cinder's backup status
 * machine, cinder/objects/fields.py BackupStatus and cinder/backup/api.py). Domain code passes
 * each row's `from` to transitionBackup.
 */

import type { Transition } from '../common/transition.js';

export const BACKUP_STATUSES = ['creating', 'available', 'deleting', 'deleted', 'error', 'error_deleting', 'restoring'] as const;
export type BackupStatus = (typeof BACKUP_STATUSES)[number];

/** Every status of a live (not soft-deleted) row. */
export const LIVE_STATUSES: readonly BackupStatus[] = ['creating', 'available', 'deleting', 'error', 'error_deleting', 'restoring'];

/** The allowed-transitions table (one test per row): from-statuses and target per operation. */
export const BACKUP_TRANSITIONS = {
  /** DELETE: available | error -> deleting. */
  delete: { from: ['available', 'error'], to: 'deleting' },
  /** os-force_delete: any live status -> deleting. */
  forceDelete: { from: LIVE_STATUSES, to: 'deleting' },
  /** restore and volume-from-backup: available -> restoring. */
  restore: { from: ['available'], to: 'restoring' },
  /** export_record needs available (the status stays). */
  export: { from: ['available'], to: null },
  /** os-verify (extension) needs available (the status stays; the job records the result). */
  verify: { from: ['available'], to: null },
  /** os-reset_status: any live status -> available | error (RESET_TARGETS). */
  resetStatus: { from: LIVE_STATUSES, to: null },
  /** The running job finishes: creating -> available | error. */
  finishBackup: { from: ['creating'], to: null },
  /** The restore job finishes: restoring -> available. */
  finishRestore: { from: ['restoring'], to: 'available' },
  /** The delete job finishes: deleting -> deleted (soft) | error. */
  finishDelete: { from: ['deleting'], to: null },
} as const satisfies Record<string, Transition<BackupStatus>>;

/** Statuses os-reset_status may set. */
export const RESET_TARGETS: readonly BackupStatus[] = ['available', 'error'];

/** Volume statuses a backup may start from (in-use needs force). */
export const VOLUME_BACKUP_SOURCES = ['available', 'in-use'] as const;

/** Cinder's fail_reason column holds 255 characters. */
export function failReason(message: string): string {
  const text = message.trim() || 'unknown error';
  return text.length > 255 ? `${text.slice(0, 252)}...` : text;
}
