import { DomainError } from '../common/errors.js';

/**
 * A CBR error: rendered by the CBR listener as
 * {"error_code": "BackupService.NNNN", "error_msg": "..."} with 404 for an unknown id, 400 otherwise.
 */
export class CbrError extends DomainError {
  constructor(
    override readonly code: string,
    message: string,
    notFound = false,
  ) {
    super(notFound ? 'not_found' : 'invalid', message);
    this.name = 'CbrError';
  }
}

export const cbrInvalid = (code: string, message: string) => new CbrError(`BackupService.${code}`, message);
export const vaultNotFound = (id: string) => new CbrError('BackupService.6105', `Vault ${id} Not Found`, true);
export const paramInvalid = (field: string, why: string) => new CbrError('BackupService.9900', `Invalid parameter ${field}: ${why}`);
