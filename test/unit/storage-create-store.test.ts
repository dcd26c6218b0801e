import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createObjectStore } from '../../src/storage/create-store.js';
import { PosixObjectStore } from '../../src/storage/posix-store.js';
import { S3ObjectStore } from '../../src/storage/s3-store.js';

describe('createObjectStore', () => {
  it('makes the posix store by default, reporting Cinder posix driver name', async () => {
    const store = createObjectStore(loadConfig({ DATA_DIR: '/tmp/cbt-create-store' }));
    expect(store).toBeInstanceOf(PosixObjectStore);
    expect(store.serviceName).toBe('cinder.backup.drivers.posix.PosixBackupDriver');
    await store.close();
  });

  it('makes the S3 store for BACKUP_STORE=s3, with S3_BUCKET as the default container', async () => {
    const store = createObjectStore(loadConfig({ BACKUP_STORE: 's3', S3_ENDPOINT: 'http://127.0.0.1:1', S3_BUCKET: 'my-backups' }));
    expect(store).toBeInstanceOf(S3ObjectStore);
    expect(store.serviceName).toBe('cinder.backup.drivers.s3.S3BackupDriver');
    expect(store.defaultContainer).toBe('my-backups');
    await store.close();
  });
});
