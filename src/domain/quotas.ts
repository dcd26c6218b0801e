import type { Config } from '../config.js';
import type { Db } from '../db/backups-repository.js';
import { lockProjectQuota, projectUsage, quotaOverrides, setQuota } from '../db/quotas-repository.js';
import { invalid, overLimit } from './errors.js';

/** Quotas (reference §11): defaults from QUOTA_*, per-project overrides, usage from live rows. */

export const QUOTA_RESOURCES = ['volumes', 'snapshots', 'gigabytes', 'backups', 'backup_gigabytes', 'groups', 'per_volume_gigabytes'] as const;
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

/** Effective limits of a project: defaults overlaid with its overrides. */
export async function projectQuotas(db: Db, config: Config, projectId: string): Promise<Record<QuotaResource, number>> {
  const overrides = await quotaOverrides(db, projectId);
  const out = defaultQuotas(config);
  for (const r of QUOTA_RESOURCES) if (overrides[r] !== undefined) out[r] = overrides[r]!;
  return out;
}

/** Usage per resource (groups are not implemented: always 0). */
export async function quotaUsage(db: Db, projectId: string): Promise<Record<QuotaResource, number>> {
  const u = await projectUsage(db, projectId);
  return { volumes: u.volumes!, snapshots: u.snapshots!, gigabytes: u.gigabytes!, backups: u.backups!, backup_gigabytes: u.backup_gigabytes!, groups: 0, per_volume_gigabytes: 0 };
}

/** Updates overrides; values must be integers >= -1. */
export async function updateQuotas(db: Db, projectId: string, values: Partial<Record<QuotaResource, number>>): Promise<void> {
  for (const [resource, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < -1) throw invalid('input received', `Quota limit ${value} for ${resource} must be -1 or greater.`);
    await setQuota(db, projectId, resource, value);
  }
}

const exceeds = (limit: number, used: number, add: number) => limit >= 0 && used + add > limit;

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
    throw overLimit(`Maximum number of backups allowed (${limits.backups}) exceeded`);
  }
  if (exceeds(limits.backup_gigabytes, used.backup_gigabytes, sizeGb)) {
    throw overLimit(
      `Requested backup exceeds allowed Backup gigabytes quota. Requested ${sizeGb}G, quota is ${limits.backup_gigabytes}G and ${used.backup_gigabytes}G has been consumed.`,
    );
  }
}

/** Same for one more volume of `sizeGb` (restore into a new volume). */
export async function checkVolumeQuota(trx: Db, config: Config, projectId: string, sizeGb: number): Promise<void> {
  await lockProjectQuota(trx, projectId);
  const limits = await projectQuotas(trx, config, projectId);
  const used = await quotaUsage(trx, projectId);
  if (exceeds(limits.volumes, used.volumes, 1)) {
    throw overLimit(`Maximum number of volumes allowed (${limits.volumes}) exceeded for quota 'volumes'.`);
  }
  if (exceeds(limits.gigabytes, used.gigabytes, sizeGb)) {
    throw overLimit(
      `Requested volume or snapshot exceeds allowed gigabytes quota. Requested ${sizeGb}G, quota is ${limits.gigabytes}G and ${used.gigabytes}G has been consumed.`,
    );
  }
}
