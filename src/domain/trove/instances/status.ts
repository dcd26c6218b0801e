/**
 * Instance statuses (section 2.2) and the transitions this service makes, one row each.
 * BACKUP is set and cleared by database backups (src/domain/trove/backups/).
 */
export const InstanceStatus = {
  BUILD: 'BUILD',
  ACTIVE: 'ACTIVE',
  BACKUP: 'BACKUP',
  ERROR: 'ERROR',
  SHUTDOWN: 'SHUTDOWN',
} as const;
export type InstanceStatusName = (typeof InstanceStatus)[keyof typeof InstanceStatus];

/** operating_status: the database service's state ('' while building or deleting). */
export const OperatingStatus = { NONE: '', HEALTHY: 'HEALTHY', SHUTDOWN: 'SHUTDOWN', ERROR: 'ERROR' } as const;

/** action -> [statuses it may start from, status it leads to]. */
export const TRANSITIONS = {
  built: [['BUILD'], 'ACTIVE'],
  build_failed: [['BUILD'], 'ERROR'],
  delete: [['ACTIVE', 'ERROR'], 'SHUTDOWN'],
  backup_start: [['ACTIVE'], 'BACKUP'],
  backup_end: [['BACKUP'], 'ACTIVE'],
} as const satisfies Record<string, readonly [readonly InstanceStatusName[], InstanceStatusName]>;

/** Statuses whose cluster should run (the supervisor keeps them up). */
export const RUNNING_STATUSES: readonly InstanceStatusName[] = ['ACTIVE', 'BACKUP'];
