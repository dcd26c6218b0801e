/**
 * The `import_record` job (backup-import).
 */
import { countChildren } from '../../../db/backup-prefixes-repository.js';
import { adjustDependents, findBackupAnyState, replaceBackupMetadata, transitionBackup } from '../../../db/backups-repository.js';
import { checkImportTargets } from '../records.js';
import type { JobRow } from '../../../db/schema.js';
import { BACKUP_TRANSITIONS } from '../status.js';
import { BACKUP_HOST, type BackupManagerDeps } from './deps.js';
import { BackupJobFailure, reasonOf } from './failure.js';

const REQUIRED_IMPORT_KEYS = ['display_name', 'display_description', 'container', 'size', 'service_metadata', 'object_count', 'id'];

/** Checks that the record's objects are in the store: `_metadata` readable, every listed object present. */
async function checkStoredBackup(deps: BackupManagerDeps, container: string, prefix: string): Promise<number> {
  const raw = await deps.store.get(container, `${prefix}_metadata`).catch((err) => {
    throw new BackupJobFailure(`Import record failed: cannot read ${prefix}_metadata: ${reasonOf(err)}`);
  });
  let meta: { version?: unknown; objects?: unknown };
  try {
    meta = JSON.parse(raw.toString('utf8')) as typeof meta;
  } catch {
    throw new BackupJobFailure('Import record failed: the stored _metadata is not JSON.');
  }
  if (meta.version !== '1.0.0') throw new BackupJobFailure(`No support to restore backup version ${String(meta.version)}`);
  const listed = new Set(await deps.store.list(container, prefix));
  const names = Array.isArray(meta.objects) ? meta.objects.flatMap((o) => Object.keys(o as object)) : [];
  const missing = names.filter((n) => !listed.has(n));
  if (missing.length) throw new BackupJobFailure(`Import record failed: ${missing.length} object(s) missing, e.g. ${missing[0]}`);
  let bytes = 0;
  for (const key of listed) bytes += (await deps.store.head(container, key))?.size ?? 0;
  return bytes;
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);
const date = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v) : null);
const int = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);

/**
 * Whether a record exported by `backupService` is ours: the driver's full name, or its module
 * (the name older Cinder releases recorded). Never a mere prefix such as "" or "cinder".
 */
function servesRecordsOf(serviceName: string, backupService: string): boolean {
  return backupService === serviceName || backupService === serviceName.slice(0, serviceName.lastIndexOf('.'));
}

/**
 * The `import_record` job: the service must match, the record must carry Cinder's required
 * keys, and the stored `_metadata` must be readable with every object present; then the row
 * takes the record's values and becomes available. Otherwise error with a fail_reason.
 */
export async function runImportJob(deps: BackupManagerDeps, job: JobRow): Promise<void> {
  const row = await findBackupAnyState(deps.db, job.resource_id);
  if (!row || row.deleted || row.status !== 'creating') return;
  const { backupService, record } = job.payload as { backupService: string; record: Record<string, unknown> };
  try {
    if (!servesRecordsOf(deps.store.serviceName, backupService)) {
      throw new BackupJobFailure(
        `Import record failed, cannot find backup service to perform the import. Request service ${backupService}.`,
      );
    }
    if (REQUIRED_IMPORT_KEYS.some((k) => !(k in record))) {
      throw new BackupJobFailure('Driver successfully decoded imported backup data, but there are missing fields.');
    }
    const container = str(record.container);
    const prefix = str(record.service_metadata);
    if (!container || !prefix) throw new BackupJobFailure('Import record failed: the record has no container or service_metadata.');
    const storedBytes = await checkStoredBackup(deps, container, prefix);
    await deps.db.transaction().execute(async (trx) => {
      // Again here: the parent may have gone since the request.
      await checkImportTargets(trx, deps.config, row.project_id, record).catch((err: unknown) => {
        throw new BackupJobFailure(err instanceof Error ? err.message : String(err));
      });
      const done = await transitionBackup(trx, row.id, BACKUP_TRANSITIONS.finishBackup.from, {
        status: 'available',
        volume_id: str(record.volume_id) ?? row.volume_id,
        display_name: str(record.display_name),
        display_description: str(record.display_description),
        container,
        service_metadata: prefix,
        service: deps.store.serviceName,
        host: BACKUP_HOST,
        availability_zone: deps.config.AVAILABILITY_ZONE,
        object_count: int(record.object_count),
        // Counted here, never taken from the record.
        num_dependent_backups: await countChildren(trx, row.id),
        parent_id: str(record.parent_id)?.toLowerCase() ?? null,
        snapshot_id: str(record.snapshot_id),
        encryption_key_id: str(record.encryption_key_id),
        data_timestamp: date(record.data_timestamp) ?? row.data_timestamp,
        created_at: date(record.created_at) ?? row.created_at,
        stored_bytes: Math.max(1, storedBytes),
      });
      const parentId = str(record.parent_id);
      if (done && parentId) await adjustDependents(trx, parentId.toLowerCase(), 1);
      const meta = record.metadata;
      if (done && meta && typeof meta === 'object' && !Array.isArray(meta)) {
        await replaceBackupMetadata(trx, row.id, Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, String(v)])));
      }
    });
  } catch (err) {
    await transitionBackup(deps.db, row.id, BACKUP_TRANSITIONS.finishBackup.from, { status: 'error', fail_reason: reasonOf(err) });
  }
}
