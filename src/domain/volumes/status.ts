/**
 * Volume and snapshot status machines (Cinder's statuses, cinder/objects/fields.py, and
 * the checks of cinder/volume/api.py). Each named
 * transition lists the statuses it may start from; the repositories turn it into
 * one `UPDATE ... WHERE status = ANY(from) RETURNING *`, so a lost race is a 400,
 * never a silent overwrite. unit test: test/unit/volume-status.test.ts (one per row).
 */

import type { Transition } from '../common/transition.js';

export type { Transition } from '../common/transition.js';

export const VOLUME_STATUSES = [
  'creating',
  'available',
  'in-use',
  'attaching',
  'detaching',
  'deleting',
  'error',
  'error_deleting',
  'error_managing',
  'managing',
  'maintenance',
  'reserved',
  'awaiting-transfer',
  'backing-up',
  'restoring-backup',
  'error_restoring',
  'error_extending',
  'extending',
  'downloading',
  'uploading',
  'retyping',
] as const;
export type VolumeStatus = (typeof VOLUME_STATUSES)[number];

export const SNAPSHOT_STATUSES = [
  'creating',
  'available',
  'deleting',
  'deleted',
  'updating',
  'error',
  'error_deleting',
  'unmanaging',
  'backing-up',
  'restoring',
] as const;
export type SnapshotStatus = (typeof SNAPSHOT_STATUSES)[number];

/** Statuses from which a volume may be deleted without `force` (cinder/volume/api.py:delete). */
export const VOLUME_DELETABLE = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'] as const;

export const VOLUME_TRANSITIONS = {
  /** The file (or the copy job) is done. */
  create_done: { from: ['creating'], to: 'available' },
  create_failed: { from: ['creating'], to: 'error' },
  delete: { from: VOLUME_DELETABLE, to: 'deleting' },
  /** Admin `force=true` / os-force_delete: anything but a volume already being deleted. */
  force_delete: { from: VOLUME_STATUSES.filter((s) => s !== 'deleting'), to: 'deleting' },
  /** Below 3.42 only `available` volumes extend. */
  extend: { from: ['available'], to: 'extending' },
  extend_attached: { from: ['available', 'in-use'], to: 'extending' },
  /** Back to what it was before (available or in-use). */
  extend_done: { from: ['extending'], to: null },
  extend_failed: { from: ['extending'], to: 'error_extending' },
  /** multiattach is never on here, so an in-use volume cannot be attached twice. */
  attach: { from: ['available', 'attaching', 'reserved'], to: 'in-use' },
  detach: { from: ['in-use', 'detaching'], to: 'available' },
  /** Admin os-reset_status: any status to the one asked for. */
  reset_status: { from: VOLUME_STATUSES, to: null },
} as const satisfies Record<string, Transition<VolumeStatus>>;

export type VolumeTransitionName = keyof typeof VOLUME_TRANSITIONS;

/** Volume statuses from which a snapshot may be taken (`in-use` needs force below 3.66). */
export const VOLUME_SNAPSHOTTABLE = ['available', 'in-use'] as const;
/** Volume statuses whose bytes may be read or written through the data extension. */
export const VOLUME_DATA_ACCESSIBLE = ['available'] as const;
/** Volume statuses usable as a clone source (source_volid). */
export const VOLUME_CLONEABLE = ['available', 'in-use'] as const;

export const SNAPSHOT_TRANSITIONS = {
  create_done: { from: ['creating'], to: 'available' },
  create_failed: { from: ['creating'], to: 'error' },
  delete: { from: ['available', 'error'], to: 'deleting' },
  force_delete: { from: SNAPSHOT_STATUSES.filter((s) => s !== 'deleted'), to: 'deleting' },
  /** The delete job finished: the row is soft-deleted. */
  delete_done: { from: ['deleting'], to: 'deleted' },
  delete_failed: { from: ['deleting'], to: 'error_deleting' },
  reset_status: { from: SNAPSHOT_STATUSES.filter((s) => s !== 'deleted'), to: null },
} as const satisfies Record<string, Transition<SnapshotStatus>>;

export type SnapshotTransitionName = keyof typeof SNAPSHOT_TRANSITIONS;

/** os-update_snapshot_status: current status -> statuses it may be set to (cinder/api/contrib/snapshot_actions.py). */
export const SNAPSHOT_UPDATE_STATUS_ALLOWED: Readonly<Record<string, readonly SnapshotStatus[]>> = {
  creating: ['creating', 'available', 'error'],
  deleting: ['deleting', 'error_deleting'],
};

/** True when `name` may start from `status`. */
export function volumeMayTransition(name: VolumeTransitionName, status: string): boolean {
  return (VOLUME_TRANSITIONS[name].from as readonly string[]).includes(status);
}

/** True when `name` may start from `status`. */
export function snapshotMayTransition(name: SnapshotTransitionName, status: string): boolean {
  return (SNAPSHOT_TRANSITIONS[name].from as readonly string[]).includes(status);
}

/** The API shows a few internal statuses under their public name (cinder views). */
export function publicVolumeStatus(status: string): string {
  if (status === 'managing') return 'creating';
  if (status === 'error_managing') return 'error';
  return status;
}
