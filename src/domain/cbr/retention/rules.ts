import { DomainError } from '../../common/errors.js';

/**
 * A policy's retention (`operation_definition` of a backup policy) in the form the selection needs.
 * -1 means "no limit" for maxBackups and retentionDurationDays; 0 turns a GFS rule off.
 */
export interface RetentionRule {
  readonly maxBackups: number;
  readonly retentionDurationDays: number;
  readonly dayBackups: number;
  readonly weekBackups: number;
  readonly monthBackups: number;
  readonly yearBackups: number;
  /** Minutes east of UTC, from `timezone` ("UTC+08:00"); 0 when absent. */
  readonly utcOffsetMinutes: number;
  /** Force a full backup every N incrementals; -1 never. */
  readonly fullBackupInterval: number;
}

export interface OperationDefinition {
  max_backups?: number | undefined;
  retention_duration_days?: number | undefined;
  day_backups?: number | undefined;
  week_backups?: number | undefined;
  month_backups?: number | undefined;
  year_backups?: number | undefined;
  timezone?: string | undefined;
  full_backup_interval?: number | undefined;
}

/** "UTC+08:00" / "UTC-05:30" -> minutes east of UTC. */
export function parseUtcOffset(timezone: string): number {
  const m = /^UTC([+-])(\d{2}):(\d{2})$/.exec(timezone);
  if (!m || Number(m[2]) > 14 || Number(m[3]) > 59) {
    throw new DomainError('invalid', `Invalid timezone "${timezone}": expected UTC+HH:MM or UTC-HH:MM`);
  }
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

export function retentionRule(def: OperationDefinition): RetentionRule {
  return {
    maxBackups: def.max_backups ?? -1,
    retentionDurationDays: def.retention_duration_days ?? -1,
    dayBackups: def.day_backups ?? 0,
    weekBackups: def.week_backups ?? 0,
    monthBackups: def.month_backups ?? 0,
    yearBackups: def.year_backups ?? 0,
    utcOffsetMinutes: def.timezone ? parseUtcOffset(def.timezone) : 0,
    fullBackupInterval: def.full_backup_interval ?? -1,
  };
}
