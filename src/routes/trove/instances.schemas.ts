import { z } from 'zod';

/** Bodies and queries of /instances as Trove's apischema.instance (section 2.1); extra keys are allowed, as there. */

export const nonEmptyString = z
  .string()
  .min(1)
  .max(255)
  .regex(/^.*[0-9a-zA-Z]+.*$/);
export const uuidString = z
  .string()
  .min(1)
  .max(64)
  .regex(/^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$/);
const identifier = z.string().min(1).max(63);

export const CreateInstanceBody = z.object({
  instance: z.object({
    name: nonEmptyString,
    flavorRef: z.union([z.string().min(1), z.number().int()]).optional(),
    volume: z
      .object({
        size: z.union([z.number().int().min(1), z.string().regex(/^[0-9]+$/)]),
        type: z.string().nullish(),
      })
      .optional(),
    datastore: z
      .object({ type: z.string().min(1).optional(), version: z.string().min(1).optional(), version_number: z.string().nullish() })
      .optional(),
    databases: z.array(z.object({ name: identifier, character_set: z.string().optional(), collate: z.string().optional() })).optional(),
    users: z
      .array(
        z.object({
          name: identifier,
          password: z.string().min(1).max(255),
          host: z.string().optional(),
          databases: z.array(z.object({ name: identifier })).optional(),
        }),
      )
      .optional(),
    restorePoint: z.object({ backupRef: uuidString }).optional(),
    replica_of: z.string().min(1).optional(),
    replica_count: z.number().int().min(1).max(3).optional(),
    availability_zone: z.string().nullish(),
    nics: z.array(z.record(z.string(), z.unknown())).max(1).optional(),
    access: z.object({ is_public: z.boolean().optional(), allowed_cidrs: z.array(z.string()).optional() }).optional(),
  }),
});

export type CreateInstanceBodyType = z.output<typeof CreateInstanceBody>;

export const InstanceParams = z.object({ project_id: z.string(), id: z.string() });

export const ListInstancesQuery = z.object({
  include_clustered: z.string().optional(),
  limit: z
    .string()
    .regex(/^[0-9]+$/)
    .optional(),
  marker: z.string().optional(),
});
