import { z } from 'zod';
import { cinderBool } from '../../domain/common/cinder-bool.js';

/**
 * Volume request bodies as cinder/api/schemas/volumes.py.
 * Below 3.53 unknown create keys are ignored (z.object strips); from 3.53 they are a 400.
 */

/** Cinder's UUID check: hyphens optional, any case; normalised to the canonical form. */
export const uuidLike = z
  .string()
  .regex(/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i, 'is not a valid UUID')
  .transform((s) => {
    const h = s.replace(/-/g, '').toLowerCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  });

/** name / description: string or null, at most 255 characters after trimming. */
export const nameField = z.string().trim().max(255).nullable();

/** Metadata on create/update: keys ^[a-zA-Z0-9-_:. /]{1,255}$, string values <= 255. */
export const metadataField = z.record(z.string().regex(/^[a-zA-Z0-9-_:. /]{1,255}$/, 'is not a valid metadata key'), z.string().max(255));

/** A positive size in GiB: an integer or a digit string, 1..2147483647. */
export const sizeField = z
  .union([
    z.number().int(),
    z
      .string()
      .regex(/^\s*\d+\s*$/, 'must be an integer')
      .transform(Number),
  ])
  .pipe(z.number().int().min(1).max(2147483647));

const createFieldsV30 = {
  size: sizeField.nullish(),
  name: nameField.optional(),
  display_name: nameField.optional(),
  description: nameField.optional(),
  display_description: nameField.optional(),
  metadata: metadataField.nullish(),
  availability_zone: z.string().min(1).max(255).nullish(),
  snapshot_id: uuidLike.nullish(),
  source_volid: uuidLike.nullish(),
  consistencygroup_id: uuidLike.nullish(),
  volume_type: z.string().max(255).nullish(),
  imageRef: z.string().max(255).nullish(),
  image_id: z.string().max(255).nullish(),
  multiattach: cinderBool.nullish(),
  source_replica: z.unknown().optional(),
};

export const CreateVolumeV30 = z.object(createFieldsV30);
export const CreateVolumeV313 = z.object({ ...createFieldsV30, group_id: z.string().max(255).nullish() });
export const CreateVolumeV347 = z.object({ ...CreateVolumeV313.shape, backup_id: uuidLike.nullish() });
export const CreateVolumeV353 = z.strictObject(CreateVolumeV347.shape);

/** The route's body schema (for the docs); handlers re-parse per microversion. */
export const CreateVolumeBody = z.object({
  volume: CreateVolumeV353,
  'OS-SCH-HNT:scheduler_hints': z.record(z.string(), z.unknown()).nullish(),
});

const updateFields = {
  name: nameField.optional(),
  display_name: nameField.optional(),
  description: nameField.optional(),
  display_description: nameField.optional(),
  metadata: metadataField.nullish(),
};
export const UpdateVolumeV30 = z.strictObject(updateFields);
export const UpdateVolumeV353 = UpdateVolumeV30.refine((v) => Object.keys(v).length > 0, {
  message: 'at least one of name, description, metadata is required',
});
export const UpdateVolumeBody = z.strictObject({ volume: UpdateVolumeV30 });

export const IdParams = z.object({ id: z.string(), project_id: z.string().optional() });
export const KeyParams = z.object({ id: z.string(), key: z.string(), project_id: z.string().optional() });

export const DeleteVolumeQuery = z.object({ cascade: z.string().optional(), force: z.string().optional() }).passthrough();

/** POST /volumes/{id}/action: one key, the action name. */
export const ActionBody = z.record(z.string(), z.unknown());

export const ExtendAction = z.strictObject({ new_size: sizeField });
export const ResetVolumeStatusAction = z.strictObject({
  status: z.string().min(1).max(255).optional(),
  attach_status: z.enum(['attached', 'detached']).optional(),
  migration_status: z.string().max(255).nullable().optional(),
});
export const AttachAction = z.strictObject({
  instance_uuid: uuidLike.nullish(),
  host_name: z.string().max(255).nullish(),
  mountpoint: z.string().min(1).max(255),
  mode: z.enum(['rw', 'ro']).optional(),
});
export const DetachAction = z.strictObject({ attachment_id: uuidLike.nullish() }).nullish();
export const ReadonlyAction = z.strictObject({ readonly: cinderBool });
export const BootableAction = z.strictObject({ bootable: cinderBool });

export const MetadataBody = z.strictObject({ metadata: z.record(z.string(), z.string()) });
export const MetaBody = z.strictObject({ meta: z.record(z.string(), z.string()) });

/**
 * os-set_image_metadata / os-unset_image_metadata (cinder/api/schemas/volume_image_metadata.py):
 * keys ^[a-zA-Z0-9-_:. /]{1,255}$ (any other key is an additional property), string values of
 * at most 65,535 UTF-8 bytes (the 'mysql_text' format).
 */
const IMAGE_META_KEY = /^[a-zA-Z0-9-_:. /]{1,255}$/;
const mysqlText = z.string().refine((v) => Buffer.byteLength(v, 'utf8') <= 65535, {
  error: (iss) => `'${String(iss.input).slice(0, 100)}...' is not a 'mysql_text'`,
});
export const imageMetadataField = z.record(z.string(), mysqlText).superRefine((meta, ctx) => {
  const bad = Object.keys(meta).filter((k) => !IMAGE_META_KEY.test(k));
  if (bad.length) ctx.addIssue({ code: 'unrecognized_keys', keys: bad, input: meta });
});
export const SetImageMetadataAction = z.strictObject({ metadata: imageMetadataField });
export const UnsetImageMetadataAction = z.strictObject({
  key: z
    .string()
    .min(1, { error: (iss) => `'${String(iss.input)}' is too short` })
    .max(255, { error: (iss) => `'${String(iss.input)}' is too long` }),
});
