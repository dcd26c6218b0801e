import { z } from 'zod';
import { cinderBool } from '../../domain/common/cinder-bool.js';
import { metadataField, nameField, uuidLike } from './volumes.schemas.js';

/** Snapshot bodies as cinder/api/schemas/snapshots.py. */

export const CreateSnapshotBody = z.strictObject({
  snapshot: z.strictObject({
    volume_id: uuidLike,
    name: nameField.optional(),
    display_name: nameField.optional(),
    description: nameField.optional(),
    force: cinderBool.optional(),
    metadata: metadataField.nullish(),
  }),
});

export const UpdateSnapshotBody = z.strictObject({
  snapshot: z
    .strictObject({
      name: nameField.optional(),
      display_name: nameField.optional(),
      description: nameField.optional(),
      display_description: nameField.optional(),
    })
    .refine((s) => Object.keys(s).length > 0, {
      message: 'at least one of name, description, display_name, display_description is required',
    }),
});

export const ResetSnapshotStatusAction = z.strictObject({ status: z.string().min(1).max(255) });
export const UpdateSnapshotStatusAction = z.strictObject({
  status: z.string().min(1).max(255),
  progress: z
    .string()
    .regex(/^(100|[1-9]?\d)%$/, 'must be a percentage "N%" with 0 <= N <= 100')
    .optional(),
});
