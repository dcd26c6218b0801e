import { join } from 'node:path';
import type { Config } from '../config.js';
import type { ObjectStore } from './object-store.js';
import { PosixObjectStore } from './posix-store.js';
import { S3ObjectStore, s3StoreOptionsFromConfig } from './s3-store.js';

/**
 * The object store that BACKUP_STORE names: `s3` (the S3_* settings) or `posix`
 * (a directory tree at <DATA_DIR>/backups). The caller closes it at shutdown.
 */
export function createObjectStore(config: Config): ObjectStore {
  switch (config.BACKUP_STORE) {
    case 's3':
      return new S3ObjectStore(s3StoreOptionsFromConfig(config));
    case 'posix':
      return new PosixObjectStore(join(config.DATA_DIR, 'backups'), config.S3_BUCKET);
  }
}
