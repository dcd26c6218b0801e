import { describe, expect, it } from 'vitest';
import {
  SNAPSHOT_STATUSES,
  SNAPSHOT_UPDATE_STATUS_ALLOWED,
  VOLUME_STATUSES,
  publicVolumeStatus,
  snapshotMayTransition,
  volumeMayTransition,
  type SnapshotTransitionName,
  type VolumeTransitionName,
} from '../../src/domain/volumes/status.js';

/** Expected starting statuses per transition, written out independently of the table. */
const VOLUME_EXPECT: Record<VolumeTransitionName, readonly string[]> = {
  create_done: ['creating'],
  create_failed: ['creating'],
  delete: ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'],
  force_delete: VOLUME_STATUSES.filter((s) => s !== 'deleting'),
  extend: ['available'],
  extend_attached: ['available', 'in-use'],
  extend_done: ['extending'],
  extend_failed: ['extending'],
  attach: ['available', 'attaching', 'reserved'],
  detach: ['in-use', 'detaching'],
  reset_status: VOLUME_STATUSES,
};

const SNAPSHOT_EXPECT: Record<SnapshotTransitionName, readonly string[]> = {
  create_done: ['creating'],
  create_failed: ['creating'],
  delete: ['available', 'error'],
  force_delete: SNAPSHOT_STATUSES.filter((s) => s !== 'deleted'),
  delete_done: ['deleting'],
  delete_failed: ['deleting'],
  reset_status: SNAPSHOT_STATUSES.filter((s) => s !== 'deleted'),
};

describe('volume transitions', () => {
  for (const [name, allowed] of Object.entries(VOLUME_EXPECT) as Array<[VolumeTransitionName, readonly string[]]>) {
    it(`${name} starts only from ${allowed.length === VOLUME_STATUSES.length ? 'any status' : allowed.join(', ')}`, () => {
      for (const status of VOLUME_STATUSES) expect(volumeMayTransition(name, status), status).toBe(allowed.includes(status));
    });
  }

  it('refuses delete, extend and attach for volumes busy with a backup or a failed restore', () => {
    for (const status of ['backing-up', 'restoring-backup']) {
      expect(volumeMayTransition('delete', status)).toBe(false);
      expect(volumeMayTransition('extend_attached', status)).toBe(false);
      expect(volumeMayTransition('attach', status)).toBe(false);
    }
    expect(volumeMayTransition('attach', 'error_restoring')).toBe(false);
    expect(volumeMayTransition('delete', 'error_restoring')).toBe(true);
  });

  it('shows managing as creating and error_managing as error', () => {
    expect(publicVolumeStatus('managing')).toBe('creating');
    expect(publicVolumeStatus('error_managing')).toBe('error');
    expect(publicVolumeStatus('in-use')).toBe('in-use');
  });
});

describe('snapshot transitions', () => {
  for (const [name, allowed] of Object.entries(SNAPSHOT_EXPECT) as Array<[SnapshotTransitionName, readonly string[]]>) {
    it(`${name} starts only from ${allowed.join(', ')}`, () => {
      for (const status of SNAPSHOT_STATUSES) expect(snapshotMayTransition(name, status), status).toBe(allowed.includes(status));
    });
  }

  it('os-update_snapshot_status allows creating -> creating/available/error and deleting -> deleting/error_deleting only', () => {
    expect(SNAPSHOT_UPDATE_STATUS_ALLOWED).toEqual({
      creating: ['creating', 'available', 'error'],
      deleting: ['deleting', 'error_deleting'],
    });
    expect(SNAPSHOT_UPDATE_STATUS_ALLOWED.available).toBeUndefined();
  });
});
