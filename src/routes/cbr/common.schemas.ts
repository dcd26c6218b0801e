import { z } from 'zod';

/**
 * Pieces shared by the CBR route schemas. Bodies use z.object (unknown keys are accepted and
 * ignored: the SDKs and Terraform send keys a volumes-only service does not need); query
 * strings are parsed explicitly.
 */

export const ProjectParams = z.object({ project_id: z.string() });

/** A query-string integer in [min, max]. */
export const queryInt = (min: number, max: number) =>
  z.string().regex(/^\d+$/, 'must be an integer').transform(Number).pipe(z.number().int().min(min).max(max));

/** A query-string boolean as the SDKs send it ("true"/"false"). */
export const queryBool = z.enum(['true', 'false']).transform((v) => v === 'true');

/** offset/limit paging (limit 1-1000, default 1000). */
export const PagingQuery = z.object({ limit: queryInt(1, 1000).optional(), offset: queryInt(0, 2 ** 31 - 1).optional() });

/** A time filter, `YYYY-MM-DDTHH:MM:SSZ` (UTC; a zone-less value is taken as UTC too). */
export const queryTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?$/, 'must be YYYY-MM-DDTHH:MM:SSZ')
  .transform((v) => new Date(v.endsWith('Z') ? v : `${v}Z`));

/** A query key that may be repeated (`id=a&id=b`): always an array after parsing. */
export const repeatable = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

/** CBR timestamps: UTC, microseconds, no zone ("2020-02-05T10:38:34.209782"). */
export const CbrTimestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);

/** Names of vaults, checkpoints and policies: 1-64 CJK letters, letters, digits, "_" or "-". */
export const CbrName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\u4E00-\u9FA5\uf900-\ufa2da-zA-Z0-9_-]*$/, 'must be letters, digits, "_" or "-"');

/** Descriptions: no "<" or ">". */
export const CbrDescription = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^<>]*$/, 'must not contain < or >');

/** The error body, for the OpenAPI document. */
export const CbrErrorBody = z.object({ error_code: z.string(), error_msg: z.string(), request_id: z.string().optional() });

/** The error answers every CBR route documents. */
export const errorResponses = { 400: CbrErrorBody, 401: CbrErrorBody, 403: CbrErrorBody, 404: CbrErrorBody };
