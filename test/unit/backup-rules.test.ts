import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { checkBackupName } from '../../src/domain/backups/names.js';
import { objectPrefix } from '../../src/engine/backup-format.js';
import { decodeRecord } from '../../src/domain/backups/records.js';
import { BACKUP_TRANSITIONS, LIVE_STATUSES, RESET_TARGETS, failReason } from '../../src/domain/backups/status.js';
import { DomainError } from '../../src/domain/common/errors.js';

/** The backup status table (reference §4.1 "API operations allowed per backup status"), one test per row. */
const ALLOWED: Record<string, { delete: boolean; restore: boolean; export: boolean; forceDelete: boolean; reset: boolean }> = {
  creating: { delete: false, restore: false, export: false, forceDelete: true, reset: true },
  available: { delete: true, restore: true, export: true, forceDelete: true, reset: true },
  restoring: { delete: false, restore: false, export: false, forceDelete: true, reset: true },
  deleting: { delete: false, restore: false, export: false, forceDelete: true, reset: true },
  error: { delete: true, restore: false, export: false, forceDelete: true, reset: true },
  error_deleting: { delete: false, restore: false, export: false, forceDelete: true, reset: true },
};

describe('backup status table', () => {
  it.each(Object.entries(ALLOWED))('%s: delete/restore/export/force-delete/reset as Cinder allows', (status, ops) => {
    const has = (list: readonly string[]) => list.includes(status);
    expect({
      delete: has(BACKUP_TRANSITIONS.delete.from),
      restore: has(BACKUP_TRANSITIONS.restore.from),
      export: has(BACKUP_TRANSITIONS.export.from),
      forceDelete: has(BACKUP_TRANSITIONS.forceDelete.from),
      reset: has(BACKUP_TRANSITIONS.resetStatus.from),
    }).toEqual(ops);
  });

  it('only available backups can be verified or chosen as parents; resets go to available or error', () => {
    expect(BACKUP_TRANSITIONS.verify.from).toEqual(['available']);
    expect(RESET_TARGETS).toEqual(['available', 'error']);
    expect(LIVE_STATUSES).not.toContain('deleted');
  });

  it('fail_reason is cut to 255 characters', () => {
    expect(failReason('x'.repeat(300))).toHaveLength(255);
    expect(failReason('  ')).toBe('unknown error');
  });
});

describe('object prefix', () => {
  it("is Cinder's volume_<vol>/<UTC YYYYmmddHHMMSS>/az_<az>_backup_<id>", () => {
    expect(objectPrefix('v1', 'nova', 'b1', new Date('2026-11-22T10:15:04.123Z'))).toBe('volume_v1/20261122101504/az_nova_backup_b1');
  });
});

describe('strict backup names', () => {
  const strict = loadConfig({ STRICT_BACKUP_NAMES: 'true' });
  const lax = loadConfig({});
  it.each(['backup1', 'a', 'A-b_9', 'x'.repeat(64)])('accepts %s', (n) => expect(() => checkBackupName(strict, n)).not.toThrow());
  it.each(['', 'auto1', 'Automatic', 'has space', 'dot.name', 'x'.repeat(65), 'ünï'])('refuses %j', (n) => {
    expect(() => checkBackupName(strict, n)).toThrow(DomainError);
  });
  it('is off by default and ignores null names', () => {
    expect(() => checkBackupName(lax, 'auto weird name!')).not.toThrow();
    expect(() => checkBackupName(strict, null)).not.toThrow();
  });
});

describe('backup record decoding', () => {
  const enc = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');
  it('decodes a record with id and size', () => {
    expect(decodeRecord(enc({ id: '9d2b4f7e-0c1a-4e53-8a61-3f7d0b2c9e11', size: 2 }))).toMatchObject({ size: 2 });
  });
  it.each<[string, string, string]>([
    ['not base64', '$$$', "Invalid input received: Can't decode backup record."],
    ['not JSON', enc('nope'), "Invalid input received: Can't parse backup record."],
    ['a JSON array', enc([1]), "Invalid input received: Can't parse backup record."],
    ['no id', enc({ size: 1 }), 'Invalid input received: Provided backup record is missing an id'],
    [
      'no size',
      enc({ id: '9d2b4f7e-0c1a-4e53-8a61-3f7d0b2c9e11' }),
      'Invalid input received: Provided backup record is missing size attribute',
    ],
  ])('refuses %s', (_n, url, message) => {
    expect(() => decodeRecord(url)).toThrow(message);
  });
});
