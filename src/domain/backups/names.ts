import type { Config } from '../../config.js';
import { invalid } from '../common/errors.js';

/**
 * Strict name mode (STRICT_BACKUP_NAMES, Huawei VBS's backup-name rules): 1-64 letters, digits, '_'
 * or '-', not starting with "auto" (reserved for automatic backups). Off by default.
 */
const STRICT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Throws 400 when strict mode is on and `name` breaks its rules (null/absent names are allowed). */
export function checkBackupName(config: Config, name: string | null | undefined): void {
  if (!config.STRICT_BACKUP_NAMES || name === null || name === undefined) return;
  if (!STRICT_NAME.test(name) || name.toLowerCase().startsWith('auto')) {
    throw invalid(
      null,
      `Invalid input for field/attribute name. Value: ${name}. Backup name must be 1-64 letters, digits, '_' or '-' and must not start with 'auto'.`,
    );
  }
}
