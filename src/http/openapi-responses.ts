import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';

/**
 * Documented responses (status codes and bodies) of the Cinder and Trove operations, merged into
 * each route's schema by the OpenAPI transform only.
 *
 * NOTE: documentation only, on purpose: a response schema on the route itself would make
 * fastify-type-provider-zod serialize every reply through it (validate, drop or reorder keys,
 * 500 on a mismatch), and these bodies vary by microversion. So the wire stays as the handlers
 * and the fault renderer write it, and the schemas say which fields are always there (loose
 * objects: more by microversion). test/integration/openapi-responses.test.ts checks that every
 * operation is covered and that real replies match what is documented.
 */

type Responses = Record<number, z.ZodType | { description: string; content: Record<string, { schema: z.ZodType }> }>;

const FaultInner = z.object({ code: z.number().int(), message: z.string(), retryAfter: z.string().optional() });

/** Cinder's fault names (src/http/faults.ts) and Trove's (src/http/trove/faults.ts) per status. */
const CINDER_FAULTS: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  408: 'computeFault',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  416: 'computeFault',
  429: 'overLimit',
  500: 'computeFault',
  503: 'serviceUnavailable',
};
const TROVE_FAULTS: Record<number, string> = {
  ...CINDER_FAULTS,
  409: 'conflict',
  422: 'unprocessableEntity',
  500: 'instanceFault',
};

const WHY: Record<number, string> = {
  400: 'invalid input or a rule of the resource refused it',
  401: 'no valid token',
  403: 'the policy refuses the caller',
  404: 'no such resource (or not the caller’s project)',
  405: 'not supported by this service',
  408: 'the upload stalled or took too long',
  409: 'the resource is busy',
  413: 'over a quota, a size or a rate limit',
  415: 'wrong Content-Type',
  416: 'the range does not fit the volume',
  429: 'too many requests',
  500: 'unexpected error (message masked, logged with the request id)',
  503: 'the database cannot be reached',
};

function faults(names: Record<number, string>, statuses: number[]): Responses {
  const out: Responses = {};
  for (const s of statuses) {
    out[s] = z.object({ [names[s]!]: FaultInner }).describe(`${s} ${names[s]}: ${WHY[s]}`);
  }
  return out;
}

/** Every /v3/{project_id} route may answer these (auth, project check, rate limit, database down, masked 500). */
const V3_COMMON = [400, 401, 403, 429, 500, 503];
const cinder = (...statuses: number[]) => faults(CINDER_FAULTS, [...new Set([...V3_COMMON, ...statuses])].sort());
const trove = (...statuses: number[]) => faults(TROVE_FAULTS, [...new Set([400, 401, 403, 500, 503, ...statuses])].sort());

const Link = z.object({ href: z.string(), rel: z.string() }).loose();
const Metadata = z.record(z.string(), z.string());
const NoBody = (why: string) => z.null().describe(why);

const Volume = z
  .object({ id: z.string(), status: z.string(), size: z.number().int(), name: z.string().nullable(), links: z.array(Link) })
  .loose()
  .describe('A volume (fields by microversion)');
const VolumeSummary = z.object({ id: z.string(), name: z.string().nullable(), links: z.array(Link) }).loose();
const Snapshot = z
  .object({ id: z.string(), status: z.string(), size: z.number().int(), volume_id: z.string(), name: z.string().nullable() })
  .loose()
  .describe('A snapshot (fields by microversion)');
const BackupSummary = z.object({ id: z.string(), name: z.string().nullable(), links: z.array(Link) }).loose();
const Backup = z
  .object({ id: z.string(), status: z.string(), size: z.number().int(), volume_id: z.string(), name: z.string().nullable() })
  .loose()
  .describe('A backup (fields by microversion)');
const list = <K extends string>(key: K, item: z.ZodType, what: string) =>
  z.object({ [key]: z.array(item), [`${key}_links`]: z.array(Link).optional() } as Record<string, z.ZodType>).describe(what);
const one = (key: string, item: z.ZodType, what: string) => z.object({ [key]: item }).describe(what);
const QuotaSet = z.object({ quota_set: z.object({ id: z.string() }).catchall(z.unknown()) }).describe('Quotas by resource');
const QuotaClassSet = z.object({ quota_class_set: z.object({ id: z.string() }).catchall(z.unknown()) }).describe('Quotas of a class');
const Version = z.object({ id: z.string(), status: z.string(), links: z.array(Link) }).loose();
const Text = (what: string) => ({ description: what, content: { 'text/plain': { schema: z.string() } } });
const Octets = (what: string) => ({ description: what, content: { 'application/octet-stream': { schema: z.string() } } });

/** Cinder listener: key = METHOD and the path after /v3/:project_id (or the whole path for the others). */
export const CINDER_RESPONSES: Record<string, Responses> = {
  'GET /': { 300: z.object({ versions: z.array(Version) }).describe('The API versions (Multiple Choices)') },
  'GET /healthz': {
    200: z.object({ status: z.literal('ok'), database: z.literal('ok') }).describe('Healthy'),
    503: z.object({ status: z.literal('degraded'), database: z.literal('unreachable') }).describe('The database cannot be reached'),
  },
  'GET /metrics': { 200: Text('Prometheus text exposition') },
  'GET /v3/': { 200: z.object({ versions: z.array(Version) }).describe('The v3 version document'), ...faults(CINDER_FAULTS, [500]) },

  'GET /volumes': { 200: list('volumes', VolumeSummary, 'Volumes: id, name, links'), ...cinder() },
  'GET /volumes/detail': { 200: list('volumes', Volume, 'Volumes with details'), ...cinder() },
  'GET /volumes/:id': { 200: one('volume', Volume, 'The volume'), ...cinder(404) },
  'POST /volumes': { 202: one('volume', Volume, 'Accepted: the volume, creating'), ...cinder(404, 413, 415) },
  'PUT /volumes/:id': { 200: one('volume', Volume, 'The updated volume'), ...cinder(404, 413, 415) },
  'DELETE /volumes/:id': { 202: NoBody('Accepted: deleting'), ...cinder(404, 409) },
  'POST /volumes/:id/action': {
    202: NoBody('Accepted (most actions)'),
    200: z.object({}).loose().describe('An action that answers with a body'),
    ...cinder(404, 409, 413, 415),
  },
  'GET /volumes/:id/data': {
    200: Octets('The volume’s bytes (extension)'),
    206: Octets('The requested range (Range: bytes=...)'),
    ...cinder(404, 409, 416),
  },
  'PUT /volumes/:id/data': { 204: NoBody('Written (extension)'), ...cinder(404, 408, 409, 413, 415, 416) },

  'GET /snapshots': { 200: list('snapshots', Snapshot, 'Snapshots'), ...cinder() },
  'GET /snapshots/detail': { 200: list('snapshots', Snapshot, 'Snapshots with details'), ...cinder() },
  'GET /snapshots/:id': { 200: one('snapshot', Snapshot, 'The snapshot'), ...cinder(404) },
  'POST /snapshots': { 202: one('snapshot', Snapshot, 'Accepted: the snapshot, creating'), ...cinder(404, 413, 415) },
  'PUT /snapshots/:id': { 200: one('snapshot', Snapshot, 'The updated snapshot'), ...cinder(404, 415) },
  'DELETE /snapshots/:id': { 202: NoBody('Accepted: deleting'), ...cinder(404, 409) },
  'POST /snapshots/:id/action': { 202: NoBody('Accepted'), ...cinder(404, 409, 415) },

  'GET /backups': { 200: list('backups', BackupSummary, 'Backups: id, name, links'), ...cinder() },
  'GET /backups/detail': { 200: list('backups', Backup, 'Backups with details'), ...cinder() },
  'GET /backups/:id': { 200: one('backup', Backup, 'The backup'), ...cinder(404) },
  'POST /backups': { 202: one('backup', BackupSummary, 'Accepted: id, name, links; the backup is creating'), ...cinder(404, 413, 415) },
  'PUT /backups/:id': { 200: one('backup', BackupSummary, 'The updated backup: id, name, links'), ...cinder(404, 415) },
  'DELETE /backups/:id': { 202: NoBody('Accepted: deleting'), ...cinder(404) },
  'POST /backups/:id/action': { 202: NoBody('Accepted (os-reset_status, os-force_delete, os-verify)'), ...cinder(404, 413, 415) },
  'POST /backups/:id/restore': {
    202: one('restore', z.object({ backup_id: z.string(), volume_id: z.string(), volume_name: z.string() }), 'Accepted: restoring'),
    ...cinder(404, 413, 415),
  },
  'GET /backups/:id/export_record': {
    200: one('backup-record', z.object({ backup_service: z.string(), backup_url: z.string() }), 'The record to import elsewhere'),
    ...cinder(404),
  },
  'POST /backups/import_record': { 201: one('backup', BackupSummary, 'Created: importing'), ...cinder(404, 413, 415) },
  'GET /backups/:id/progress': cinder(404),
  'GET /backups/:id/chain': cinder(404),

  'GET /limits': {
    200: z
      .object({ limits: z.object({ rate: z.array(z.unknown()), absolute: z.record(z.string(), z.number()) }) })
      .describe('Limits and usage'),
    ...cinder(),
  },
  'GET /os-quota-sets/:target': { 200: QuotaSet, ...cinder(404) },
  'GET /os-quota-sets/:target/defaults': { 200: QuotaSet, ...cinder(404) },
  'PUT /os-quota-sets/:target': { 200: QuotaSet, ...cinder(404, 415) },
  'DELETE /os-quota-sets/:target': { 200: NoBody('Reset to the defaults'), ...cinder(404) },
  'GET /os-quota-class-sets/:class_name': { 200: QuotaClassSet, ...cinder(404) },
  'PUT /os-quota-class-sets/:class_name': { 200: QuotaClassSet, ...cinder(415) },
};

for (const owner of ['volumes', 'snapshots']) {
  const base = `/${owner}/:id/metadata`;
  Object.assign(CINDER_RESPONSES, {
    [`GET ${base}`]: { 200: one('metadata', Metadata, 'All items'), ...cinder(404) },
    [`POST ${base}`]: { 200: one('metadata', Metadata, 'All items after the merge'), ...cinder(404, 409, 413, 415) },
    [`PUT ${base}`]: { 200: one('metadata', Metadata, 'All items after the replace'), ...cinder(404, 409, 413, 415) },
    [`GET ${base}/:key`]: { 200: one('meta', Metadata, 'The item'), ...cinder(404) },
    [`PUT ${base}/:key`]: { 200: one('meta', Metadata, 'The item'), ...cinder(404, 409, 413, 415) },
    [`DELETE ${base}/:key`]: { 200: NoBody('Deleted'), ...cinder(404, 409) },
  });
}

const Instance = z.object({ id: z.string(), name: z.string(), status: z.string(), links: z.array(Link) }).loose();
const TroveBackup = z.object({ id: z.string(), name: z.string(), status: z.string(), instance_id: z.string().nullable() }).loose();
const Flavor = z.object({ id: z.union([z.string(), z.number()]), name: z.string(), ram: z.number() }).loose();
const Datastore = z.object({ id: z.string(), name: z.string() }).loose();
const DatastoreVersion = z.object({ id: z.string(), name: z.string() }).loose();

/** Trove (/v1.0): key = METHOD and the path after /v1.0/:project_id (or the whole path). */
export const TROVE_RESPONSES: Record<string, Responses> = {
  'GET /v1.0/': { 200: z.object({ version: Version }).describe('The v1.0 version document'), ...trove() },
  'GET /instances': { 200: one('instances', z.array(Instance), 'Instances'), ...trove() },
  'GET /instances/:id': { 200: one('instance', Instance, 'The instance'), ...trove(404) },
  'POST /instances': { 200: one('instance', Instance, 'The instance, BUILD'), ...trove(404, 413, 415, 422) },
  'DELETE /instances/:id': { 202: NoBody('Accepted: deleting'), ...trove(404, 409) },
  'GET /instances/:id/backups': { 200: one('backups', z.array(TroveBackup), "The instance's backups"), ...trove(404) },
  'GET /backups': { 200: one('backups', z.array(TroveBackup), 'Backups'), ...trove() },
  'GET /backups/:id': { 200: one('backup', TroveBackup, 'The backup'), ...trove(404) },
  'POST /backups': { 202: one('backup', TroveBackup, 'Accepted: NEW'), ...trove(404, 409, 413, 415, 422) },
  'DELETE /backups/:id': { 202: NoBody('Accepted: deleting'), ...trove(404, 409) },
  'GET /flavors': { 200: one('flavors', z.array(Flavor), 'Flavors'), ...trove() },
  'GET /flavors/:id': { 200: one('flavor', Flavor, 'The flavor'), ...trove(404) },
  'GET /datastores': { 200: one('datastores', z.array(Datastore), 'Datastores'), ...trove() },
  'GET /datastores/:ds': { 200: one('datastore', Datastore, 'The datastore'), ...trove(404) },
  'GET /datastores/:ds/versions': { 200: one('versions', z.array(DatastoreVersion), 'Its versions'), ...trove(404) },
  'GET /datastores/:ds/versions/:v': { 200: one('version', DatastoreVersion, 'The version'), ...trove(404) },
  'GET /datastores/versions/:v': { 200: one('version', DatastoreVersion, 'The version (by id)'), ...trove(404) },
};

/** The table key of a route: its method and its path without the /v3/:project_id or /v1.0/:project_id prefix. */
export function responsesKey(method: string, url: string): string {
  return `${method} ${url.replace(/^\/(v3|v1\.0)\/:project_id(?=\/)/, '')}`;
}

type TransformArg = Parameters<typeof jsonSchemaTransform>[0];

/**
 * The OpenAPI transform: jsonSchemaTransform over the route's schema with the documented
 * responses of `table` merged in (a response the route declares itself wins).
 */
export function documentedResponsesTransform(table: Record<string, Responses>): typeof jsonSchemaTransform {
  return (arg: TransformArg) => {
    const method = Array.isArray(arg.route.method) ? String(arg.route.method[0]) : String(arg.route.method);
    const documented = table[responsesKey(method, arg.url)];
    if (!documented || (arg.schema as { hide?: boolean } | undefined)?.hide) return jsonSchemaTransform(arg);
    const own = (arg.schema as { response?: Record<string, unknown> } | undefined)?.response ?? {};
    return jsonSchemaTransform({ ...arg, schema: { ...arg.schema, response: { ...documented, ...own } } } as TransformArg);
  };
}
