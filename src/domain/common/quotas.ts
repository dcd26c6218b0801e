import type { Config } from '../../config.js';
import type { Db } from '../../db/schema.js';
import {
  deleteProjectQuotas,
  lockProjectQuota,
  projectUsage,
  quotaClassOverrides,
  quotaOverrides,
  setQuota,
  setQuotaClass,
} from '../../db/quotas-repository.js';
import { type DomainError, invalid, overLimit } from './errors.js';

/**
 * Quotas: defaults from QUOTA_*, overlaid by the `default` quota class (what new projects
 * get, as Cinder's use_default_quota_class), then per-project overrides; usage from live rows.
 */

export const QUOTA_RESOURCES = [
  'volumes',
  'snapshots',
  'gigabytes',
  'backups',
  'backup_gigabytes',
  'groups',
  'per_volume_gigabytes',
] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

/** The configured defaults (-1 = unlimited). */
export function defaultQuotas(config: Config): Record<QuotaResource, number> {
  return {
    volumes: config.QUOTA_VOLUMES,
    snapshots: config.QUOTA_SNAPSHOTS,
    gigabytes: config.QUOTA_GIGABYTES,
    backups: config.QUOTA_BACKUPS,
    backup_gigabytes: config.QUOTA_BACKUP_GIGABYTES,
    groups: 10,
    per_volume_gigabytes: -1,
  };
}

/** The quota class every project starts from. */
export const DEFAULT_QUOTA_CLASS = 'default';

function overlay(base: Record<QuotaResource, number>, overrides: Record<string, number>): Record<QuotaResource, number> {
  const out = { ...base };
  for (const r of QUOTA_RESOURCES) if (Object.hasOwn(overrides, r)) out[r] = overrides[r]!;
  return out;
}

/** A quota class's limits: the configured defaults overlaid with the class's own values. */
export async function classQuotas(db: Db, config: Config, className: string): Promise<Record<QuotaResource, number>> {
  return overlay(defaultQuotas(config), await quotaClassOverrides(db, className));
}

/** The defaults a project without overrides gets (the `default` quota class). */
export function projectDefaultQuotas(db: Db, config: Config): Promise<Record<QuotaResource, number>> {
  return classQuotas(db, config, DEFAULT_QUOTA_CLASS);
}

/** Effective limits of a project: the default class overlaid with its overrides. */
export async function projectQuotas(db: Db, config: Config, projectId: string): Promise<Record<QuotaResource, number>> {
  return overlay(await projectDefaultQuotas(db, config), await quotaOverrides(db, projectId));
}

/** Sets values of a quota class (validated by the caller: integers >= -1). */
export async function updateQuotaClass(db: Db, className: string, values: Partial<Record<QuotaResource, number>>): Promise<void> {
  for (const [resource, value] of Object.entries(values)) {
    if (value !== undefined) await setQuotaClass(db, className, resource, value);
  }
}

/** Drops a project's overrides: it gets the default class's limits again. */
export function deleteQuotas(db: Db, projectId: string): Promise<void> {
  return deleteProjectQuotas(db, projectId);
}

/** Usage per resource (groups are not implemented: always 0). */
export async function quotaUsage(db: Db, projectId: string): Promise<Record<QuotaResource, number>> {
  const u = await projectUsage(db, projectId);
  return {
    volumes: u.volumes!,
    snapshots: u.snapshots!,
    gigabytes: u.gigabytes!,
    backups: u.backups!,
    backup_gigabytes: u.backup_gigabytes!,
    groups: 0,
    per_volume_gigabytes: 0,
  };
}

/** Updates overrides; values must be integers >= -1. */
export async function updateQuotas(db: Db, projectId: string, values: Partial<Record<QuotaResource, number>>): Promise<void> {
  for (const [resource, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < -1)
      throw invalid('input received', `Quota limit ${value} for ${resource} must be -1 or greater.`);
    await setQuota(db, projectId, resource, value);
  }
}

const exceeds = (limit: number, used: number, add: number) => limit >= 0 && used + add > limit;

/** Cinder's quota exception classes (cinder/exception.py, QuotaError subclasses). */
export type QuotaException =
  | 'BackupLimitExceeded'
  | 'VolumeBackupSizeExceedsAvailableQuota'
  | 'VolumeLimitExceeded'
  | 'VolumeSizeExceedsAvailableQuota'
  | 'SnapshotLimitExceeded';

/**
 * 413 for a Cinder quota exception as clients print it. QuotaError is `safe`, so Cinder's
 * FaultWrapper (cinder/api/middleware/fault.py) answers "<ExceptionClass>: <message>"; found
 * by the acceptance suite (`cinder create 5001` printed the message without
 * "VolumeSizeExceedsAvailableQuota: "). Only the restore API catches the exception itself
 * and answers with the bare message (checkVolumeQuota).
 */
export function quotaExceeded(exception: QuotaException, message: string): DomainError {
  return overLimit(`${exception}: ${message}`);
}

/** The gigabytes message shared by VolumeSizeExceedsAvailableQuota and its backup twin. */
export function gigabytesMessage(
  what: 'volume or snapshot' | 'backup',
  name: string,
  requested: number,
  quota: number,
  consumed: number,
): string {
  return `Requested ${what} exceeds allowed ${name} quota. Requested ${requested}G, quota is ${quota}G and ${consumed}G has been consumed.`;
}

/**
 * Checks that one more backup of `sizeGb` fits the project's quotas, holding the project's
 * quota lock until the transaction ends. Throws 413 overLimit (Retry-After 0).
 * Must run inside the transaction that inserts the backup row.
 */
export async function checkBackupQuota(trx: Db, config: Config, projectId: string, sizeGb: number): Promise<void> {
  await lockProjectQuota(trx, projectId);
  const limits = await projectQuotas(trx, config, projectId);
  const used = await quotaUsage(trx, projectId);
  if (exceeds(limits.backups, used.backups, 1)) {
    throw quotaExceeded('BackupLimitExceeded', `Maximum number of backups allowed (${limits.backups}) exceeded`);
  }
  if (exceeds(limits.backup_gigabytes, used.backup_gigabytes, sizeGb)) {
    throw quotaExceeded(
      'VolumeBackupSizeExceedsAvailableQuota',
      gigabytesMessage('backup', 'Backup gigabytes', sizeGb, limits.backup_gigabytes, used.backup_gigabytes),
    );
  }
}

async function volumeQuotaFailure(trx: Db, config: Config, projectId: string, sizeGb: number): Promise<[QuotaException, string] | null> {
  await lockProjectQuota(trx, projectId);
  const limits = await projectQuotas(trx, config, projectId);
  const used = await quotaUsage(trx, projectId);
  if (exceeds(limits.volumes, used.volumes, 1)) {
    return ['VolumeLimitExceeded', `Maximum number of volumes allowed (${limits.volumes}) exceeded for quota 'volumes'.`];
  }
  if (exceeds(limits.gigabytes, used.gigabytes, sizeGb)) {
    return [
      'VolumeSizeExceedsAvailableQuota',
      gigabytesMessage('volume or snapshot', 'gigabytes', sizeGb, limits.gigabytes, used.gigabytes),
    ];
  }
  return null;
}

/**
 * One more volume of `sizeGb` for a restore into a new volume: Cinder's restore API catches
 * VolumeSizeExceedsAvailableQuota/VolumeLimitExceeded and answers 413 with the bare message.
 */
export async function checkVolumeQuota(trx: Db, config: Config, projectId: string, sizeGb: number): Promise<void> {
  const failure = await volumeQuotaFailure(trx, config, projectId, sizeGb);
  if (failure) throw overLimit(failure[1]);
}

/** One more volume of `sizeGb` (volume create, also from a backup): "<ExceptionClass>: <message>". */
export async function checkNewVolumeQuota(trx: Db, config: Config, projectId: string, sizeGb: number): Promise<void> {
  const failure = await volumeQuotaFailure(trx, config, projectId, sizeGb);
  if (failure) throw quotaExceeded(...failure);
}

/**
 * os-extend of a volume by `addGb`: only the project's gigabytes grow (413
 * VolumeSizeExceedsAvailableQuota, as Cinder's extend). Call in the transaction that
 * starts the extend, so the project's quota lock covers both.
 */
export async function checkExtendQuota(trx: Db, config: Config, projectId: string, addGb: number): Promise<void> {
  await lockProjectQuota(trx, projectId);
  const limits = await projectQuotas(trx, config, projectId);
  const used = await quotaUsage(trx, projectId);
  if (exceeds(limits.gigabytes, used.gigabytes, addGb)) {
    throw quotaExceeded(
      'VolumeSizeExceedsAvailableQuota',
      gigabytesMessage('volume or snapshot', 'gigabytes', addGb, limits.gigabytes, used.gigabytes),
    );
  }
}
