import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction, Updateable } from 'kysely';

/**
 * Every table's row type, in one place: row types are converted to domain types by named functions.
 * int8 columns come back as JS numbers (see connection.ts: values stay below 2^53).
 * timestamptz columns come back as Date.
 */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface VolumesTable {
  id: string;
  project_id: string;
  user_id: string;
  display_name: string | null;
  display_description: string | null;
  size: number; // GiB
  status: string;
  previous_status: string | null;
  attach_status: string; // detached | attached
  migration_status: string | null;
  availability_zone: string;
  host: string | null;
  snapshot_id: string | null;
  source_volid: string | null;
  backup_id: string | null;
  bootable: Generated<boolean>;
  readonly: Generated<boolean>;
  created_at: Timestamp; // optional on insert (Timestamp allows undefined); Generated<Timestamp> selected as a ColumnType, not a Date
  updated_at: NullableTimestamp;
  launched_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
  deleted: Generated<boolean>;
}

export interface VolumeMetadataTable {
  volume_id: string;
  key: string;
  value: string;
}

export interface VolumeAttachmentsTable {
  id: string;
  volume_id: string;
  instance_uuid: string | null;
  attached_host: string | null;
  mountpoint: string | null;
  attach_mode: string;
  attached_at: NullableTimestamp;
  detached_at: NullableTimestamp;
  deleted: Generated<boolean>;
}

export interface SnapshotsTable {
  id: string;
  project_id: string;
  user_id: string;
  volume_id: string;
  display_name: string | null;
  display_description: string | null;
  status: string;
  progress: string; // "0%" .. "100%"
  volume_size: number; // GiB
  created_at: Timestamp; // optional on insert (Timestamp allows undefined); Generated<Timestamp> selected as a ColumnType, not a Date
  updated_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
  deleted: Generated<boolean>;
}

export interface SnapshotMetadataTable {
  snapshot_id: string;
  key: string;
  value: string;
}

/** Mirrors cinder/db/models.py:Backup, plus our progress and verify columns. */
export interface BackupsTable {
  id: string;
  project_id: string;
  user_id: string;
  volume_id: string;
  host: string | null;
  availability_zone: string | null;
  display_name: string | null;
  display_description: string | null;
  container: string | null;
  parent_id: string | null;
  status: string;
  fail_reason: string | null;
  service_metadata: string | null; // object-name prefix
  service: string | null; // driver class path, exported as backup_service
  size: number; // GiB
  object_count: Generated<number>;
  num_dependent_backups: Generated<number>;
  temp_volume_id: string | null;
  temp_snapshot_id: string | null;
  snapshot_id: string | null;
  data_timestamp: Timestamp;
  restore_volume_id: string | null;
  encryption_key_id: string | null;
  // Progress extension: bytes of the running operation (backup, restore or verify).
  progress_operation: string | null;
  progress_bytes_done: Generated<number>;
  progress_bytes_total: Generated<number>;
  progress_started_at: NullableTimestamp;
  progress_updated_at: NullableTimestamp;
  // Migration 20261206_0300: what the operation is doing (reading, uploading, restoring, verifying,
  // finishing), bytes read from its source and stored at its destination, the current rate, and
  // the job (id, attempt) whose run wrote the record.
  progress_phase: ColumnType<string | null, string | null | undefined, string | null>;
  progress_bytes_read: Generated<number>;
  progress_bytes_stored: Generated<number>;
  progress_rate_bytes_per_sec: Generated<number>;
  progress_job_id: ColumnType<number | null, number | null | undefined, number | null>;
  progress_attempt: ColumnType<number | null, number | null | undefined, number | null>;
  stored_bytes: Generated<number>;
  verified_at: NullableTimestamp;
  verify_result: string | null;
  created_at: Timestamp; // optional on insert (Timestamp allows undefined); Generated<Timestamp> selected as a ColumnType, not a Date
  updated_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
  deleted: Generated<boolean>;
  // CBR (migration 0002): the vault and checkpoint that made this backup, null for Cinder-made ones.
  vault_id: ColumnType<string | null, string | null | undefined, string | null>;
  checkpoint_id: ColumnType<string | null, string | null | undefined, string | null>;
  cbr_policy_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** True only for backups made by the CBR scheduler (subject to the policy's retention). */
  cbr_auto_trigger: Generated<boolean>;
  /** Deleted through CBR while later incrementals still need its data (gone from the CBR views). */
  cbr_deleted: Generated<boolean>;
}

export interface BackupMetadataTable {
  backup_id: string;
  key: string;
  value: string;
}

/**
 * Long-running work. A worker claims a queued (or lease-expired running) row with
 * FOR UPDATE SKIP LOCKED, holds it by renewing lease_expires_at, and ends it with
 * a compare-and-set on status.
 */
export interface JobsTable {
  id: Generated<number>;
  kind: string; // a JobKind (src/jobs/kinds.ts)
  resource_id: string;
  /** The project the job works for; null for work of no project. Claims are fair across projects. */
  project_id: ColumnType<string | null, string | null | undefined, string | null>;
  payload: ColumnType<Record<string, unknown>, Record<string, unknown> | string | undefined, Record<string, unknown> | string>;
  status: Generated<string>; // queued | running | done | failed
  attempts: Generated<number>;
  lease_owner: string | null;
  lease_expires_at: NullableTimestamp;
  run_after: Timestamp;
  last_error: string | null;
  created_at: Timestamp; // optional on insert (Timestamp allows undefined); Generated<Timestamp> selected as a ColumnType, not a Date
  updated_at: NullableTimestamp;
  /** The host whose worker must run it (its files are there), or null: any worker. */
  host_id: string | null;
}

/** An object prefix the service wrote a backup under (kept after the backup is deleted; GC deletes only under these). */
export interface BackupPrefixesTable {
  container: string;
  prefix: string;
  backup_id: string;
  created_at: Timestamp;
}

/** A data object a running backup stored (its PUT completed): what an interrupted backup resumes from. */
export interface BackupStoredObjectsTable {
  backup_id: string;
  name: string;
  /** Hex md5 of the uncompressed bytes (as in _metadata). */
  md5: string;
  compression: string;
  length: number;
  stored_size: number;
  created_at: Timestamp;
}

/** When each project last had a job claimed (fair claiming: the longest-waiting project goes first). */
export interface JobProjectTurnsTable {
  project_id: string;
  last_claimed_at: ColumnType<Date, Date | string, Date | string>;
}

/**
 * Per project, the last transaction that changed what its backup lists show (written by
 * triggers, migrations/20261206_2100_list_versions.ts); the list page cache's validator.
 */
export interface ListVersionsTable {
  project_id: string;
  /** xid8, read as its decimal text. */
  version: string;
}

/** One row per running job worker process, renewed on a timer: a host is live while one of its rows has not expired. */
export interface WorkerHeartbeatsTable {
  /** The worker's lease owner (host:pid:random). */
  owner: string;
  host_id: string;
  started_at: Timestamp;
  seen_at: Timestamp;
  expires_at: ColumnType<Date, Date | string, Date | string>;
}

/** Per-project overrides of the configured default quotas (-1 = unlimited). */
export interface QuotasTable {
  project_id: string;
  resource: string;
  hard_limit: number;
}

/** Quota classes: per-class overrides of the configured defaults; `default` applies to every project. */
export interface QuotaClassesTable {
  class_name: string;
  resource: string;
  hard_limit: number;
}

type Json<T> = ColumnType<T, T | string | undefined, T | string>;

/** CBR vault. Sizes in GB; status available | deleting. */
export interface CbrVaultsTable {
  id: string;
  project_id: string;
  user_id: string;
  name: string;
  description: string | null;
  status: Generated<string>;
  size_gb: number;
  consistent_level: Generated<string>;
  charging_mode: Generated<string>;
  cloud_type: Generated<string>;
  threshold: Generated<number>;
  auto_bind: Generated<boolean>;
  auto_expand: Generated<boolean>;
  smn_notify: Generated<boolean>;
  locked: Generated<boolean>;
  enterprise_project_id: Generated<string>;
  backup_name_prefix: string | null;
  extra: Json<Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
  deleted: Generated<boolean>;
}

/** A volume bound to a vault (a volume is in at most one vault). */
export interface CbrVaultResourcesTable {
  seq: Generated<number>;
  vault_id: string;
  volume_id: string;
  name: string | null;
  created_at: Timestamp;
}

/** CBR policy: patterns and operation_definition stored verbatim. */
export interface CbrPoliciesTable {
  id: string;
  project_id: string;
  name: string;
  operation_type: Generated<string>;
  enabled: Generated<boolean>;
  trigger_id: string;
  patterns: Json<string[]>;
  operation_definition: Json<Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
}

/** The (one) backup policy bound to a vault. */
export interface CbrPolicyVaultsTable {
  vault_id: string;
  policy_id: string;
  created_at: Timestamp;
}

export interface CbrCheckpointsTable {
  id: string;
  project_id: string;
  vault_id: string;
  name: string;
  description: string | null;
  auto_trigger: Generated<boolean>;
  scheduled: Generated<boolean>;
  policy_id: string | null;
  incremental: Generated<boolean>;
  skipped: Json<Array<Record<string, string>>>;
  created_at: Timestamp;
}

export interface CbrOperationLogsTable {
  id: string;
  project_id: string;
  operation_type: string; // backup | restore | delete | vault_delete | remove_resource
  status: Generated<string>; // waiting | running | success | failed | skipped
  checkpoint_id: string | null;
  policy_id: string | null;
  vault_id: string | null;
  vault_name: string | null;
  resource_id: string | null;
  resource_name: string | null;
  backup_id: string | null;
  backup_name: string | null;
  target_resource_id: string | null;
  job_id: number | null;
  incremental: boolean | null;
  error_code: Generated<string>;
  error_message: Generated<string>;
  extra: Json<Record<string, unknown>>;
  created_at: Timestamp;
  started_at: NullableTimestamp;
  updated_at: NullableTimestamp;
  ended_at: NullableTimestamp;
}

export type CbrVaultRow = Selectable<CbrVaultsTable>;
export type CbrPolicyRow = Selectable<CbrPoliciesTable>;
export type CbrCheckpointRow = Selectable<CbrCheckpointsTable>;
export type CbrOperationLogRow = Selectable<CbrOperationLogsTable>;

/** A Trove instance: a PostgreSQL cluster run by the service on host `host_id`, port `port`. */
export interface TroveInstancesTable {
  id: string;
  project_id: string;
  user_id: string;
  name: string;
  status: string; // BUILD | ACTIVE | BACKUP | ERROR | SHUTDOWN
  operating_status: Generated<string>; // '' | HEALTHY | SHUTDOWN | ERROR
  flavor_id: string;
  volume_size: number; // GB
  datastore_version_id: string;
  host_id: string;
  port: number;
  fault_message: string | null;
  fault_at: NullableTimestamp;
  restore_backup_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: NullableTimestamp;
  deleted: Generated<boolean>;
}

/** A Trove database backup (physical backup of an instance's cluster). */
export interface TroveBackupsTable {
  id: string;
  project_id: string;
  user_id: string;
  instance_id: string;
  name: string;
  description: string | null;
  status: string; // NEW | BUILDING | COMPLETED | FAILED | DELETE_FAILED
  fail_reason: string | null;
  parent_id: string | null;
  datastore_type: string;
  datastore_version: string;
  datastore_version_id: string;
  size_bytes: number | null;
  stored_bytes: number | null;
  container: string;
  prefix: string;
  host: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted: Generated<boolean>;
  deleted_at: NullableTimestamp;
}

export interface Database {
  volumes: VolumesTable;
  volume_metadata: VolumeMetadataTable;
  volume_attachments: VolumeAttachmentsTable;
  snapshots: SnapshotsTable;
  snapshot_metadata: SnapshotMetadataTable;
  volume_image_metadata: VolumeMetadataTable;
  snapshot_image_metadata: SnapshotMetadataTable;
  backups: BackupsTable;
  backup_metadata: BackupMetadataTable;
  jobs: JobsTable;
  job_project_turns: JobProjectTurnsTable;
  worker_heartbeats: WorkerHeartbeatsTable;
  list_versions: ListVersionsTable;
  backup_prefixes: BackupPrefixesTable;
  backup_stored_objects: BackupStoredObjectsTable;
  quotas: QuotasTable;
  quota_classes: QuotaClassesTable;
  cbr_vaults: CbrVaultsTable;
  cbr_vault_resources: CbrVaultResourcesTable;
  cbr_policies: CbrPoliciesTable;
  cbr_policy_vaults: CbrPolicyVaultsTable;
  cbr_checkpoints: CbrCheckpointsTable;
  cbr_operation_logs: CbrOperationLogsTable;
  trove_instances: TroveInstancesTable;
  trove_backups: TroveBackupsTable;
  cbr_schedule_triggers: CbrScheduleTriggersTable;
}

export type VolumeRow = Selectable<VolumesTable>;
export type NewVolumeRow = Insertable<VolumesTable>;
export type VolumeUpdate = Updateable<VolumesTable>;
export type SnapshotRow = Selectable<SnapshotsTable>;
export type NewSnapshotRow = Insertable<SnapshotsTable>;
export type SnapshotUpdate = Updateable<SnapshotsTable>;
export type BackupRow = Selectable<BackupsTable>;
export type NewBackupRow = Insertable<BackupsTable>;
export type BackupUpdate = Updateable<BackupsTable>;
export type JobRow = Selectable<JobsTable>;
export type TroveInstanceRow = Selectable<TroveInstancesTable>;
export type NewTroveInstanceRow = Insertable<TroveInstancesTable>;
export type NewJobRow = Insertable<JobsTable>;

/**
 * A backup as the API's show and list views read it (db/backup-views-repository.ts): only
 * the columns they print, timestamps as Postgres' UTC text ("2026-11-22 10:15:03.123456",
 * no Date parsing), and the metadata map when it was asked for.
 */
export interface BackupViewRow
  extends Pick<
    BackupRow,
    | 'id'
    | 'project_id'
    | 'user_id'
    | 'volume_id'
    | 'availability_zone'
    | 'display_name'
    | 'display_description'
    | 'container'
    | 'parent_id'
    | 'status'
    | 'fail_reason'
    | 'size'
    | 'object_count'
    | 'num_dependent_backups'
    | 'snapshot_id'
    | 'encryption_key_id'
  > {
  created_at_utc: string;
  updated_at_utc: string | null;
  data_timestamp_utc: string;
  metadata?: Record<string, string>;
}

/** A database handle or an open transaction: what every repository function takes first. */
export type Db = Kysely<Database> | Transaction<Database>;
export type TroveBackupRow = Selectable<TroveBackupsTable>;
export type NewTroveBackupRow = Insertable<TroveBackupsTable>;

/** CBR scheduler (migration 20261205_1530_cbr_schedule): one row per policy x vault x trigger instant. */
export interface CbrScheduleTriggersTable {
  policy_id: string;
  vault_id: string;
  trigger_at: Date;
  status: string; // firing | fired | done | failed | missed
  owner: string;
  checkpoint_id: ColumnType<string | null, string | null | undefined, string | null>;
  error: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
}

export type CbrScheduleTriggerRow = Selectable<CbrScheduleTriggersTable>;
