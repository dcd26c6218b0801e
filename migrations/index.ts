import type { Migration } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_cbr.js';
import * as m20261205_1515 from './20261205_1515_trove_instances.js';
import * as m20261205_1525 from './20261205_1525_trove_backups.js';
import * as m20261205_1530 from './20261205_1530_cbr_schedule.js';
import * as m20261206_0000 from './20261206_0000_cbr_backup_hold.js';
import * as m20261206_0010 from './20261206_0010_job_hosts.js';
import * as m20261206_0020 from './20261206_0020_quota_classes.js';
import * as m20261206_0030 from './20261206_0030_job_fairness.js';
import * as m20261206_0040 from './20261206_0040_backup_prefixes.js';
import * as m20261206_0300 from './20261206_0300_backup_progress_detail.js';
import * as m20261206_0620 from './20261206_0620_worker_heartbeats.js';
import * as m20261206_0700 from './20261206_0700_backup_stored_objects.js';
import * as m20261206_0750 from './20261206_0750_image_metadata.js';
import * as m20261206_2100 from './20261206_2100_list_versions.js';
import * as m20261206_2200 from './20261206_2200_list_versions_volumes.js';
import * as m20261207_0100 from './20261207_0100_list_versions_trove.js';

/**
 * Every migration, by sortable name. A static list (not a folder scan) so the same
 * code runs from TypeScript sources in tests and from compiled JavaScript in dist/.
 */
export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_cbr': m0002,
  '20261205_1515_trove_instances': m20261205_1515,
  '20261205_1525_trove_backups': m20261205_1525,
  '20261205_1530_cbr_schedule': m20261205_1530,
  '20261206_0000_cbr_backup_hold': m20261206_0000,
  '20261206_0010_job_hosts': m20261206_0010,
  '20261206_0020_quota_classes': m20261206_0020,
  '20261206_0030_job_fairness': m20261206_0030,
  '20261206_0040_backup_prefixes': m20261206_0040,
  '20261206_0300_backup_progress_detail': m20261206_0300,
  '20261206_0620_worker_heartbeats': m20261206_0620,
  '20261206_0700_backup_stored_objects': m20261206_0700,
  '20261206_0750_image_metadata': m20261206_0750,
  '20261206_2100_list_versions': m20261206_2100,
  '20261206_2200_list_versions_volumes': m20261206_2200,
  '20261207_0100_list_versions_trove': m20261207_0100,
};
