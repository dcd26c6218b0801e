import { availableParallelism, hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * The service's configuration, read once from the environment.
 * Names and defaults are a contract: operators and scripts rely on them. `.env.example` documents every variable.
 */

// Environment strings parsed explicitly: "1"/"true"/"yes"/"on" and their opposites.
const envBool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(v), {
    message: 'must be a boolean (true/false, 1/0, yes/no, on/off)',
  })
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const envInt = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** One SDK-HMAC-SHA256 credential of the CBR listener (CBR_ACCESS_KEYS entry AK:SK:PROJECT_ID[:USER_ID]). */
export interface CbrAccessKey {
  accessKey: string;
  secretKey: string;
  projectId: string;
  userId?: string;
}

// NOTE: issues name the entry by position, never by value: an entry holds a secret key.
const cbrAccessKeys = optionalString.transform((v, ctx): readonly CbrAccessKey[] => {
  if (v === undefined) return [];
  const keys: CbrAccessKey[] = [];
  for (const [i, entry] of v.split(',').entries()) {
    const parts = entry.trim().split(':');
    if (parts.length < 3 || parts.length > 4 || parts.some((p) => p === '' || /\s/.test(p))) {
      ctx.addIssue({ code: 'custom', message: `entry ${i + 1} must be AK:SK:PROJECT_ID[:USER_ID]` });
      continue;
    }
    const [accessKey, secretKey, projectId, userId] = parts as [string, string, string, string | undefined];
    if (keys.some((k) => k.accessKey === accessKey)) {
      ctx.addIssue({ code: 'custom', message: `entry ${i + 1} repeats an access key` });
      continue;
    }
    keys.push(userId === undefined ? { accessKey, secretKey, projectId } : { accessKey, secretKey, projectId, userId });
  }
  return keys;
});

const ConfigSchema = z
  .object({
    HOST: z.string().default('0.0.0.0'),
    PORT: envInt(0, 65535).default(8776),
    DATA_DIR: z.string().default('./data'),
    DATABASE_URL: optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
        .optional(),
    ),
    DATABASE_POOL_SIZE: envInt(1, 1000).default(10),
    ROLE: z.enum(['api', 'worker', 'all']).default('all'),
    // This process's host: volumes and instances live in its DATA_DIR, and their jobs run only here.
    HOST_ID: optionalString
      .transform((v) => v?.trim() ?? (hostname() || 'localhost'))
      .pipe(z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be 1-200 letters, digits, ".", "_" or "-"')),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    AUTH_STRATEGY: z.enum(['noauth', 'keystone']).default('noauth'),
    NOAUTH_ADMIN_PROJECTS: z.string().default('*'),
    NOAUTH_ADMIN_TOKEN: optionalString,
    NOAUTH_ROLES: z.string().default('member,reader'),
    KEYSTONE_URL: optionalString,
    KEYSTONE_USERNAME: optionalString,
    KEYSTONE_PASSWORD: optionalString,
    KEYSTONE_PROJECT: optionalString,
    KEYSTONE_USER_DOMAIN: z.string().default('Default'),
    KEYSTONE_PROJECT_DOMAIN: z.string().default('Default'),
    KEYSTONE_CACHE_SECONDS: envInt(0, 86400).default(300),

    PUBLIC_ENDPOINT: optionalString,
    AVAILABILITY_ZONE: z.string().min(1).max(255).default('nova'),
    MAX_REQUEST_BODY_BYTES: envInt(1024).default(114688),
    OSAPI_MAX_LIMIT: envInt(1).default(1000),
    LIST_RENDERING: z.enum(['js', 'postgres']).default('js'),
    // Bytes of rendered backup list pages kept per API process (validated by Postgres per request); 0: off.
    LIST_CACHE_BYTES: envInt(0).default(32 * 1024 * 1024),
    RATE_LIMIT_PER_MINUTE: envInt(0).default(0),
    DATA_UPLOADS_PER_PROJECT: envInt(1, 1000).default(2),
    DATA_UPLOADS_PER_PROCESS: envInt(1, 1000).default(8),
    DATA_UPLOAD_IDLE_TIMEOUT_SECONDS: envInt(1, 86400).default(30),
    DATA_UPLOAD_TIMEOUT_SECONDS: envInt(1, 604800).default(3600),
    STRICT_BACKUP_NAMES: envBool.default(false),

    QUOTA_VOLUMES: envInt(-1).default(10),
    QUOTA_SNAPSHOTS: envInt(-1).default(10),
    QUOTA_GIGABYTES: envInt(-1).default(1000),
    QUOTA_BACKUPS: envInt(-1).default(10),
    QUOTA_BACKUP_GIGABYTES: envInt(-1).default(1000),

    BACKUP_STORE: z.enum(['posix', 's3']).default('posix'),
    S3_ENDPOINT: optionalString,
    S3_REGION: z.string().default('us-east-1'),
    S3_ACCESS_KEY_ID: optionalString,
    S3_SECRET_ACCESS_KEY: optionalString,
    S3_BUCKET: z.string().min(3).max(63).default('volumebackups'),
    S3_FORCE_PATH_STYLE: envBool.default(true),
    S3_CHECKSUM_MODE: z.enum(['WHEN_REQUIRED', 'WHEN_SUPPORTED']).default('WHEN_REQUIRED'),
    S3_MAX_ATTEMPTS: envInt(1, 20).default(5),
    S3_TIMEOUT_MS: envInt(100).default(60000),
    S3_MAX_SOCKETS: envInt(1, 1024).default(16),
    S3_MULTIPART_THRESHOLD: envInt(5 * 1024 * 1024).default(64 * 1024 * 1024),
    // SSE-C needs a 256-bit key; a wrong one would otherwise fail only at the first object request.
    S3_SSE_CUSTOMER_KEY: optionalString.refine(
      (v) => v === undefined || (/^[A-Za-z0-9+/]+={0,2}$/.test(v.trim()) && Buffer.from(v.trim(), 'base64').length === 32),
      'must be a base64 256-bit key (32 bytes)',
    ),

    BACKUP_COMPRESSION: z.enum(['zstd', 'zlib', 'none']).default('zstd'),
    // zstd's levels 1..19 (the format reads back at any level; 20-22 need --ultra windows, and negative levels trade too much size).
    BACKUP_ZSTD_LEVEL: envInt(1, 19).default(3),
    BACKUP_OBJECT_SIZE: envInt(4096).default(33554432),
    BACKUP_BLOCK_SIZE: envInt(512).default(32768),
    BACKUP_MAX_OPERATIONS: envInt(1, 1024).default(4),
    BACKUP_WORKER_THREADS: envInt(1, 256).default(availableParallelism()),
    BACKUP_CHUNKS_IN_FLIGHT: envInt(1, 64).default(4),
    BACKUP_UPLOAD_CONCURRENCY: envInt(1, 64).default(4),

    JOB_LEASE_SECONDS: envInt(5, 3600).default(60),
    // How long a stop lets running jobs finish before it releases them (they resume elsewhere or at restart).
    SHUTDOWN_GRACE_SECONDS: envInt(0, 86400).default(30),
    JOB_POLL_MS: envInt(10, 60000).default(500),
    JOBS_QUEUED_PER_PROJECT: envInt(1, 100000).default(20),
    // Finished (done/failed) job rows are deleted this long after they ended; 0 keeps them for ever.
    JOB_RETENTION_HOURS: envInt(0, 87600).default(168),
    // A listener with only /healthz and /metrics (on HOST): how ROLE=worker processes are scraped.
    METRICS_PORT: optionalString.pipe(
      z.string().trim().regex(/^\d+$/, 'must be an integer').transform(Number).pipe(z.number().int().min(1).max(65535)).optional(),
    ),

    TROVE_INSTANCE_PORTS: z
      .string()
      .trim()
      .regex(/^\d+-\d+$/, 'must be a port range FIRST-LAST')
      .refine((v) => {
        const [a, b] = v.split('-').map(Number) as [number, number];
        return a >= 1 && b <= 65535 && a <= b;
      }, 'must be FIRST-LAST with 1 <= FIRST <= LAST <= 65535')
      .default('15500-15599'),
    TROVE_INSTANCE_HOST: z.string().trim().min(1).default('127.0.0.1'),
    TROVE_FLAVORS: z
      .string()
      .trim()
      .regex(/^\d+:[^:,]+:\d+:\d+(,\d+:[^:,]+:\d+:\d+)*$/, 'must be ID:NAME:RAM_MB:VCPUS[,...]')
      .default('1:m1.tiny:512:1,2:m1.small:1024:1,3:m1.medium:2048:2'),
    TROVE_MAX_VOLUME_SIZE: envInt(1, 100000).default(10),
    TROVE_QUOTA_INSTANCES: envInt(-1).default(10),
    TROVE_LEAVE_INSTANCES_RUNNING: envBool.default(false),
    TROVE_SUPERVISE_INTERVAL_MS: envInt(100, 600000).default(2000),
    CBR_PORT: envInt(0, 65535).default(8790),
    // Unset: the same address as HOST.
    CBR_HOST: optionalString,
    CBR_ACCESS_KEYS: cbrAccessKeys,
    CBR_SCHEDULER_TICK_SECONDS: envInt(1, 30).default(15),
    CBR_SCHEDULER_WINDOW_SECONDS: envInt(60, 3600).default(120),
  })
  .superRefine((c, ctx) => {
    if (c.BACKUP_OBJECT_SIZE % c.BACKUP_BLOCK_SIZE !== 0) {
      ctx.addIssue({ code: 'custom', path: ['BACKUP_OBJECT_SIZE'], message: 'must be a multiple of BACKUP_BLOCK_SIZE' });
    }
    if (c.BACKUP_STORE === 's3' && !c.S3_ENDPOINT) {
      ctx.addIssue({ code: 'custom', path: ['S3_ENDPOINT'], message: 'is required when BACKUP_STORE=s3' });
    }
    if (c.CBR_PORT !== 0 && c.CBR_PORT === c.PORT && (c.CBR_HOST ?? c.HOST) === c.HOST) {
      ctx.addIssue({ code: 'custom', path: ['CBR_PORT'], message: 'must differ from PORT (0 turns the CBR listener off)' });
    }
    if (c.METRICS_PORT !== undefined && c.ROLE !== 'worker' && (c.METRICS_PORT === c.PORT || c.METRICS_PORT === c.CBR_PORT)) {
      ctx.addIssue({ code: 'custom', path: ['METRICS_PORT'], message: 'must differ from PORT and CBR_PORT' });
    }
    if (c.AUTH_STRATEGY === 'keystone' && !c.KEYSTONE_URL) {
      ctx.addIssue({ code: 'custom', path: ['KEYSTONE_URL'], message: 'is required when AUTH_STRATEGY=keystone' });
    }
  });

export type Config = Readonly<z.output<typeof ConfigSchema>>;

/** Every environment variable the service reads (tests check `.env.example` against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(ConfigSchema.shape));

/** Raised when the environment holds a bad value; the message names every bad variable. */
export class ConfigError extends Error {}

/**
 * Parses the environment into a frozen Config.
 * Throws ConfigError naming each invalid variable; the process should exit on it.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, as in a shell `FOO= cmd`.
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return Object.freeze({ ...parsed.data, DATA_DIR: resolve(parsed.data.DATA_DIR) });
}

/** Secrets that must never reach logs, error bodies or documents. */
export function secretValues(config: Config): string[] {
  return [config.S3_SECRET_ACCESS_KEY, config.KEYSTONE_PASSWORD, config.NOAUTH_ADMIN_TOKEN, config.S3_SSE_CUSTOMER_KEY]
    .concat(config.CBR_ACCESS_KEYS.map((k) => k.secretKey))
    .concat(config.DATABASE_URL ? [new URL(config.DATABASE_URL).password] : [])
    .filter((v): v is string => typeof v === 'string' && v.length > 0);
}
