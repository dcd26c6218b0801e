import { dbNow } from '../../db/sql-values.js';
import { findInputProblem, inputProblemMessage } from '../common/input-shape.js';
import { liveOwnersOfPrefix } from '../../db/backup-prefixes-repository.js';
import { backupMetadata, findBackup, findBackupAnyState, insertBackup, replaceBackupMetadata } from '../../db/backups-repository.js';
import { enqueueJob } from '../../jobs/kinds.js';
import type { BackupRow, Db, NewBackupRow } from '../../db/schema.js';
import { containerNameProblem } from '../../storage/container-names.js';
import type { BackupApiDeps, BackupView } from './deps.js';
import { readScope } from '../common/scope.js';
import type { RequestContext } from '../common/context.js';
import { invalid, notFound } from '../common/errors.js';
import { authorize } from '../common/policy.js';
import { checkBackupQuota } from '../common/quotas.js';

/**
 * Export / import of backup records (cinder/backup/api.py export_record/import_record): base64 of the JSON of every
 * Backup field, compatible with Cinder's, so backups move between Cinder and this service.
 */

/** The versioned-object time format: 2026-11-22T10:15:03Z. */
function isoTime(d: Date | null): string | null {
  return d ? `${d.toISOString().slice(0, 19)}Z` : null;
}

/** The decoded record of a backup (what backup_url carries). */
export function encodeRecordJson(row: BackupRow, metadata: Record<string, string>, serviceName: string): Record<string, unknown> {
  return {
    driver_info: {},
    id: row.id,
    user_id: row.user_id,
    project_id: row.project_id,
    volume_id: row.volume_id,
    host: row.host,
    availability_zone: row.availability_zone,
    container: row.container,
    parent_id: row.parent_id,
    status: row.status,
    fail_reason: row.fail_reason,
    size: row.size,
    display_name: row.display_name,
    display_description: row.display_description,
    service_metadata: row.service_metadata,
    service: row.service ?? serviceName,
    object_count: row.object_count,
    temp_volume_id: row.temp_volume_id,
    temp_snapshot_id: row.temp_snapshot_id,
    num_dependent_backups: row.num_dependent_backups,
    snapshot_id: row.snapshot_id,
    data_timestamp: isoTime(row.data_timestamp),
    restore_volume_id: row.restore_volume_id,
    encryption_key_id: row.encryption_key_id,
    metadata,
    created_at: isoTime(row.created_at),
    updated_at: isoTime(row.updated_at),
    deleted_at: isoTime(row.deleted_at),
    deleted: row.deleted,
  };
}

/** GET /backups/{id}/export_record (admin). */
export async function exportRecord(
  deps: BackupApiDeps,
  ctx: RequestContext,
  id: string,
): Promise<{ backupService: string; backupUrl: string }> {
  authorize(ctx, 'backup:export-import');
  const row = await findBackup(deps.db, id, readScope(ctx));
  if (!row) throw notFound('Backup', id);
  if (row.status !== 'available') throw invalid('backup', `Backup status must be available and not ${row.status}.`);
  const meta = (await backupMetadata(deps.db, [row.id])).get(row.id) ?? {};
  const service = row.service ?? deps.store.serviceName;
  const json = JSON.stringify(encodeRecordJson(row, meta, service));
  return { backupService: service, backupUrl: Buffer.from(json, 'utf8').toString('base64') };
}

/** Decodes backup_url; throws Cinder's 400s. */
export function decodeRecord(backupUrl: string): Record<string, unknown> & { id: string; size: number } {
  const compact = backupUrl.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) throw invalid('input received', "Can't decode backup record.");
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(compact, 'base64').toString('utf8'));
  } catch {
    throw invalid('input received', "Can't parse backup record.");
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('input received', "Can't parse backup record.");
  // The record goes into a jsonb job payload and text columns: neither holds a NUL.
  const problem = findInputProblem(parsed, 'backup_url');
  if (problem) throw invalid(null, inputProblemMessage(problem));
  const rec = parsed as Record<string, unknown>;
  if (typeof rec.id !== 'string' || !/^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$/.test(rec.id)) {
    throw invalid('input received', 'Provided backup record is missing an id');
  }
  if (typeof rec.size !== 'number' || !Number.isInteger(rec.size) || rec.size < 0 || rec.size > 2147483647) {
    throw invalid('input received', 'Provided backup record is missing size attribute');
  }
  return rec as Record<string, unknown> & { id: string; size: number };
}

/** Statuses in which a backup's objects are complete and left alone, so an imported twin may share them. */
const SHAREABLE_OWNER_STATUSES: readonly string[] = ['available', 'restoring'];

/**
 * Refuses a record whose objects another live backup owns, unless it is a twin: the very same
 * (container, prefix) as owners that are all complete and at rest (available or restoring).
 * NOTE: twins stay allowed because Cinder allows them (cinder/backup/api.py
 * _get_import_backup refuses only a live row with the record's id) and tempest's
 * test_volume_backup_export_import imports a member's available backup under a new id as
 * admin, restores the original and deletes both. Deleting a twin keeps the objects while
 * another live backup owns them (worker/settle.ts completeDelete), so it never destroys the
 * original. Refused: a prefix overlapping another backup's without being the same (deleting
 * either would take objects of the other), and objects whose owner is still being written,
 * is being deleted, or failed (the twin would point at objects that are incomplete or going).
 */
async function checkObjectOwners(db: Db, id: string, container: string, prefix: string): Promise<void> {
  for (const owner of await liveOwnersOfPrefix(db, container, prefix, id)) {
    if (owner.service_metadata !== prefix) throw invalid('backup', `The record's objects overlap those of backup ${owner.id}.`);
    if (!SHAREABLE_OWNER_STATUSES.includes(owner.status))
      throw invalid('backup', `The record's objects belong to backup ${owner.id}, which is ${owner.status}.`);
  }
}

/**
 * What an import may point at (400 otherwise, before any row changes): a container the store
 * can take, objects no other live backup owns unless the import is a twin (checkObjectOwners),
 * and a parent that is a live backup of the importing project and of the record's volume.
 * Checked again by the import job when it makes the row available.
 */
export async function checkImportTargets(
  db: Db,
  config: Pick<BackupApiDeps['config'], 'BACKUP_STORE'>,
  projectId: string,
  record: Record<string, unknown>,
): Promise<void> {
  const { container, service_metadata: prefix, parent_id: parentId, volume_id: volumeId } = record;
  if (typeof container === 'string') {
    const problem = containerNameProblem(config.BACKUP_STORE, container);
    if (problem)
      throw invalid('input received', `The record's container ${JSON.stringify(container.slice(0, 100))} is not valid: ${problem}.`);
    if (typeof prefix === 'string' && prefix && typeof record.id === 'string')
      await checkObjectOwners(db, record.id.toLowerCase(), container, prefix);
  }
  if (parentId !== undefined && parentId !== null) {
    const parent =
      typeof parentId === 'string' && /^[0-9a-f-]{36}$/i.test(parentId) ? await findBackupAnyState(db, parentId.toLowerCase()) : undefined;
    if (!parent || parent.deleted || parent.project_id !== projectId)
      throw invalid(
        'input received',
        `The record's parent_id ${JSON.stringify(String(parentId).slice(0, 64))} is not a backup of project ${projectId}.`,
      );
    if (typeof volumeId === 'string' && parent.volume_id !== volumeId.toLowerCase())
      throw invalid('input received', `The record's parent_id ${parent.id} is a backup of another volume.`);
  }
}

/**
 * POST /backups/import_record (admin): a `creating` row with the record's id (a soft-deleted
 * row with that id is revived), quota counted, and an import job that reads the stored
 * `_metadata` before the backup becomes available. Returns the new row (201).
 */
export async function importRecord(
  deps: BackupApiDeps,
  ctx: RequestContext,
  input: { backupService: string; backupUrl: string },
): Promise<BackupView> {
  authorize(ctx, 'backup:backup-import');
  const record = decodeRecord(input.backupUrl);
  const id = record.id.toLowerCase();
  const row = await deps.db.transaction().execute(async (trx) => {
    await checkBackupQuota(trx, deps.config, ctx.projectId, record.size);
    const existing = await findBackupAnyState(trx, id);
    if (existing && !existing.deleted) throw invalid('backup', 'Backup already exists in database.');
    await checkImportTargets(trx, deps.config, ctx.projectId, record);
    const fresh: NewBackupRow = {
      id,
      project_id: ctx.projectId,
      user_id: ctx.userId,
      volume_id: '00000000-0000-0000-0000-000000000000',
      host: null,
      availability_zone: null,
      display_name: null,
      display_description: null,
      container: null,
      parent_id: null,
      status: 'creating',
      fail_reason: null,
      service_metadata: null,
      service: null,
      size: record.size,
      snapshot_id: null,
      data_timestamp: new Date(),
      restore_volume_id: null,
      temp_volume_id: null,
      temp_snapshot_id: null,
      encryption_key_id: null,
    };
    let created: BackupRow;
    if (existing) {
      created = await trx
        .updateTable('backups')
        .set({
          ...fresh,
          deleted: false,
          deleted_at: null,
          object_count: 0,
          num_dependent_backups: 0,
          stored_bytes: 0,
          created_at: dbNow(),
          updated_at: null,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await replaceBackupMetadata(trx, id, {});
    } else {
      created = await insertBackup(trx, fresh, {});
    }
    await enqueueJob(trx, {
      kind: 'import_record',
      resourceId: id,
      projectId: ctx.projectId,
      payload: { backupService: input.backupService, record },
    });
    return created;
  });
  return { row, metadata: {} };
}
