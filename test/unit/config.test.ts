import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig, secretValues } from '../../src/config.js';

const badValue = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`loadConfig(${JSON.stringify(env)}) accepted a bad value`);
};

describe('config defaults', () => {
  it("equal DESIGN.md's configuration contract", () => {
    const c = loadConfig({});
    // The contract table of ../shared/DESIGN.md, row by row.
    expect({ HOST: c.HOST, PORT: c.PORT }).toEqual({ HOST: '0.0.0.0', PORT: 8776 });
    expect(c.DATA_DIR).toBe(resolve('./data'));
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.ROLE).toBe('all');
    expect(c.AUTH_STRATEGY).toBe('noauth');
    expect(c.NOAUTH_ADMIN_PROJECTS).toBe('*');
    expect(c.BACKUP_STORE).toBe('posix');
    expect([c.S3_ENDPOINT, c.S3_REGION, c.S3_ACCESS_KEY_ID, c.S3_SECRET_ACCESS_KEY, c.S3_BUCKET]).toEqual([
      undefined,
      'us-east-1',
      undefined,
      undefined,
      'volumebackups',
    ]);
    expect(c.BACKUP_COMPRESSION).toBe('zstd');
    expect([c.BACKUP_OBJECT_SIZE, c.BACKUP_BLOCK_SIZE]).toEqual([33554432, 32768]);
    expect(c.BACKUP_MAX_OPERATIONS).toBe(4);
    expect(c.BACKUP_WORKER_THREADS).toBe(availableParallelism());
    expect(c.LOG_LEVEL).toBe('info');
    expect(c.SHUTDOWN_GRACE_SECONDS).toBe(30);
  });

  it('keeps the Cinder-derived defaults beyond the table', () => {
    const c = loadConfig({});
    expect(c.MAX_REQUEST_BODY_BYTES).toBe(114688);
    expect(c.OSAPI_MAX_LIMIT).toBe(1000);
    expect(c.RATE_LIMIT_PER_MINUTE).toBe(0);
    expect(c.KEYSTONE_URL).toBeUndefined();
  });

  it('is frozen', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });

  it('treats empty strings as unset', () => {
    const c = loadConfig({ PORT: '', DATABASE_URL: '' });
    expect(c.PORT).toBe(8776);
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it('parses values from strings', () => {
    const c = loadConfig({ PORT: '9000', S3_FORCE_PATH_STYLE: 'off', STRICT_BACKUP_NAMES: 'Yes', DATABASE_URL: 'postgresql://u:p@h/db' });
    expect(c).toMatchObject({ PORT: 9000, S3_FORCE_PATH_STYLE: false, STRICT_BACKUP_NAMES: true, DATABASE_URL: 'postgresql://u:p@h/db' });
  });
});

describe('bad values stop start-up naming the variable', () => {
  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ ROLE: 'both' }, 'ROLE'],
    [{ AUTH_STRATEGY: 'ldap' }, 'AUTH_STRATEGY'],
    [{ BACKUP_STORE: 'ftp' }, 'BACKUP_STORE'],
    [{ BACKUP_COMPRESSION: 'lz4' }, 'BACKUP_COMPRESSION'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ STRICT_BACKUP_NAMES: 'maybe' }, 'STRICT_BACKUP_NAMES'],
    [{ BACKUP_MAX_OPERATIONS: '0' }, 'BACKUP_MAX_OPERATIONS'],
    [{ BACKUP_OBJECT_SIZE: '100000' }, 'BACKUP_OBJECT_SIZE'],
    [{ BACKUP_STORE: 's3' }, 'S3_ENDPOINT'],
    [{ AUTH_STRATEGY: 'keystone' }, 'KEYSTONE_URL'],
    [{ CBR_PORT: 'abc' }, 'CBR_PORT'],
    [{ CBR_PORT: '70000' }, 'CBR_PORT'],
    [{ CBR_PORT: '8776' }, 'CBR_PORT'],
    [{ CBR_ACCESS_KEYS: 'AK:SK' }, 'CBR_ACCESS_KEYS'],
    [{ CBR_ACCESS_KEYS: 'AK:SK:P:U:X' }, 'CBR_ACCESS_KEYS'],
    [{ CBR_ACCESS_KEYS: 'AK:SK:P,AK:SK2:P2' }, 'CBR_ACCESS_KEYS'],
  ])('%j names %s', (env, name) => {
    expect(badValue(env)).toMatch(new RegExp(`^invalid configuration:\\n(.*\\n)*\\s*${name}: `));
  });

  it('refuses an S3_SSE_CUSTOMER_KEY that is not a base64 256-bit key, naming the variable, not the value', () => {
    for (const key of ['short-secret-not-b64!!', Buffer.alloc(16, 1).toString('base64'), 'not base64 at all']) {
      const message = badValue({ S3_SSE_CUSTOMER_KEY: key });
      expect(message).toMatch(/S3_SSE_CUSTOMER_KEY: /);
      expect(message).not.toContain(key);
    }
    expect(loadConfig({ S3_SSE_CUSTOMER_KEY: Buffer.alloc(32, 7).toString('base64') }).S3_SSE_CUSTOMER_KEY).toBeDefined();
  });

  it('names every bad variable at once', () => {
    const message = badValue({ PORT: 'x', ROLE: 'y' });
    expect(message).toContain('PORT:');
    expect(message).toContain('ROLE:');
  });
});

describe('.env.example', () => {
  const text = readFileSync(resolve(import.meta.dirname, '../../.env.example'), 'utf8');
  const entries = new Map(
    text
      .split('\n')
      .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );

  it('lists every configuration variable, and nothing else', () => {
    const missing = CONFIG_VARIABLES.filter((v) => !entries.has(v));
    expect(missing, `add these to .env.example: ${missing.join(', ')}`).toEqual([]);
    expect([...entries.keys()].filter((v) => !CONFIG_VARIABLES.includes(v))).toEqual([]);
  });

  it('gives each variable a one-line comment right above it', () => {
    const lines = text.split('\n');
    for (const [i, line] of lines.entries()) {
      if (/^[A-Z][A-Z0-9_]*=/.test(line)) expect(lines[i - 1], line).toMatch(/^# \S/);
    }
  });

  it('states the defaults: loading it as the environment gives the default config', () => {
    const fromExample = loadConfig(Object.fromEntries(entries));
    expect(fromExample).toEqual(loadConfig({}));
  });
});

describe('the CBR listener', () => {
  it('listens on 8790 at HOST by default, 0 turns it off, CBR_HOST overrides the address', () => {
    expect(loadConfig({})).toMatchObject({ CBR_PORT: 8790, CBR_ACCESS_KEYS: [] });
    expect(loadConfig({}).CBR_HOST).toBeUndefined();
    expect(loadConfig({ CBR_PORT: '0' }).CBR_PORT).toBe(0);
    expect(loadConfig({ CBR_HOST: '127.0.0.2', CBR_PORT: '8776' }).CBR_HOST).toBe('127.0.0.2');
  });

  it('parses CBR_ACCESS_KEYS as AK:SK:PROJECT_ID[:USER_ID] entries', () => {
    const c = loadConfig({ CBR_ACCESS_KEYS: 'AK1:sk1:p1, AK2:sk2:p2:u2' });
    expect(c.CBR_ACCESS_KEYS).toEqual([
      { accessKey: 'AK1', secretKey: 'sk1', projectId: 'p1' },
      { accessKey: 'AK2', secretKey: 'sk2', projectId: 'p2', userId: 'u2' },
    ]);
    expect(secretValues(c)).toEqual(expect.arrayContaining(['sk1', 'sk2']));
  });

  it('a bad CBR_ACCESS_KEYS entry is named by position, never by its secret', () => {
    const message = badValue({ CBR_ACCESS_KEYS: 'AK1:topsecret:p1,broken-topsecret2' });
    expect(message).toContain('CBR_ACCESS_KEYS: entry 2 must be AK:SK:PROJECT_ID[:USER_ID]');
    expect(message).not.toContain('topsecret');
  });
});

describe('METRICS_PORT and JOB_RETENTION_HOURS', () => {
  it('METRICS_PORT is unset by default, a port when given, and may not collide with the API listeners', () => {
    expect(loadConfig({}).METRICS_PORT).toBeUndefined();
    expect(loadConfig({ ROLE: 'worker', METRICS_PORT: '9100' }).METRICS_PORT).toBe(9100);
    expect(badValue({ METRICS_PORT: 'abc' })).toContain('METRICS_PORT: must be an integer');
    expect(badValue({ METRICS_PORT: '70000' })).toContain('METRICS_PORT');
    expect(badValue({ METRICS_PORT: '8776' })).toContain('METRICS_PORT: must differ from PORT and CBR_PORT');
    // A worker serves no API, so its PORT is free for the metrics listener.
    expect(loadConfig({ ROLE: 'worker', METRICS_PORT: '8776' }).METRICS_PORT).toBe(8776);
  });

  it('BACKUP_ZSTD_LEVEL defaults to 3, takes 1..19, and a bad value stops start-up naming it', () => {
    expect(loadConfig({}).BACKUP_ZSTD_LEVEL).toBe(3);
    expect(loadConfig({ BACKUP_ZSTD_LEVEL: '1' }).BACKUP_ZSTD_LEVEL).toBe(1);
    expect(loadConfig({ BACKUP_ZSTD_LEVEL: '19' }).BACKUP_ZSTD_LEVEL).toBe(19);
    for (const bad of ['0', '20', '-1', 'fast', '3.5']) expect(badValue({ BACKUP_ZSTD_LEVEL: bad }), bad).toContain('BACKUP_ZSTD_LEVEL');
  });

  it('SHUTDOWN_GRACE_SECONDS defaults to 30; 0 releases running jobs at once', () => {
    expect(loadConfig({ SHUTDOWN_GRACE_SECONDS: '0' }).SHUTDOWN_GRACE_SECONDS).toBe(0);
    expect(loadConfig({ SHUTDOWN_GRACE_SECONDS: '120' }).SHUTDOWN_GRACE_SECONDS).toBe(120);
    expect(badValue({ SHUTDOWN_GRACE_SECONDS: '-1' })).toContain('SHUTDOWN_GRACE_SECONDS');
  });

  it('JOB_RETENTION_HOURS defaults to a week; 0 keeps finished jobs for ever', () => {
    expect(loadConfig({}).JOB_RETENTION_HOURS).toBe(168);
    expect(loadConfig({ JOB_RETENTION_HOURS: '0' }).JOB_RETENTION_HOURS).toBe(0);
    expect(badValue({ JOB_RETENTION_HOURS: '-1' })).toContain('JOB_RETENTION_HOURS');
  });
});

describe('secretValues', () => {
  it('collects the configured secrets, including the database password', () => {
    const c = loadConfig({
      S3_SECRET_ACCESS_KEY: 's3s',
      KEYSTONE_PASSWORD: 'ksp',
      NOAUTH_ADMIN_TOKEN: 'tok',
      DATABASE_URL: 'postgres://u:dbp@h/db',
    });
    expect(secretValues(c).sort()).toEqual(['dbp', 'ksp', 's3s', 'tok']);
  });
});

describe('README.md', () => {
  it('has a configuration table row for every variable', () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
    const missing = CONFIG_VARIABLES.filter((v) => !readme.includes(`| \`${v}\` |`));
    expect(missing, `add these to README.md's configuration table: ${missing.join(', ')}`).toEqual([]);
  });
});
