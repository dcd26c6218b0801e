import { open } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { BackupJobFailure, reasonOf } from '../../src/domain/backups/worker/failure.js';

describe('fail_reason from an error', () => {
  it('never shows a server path: a filesystem error becomes its code and operation', async () => {
    const err = await open('/srv/secret-data-dir/snapshots/snapshot-040cf266', 'r').catch((e: unknown) => e);
    const reason = reasonOf(err);
    expect(reason).toBe('local storage error: ENOENT (open)');
    expect(reason).not.toContain('/srv');
  });

  it('keeps messages meant for tenants as they are', () => {
    expect(reasonOf(new BackupJobFailure('Import record failed: no container.'))).toBe('Import record failed: no container.');
  });
});
