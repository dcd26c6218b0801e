import { z } from 'zod';
import { cinderBool } from '../../domain/common/cinder-bool.js';

/**
 * Request bodies of the backup API, per microversion (cinder/api/schemas/backups.py),
 * with Cinder's rules: strict objects, nulls accepted for optional fields, UUIDs with
 * optional hyphens (canonicalised), 255-character strings, printable descriptions.
 */

const UUID_RE = /^(urn:uuid:)?\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i;

/** Cinder's uuid format, normalised to 8-4-4-4-12 lower case. */
export const cinderUuid = z
  .string()
  .refine((v) => UUID_RE.test(v), { error: (iss) => `'${String(iss.input)}' is not a 'uuid'` })
  .transform((v) => {
    const hex = v
      .toLowerCase()
      .replace(/^urn:uuid:/, '')
      .replace(/[{}-]/g, '');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  });

const tooLong = (max: number) => ({
  error: (iss: { input?: unknown }) => `'${String(iss.input)}' is too long (maximum ${max} characters)`,
});

/** string 0-255 or null, trimmed after validation (Cinder strips names and descriptions). */
export const name255 = z
  .string()
  .max(255, tooLong(255))
  .transform((v) => v.trim())
  .nullable()
  .optional();

// Printable: no control/format/separator characters except the plain space, nothing above U+FFFF.
const PRINTABLE = /^(?:[^\p{C}\p{Z}]| )*$/u;
export const description255 = z
  .string()
  .max(255, tooLong(255))
  .refine((v) => PRINTABLE.test(v) && !/[\u{10000}-\u{10FFFF}]/u.test(v), { error: (iss) => `'${String(iss.input)}' is not printable` })
  .transform((v) => v.trim())
  .nullable()
  .optional();

const METADATA_KEY = /^[a-zA-Z0-9-_:. /]{1,255}$/;
/** Cinder's metadata object: keys ^[a-zA-Z0-9-_:. /]{1,255}$, string values <= 255. */
export const metadataMap = z.record(
  z.string().regex(METADATA_KEY, { error: (iss) => `'${String(iss.input)}' does not match '${METADATA_KEY.source}'` }),
  z.string().max(255, tooLong(255)),
);

export const CreateBackupV30 = z.strictObject({
  backup: z.strictObject({
    volume_id: cinderUuid,
    name: name255,
    description: description255,
    container: z.string().max(255, tooLong(255)).nullable().optional(),
    incremental: cinderBool.nullable().optional(),
    force: cinderBool.nullable().optional(),
    snapshot_id: cinderUuid.nullable().optional(),
  }),
});
export const CreateBackupV343 = z.strictObject({
  backup: CreateBackupV30.shape.backup.extend({ metadata: metadataMap.nullable().optional() }),
});
export const CreateBackupV351 = z.strictObject({
  backup: CreateBackupV343.shape.backup.extend({ availability_zone: z.string().max(255, tooLong(255)).nullable().optional() }),
});

export const UpdateBackupV39 = z.strictObject({
  backup: z.strictObject({ name: name255, description: description255 }),
});
export const UpdateBackupV343 = z.strictObject({
  backup: UpdateBackupV39.shape.backup.extend({ metadata: metadataMap.optional() }),
});

/** `{"restore": null}` is treated as `{}` (Cinder crashes on it: quirk 4). */
export const RestoreBackupV30 = z.strictObject({
  restore: z.strictObject({ volume_id: cinderUuid.nullable().optional(), name: name255 }).nullable(),
});

export const ImportRecordV30 = z.strictObject({
  'backup-record': z.strictObject({
    backup_service: z.string().max(255, tooLong(255)),
    backup_url: z.string().min(1),
  }),
});

export const ResetStatusBody = z.strictObject({ status: z.string().max(255, tooLong(255)) });

/** POST /backups/{id}/action: exactly one action key; the value is checked per action. */
export const BackupActionBody = z.union([
  z.strictObject({ 'os-reset_status': ResetStatusBody }),
  z.strictObject({ 'os-force_delete': z.unknown() }),
  z.strictObject({ 'os-verify': z.record(z.string(), z.unknown()).nullable() }),
]);

export const BackupIdParams = z.object({ id: z.string(), project_id: z.string().optional() });
