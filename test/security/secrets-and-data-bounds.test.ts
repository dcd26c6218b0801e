import { readFile, stat } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { createBackupJobHandlers } from '../../src/domain/backups/worker/handlers.js';
import { startJobWorker, type JobWorker } from '../../src/jobs/worker.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, P1, P2, backupTestEnv, makeVolume, type BackupTestEnv } from '../integration/backups-fixtures.js';
import { expectFaultBody } from '../reliability/api-world.js';
import { GiB } from '../../src/volumes/volume-backend.js';

/**
 * Secrets (S3 keys, the admin token, DB password) never reach logs, error bodies or the
 * OpenAPI document, even while the object store is failing; and the volume data extension
 * never reads or writes outside [0, size) of the volume it names.
 */
const SECRET_KEY = 'S3cr3tK3y-do-not-log-1a2b3c';
const ACCESS_KEY = 'AKIA-ACCESS-KEY-9z8y';
const ADMIN_TOKEN = 'admin-token-do-not-log-7f7f';
const DB_PASSWORD = 'db-password-do-not-log-42';
const logs: string[] = [];
let env: BackupTestEnv;
let logged: FastifyInstance;
let worker: JobWorker;

beforeAll(async () => {
  // A store that cannot work (dead endpoint, tiny timeouts): errors are logged on the backup path.
  const storeEnv = {
    BACKUP_STORE: 's3',
    S3_ENDPOINT: 'http://127.0.0.1:9',
    S3_ACCESS_KEY_ID: ACCESS_KEY,
    S3_SECRET_ACCESS_KEY: SECRET_KEY,
    S3_BUCKET: 'no-such-bucket-sec',
    S3_MAX_ATTEMPTS: '1',
    S3_TIMEOUT_MS: '500',
  };
  const sink = new Writable({ write: (chunk, _e, cb) => (logs.push(String(chunk)), cb()) });
  env = await backupTestEnv({
    ...storeEnv,
    NOAUTH_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: 'trace',
    DATABASE_URL: `postgres://svc:${DB_PASSWORD}@127.0.0.1:1/none`,
  });
  // A second app and a job worker that log everything into `logs` (the fixture's are silent).
  logged = await buildApp({ ...env.deps, logger: { level: 'trace', stream: sink } });
  await logged.ready();
  worker = startJobWorker({
    db: env.t.db,
    owner: 'sec-test',
    hostId: env.config.HOST_ID,
    handlers: createBackupJobHandlers(env.manager),
    maxConcurrent: 1,
    leaseSeconds: 30,
    pollMs: 50,
    logger: pino({ level: 'trace' }, sink),
    shutdownGraceMs: 1000,
  });
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await logged?.close();
  await env?.close();
});

const secrets = [SECRET_KEY, ADMIN_TOKEN, DB_PASSWORD];
const call = async (method: string, url: string, headers: Record<string, string>, payload?: unknown) => {
  const r = await logged.inject({
    method: method as 'GET',
    url,
    headers,
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
  return { status: r.statusCode, body: r.body };
};

describe('secrets stay secret', () => {
  it('a failing backup, bad tokens and error answers put no secret in logs, bodies or the OpenAPI document', async () => {
    const vol = await makeVolume(env, P1, { size: 1 });
    const answers: string[] = [];
    const created = await call('POST', `/v3/${P1}/backups`, { 'x-auth-token': `u:${P1}` }, { backup: { volume_id: vol, name: 'x' } });
    expect(created.status).toBe(202);
    const id = JSON.parse(created.body).backup.id as string;
    const failed = await env.waitBackup(id, P1, (b) => b.status !== 'creating', 60_000);
    expect(failed.status).toBe('error');
    const shown = await call('GET', `/v3/${ADMIN}/backups/${id}`, { 'x-auth-token': ADMIN_TOKEN, 'openstack-api-version': 'volume 3.70' });
    answers.push(shown.body, JSON.stringify(failed));
    for (const token of [ADMIN_TOKEN, `${ADMIN_TOKEN}x`, `u:${P2}`]) {
      for (const url of [`/v3/${P2}/backups/detail`, `/v3/${P2}/backups/not-a-uuid`, `/v3/${P2}/volumes`, '/v3/', '/nope']) {
        answers.push((await call('GET', url, { 'x-auth-token': token, authorization: `Bearer ${ADMIN_TOKEN}` })).body);
        answers.push(
          (await call('POST', url, { 'x-auth-token': token, 'content-type': 'application/json' }, `{"password": "${DB_PASSWORD}"`)).body,
        );
      }
    }
    answers.push(JSON.stringify(env.app.swagger()));
    answers.push((await call('GET', '/openapi.json', {})).body);
    const all = answers.join('\n');
    const logText = logs.join('');
    expect(logText.length).toBeGreaterThan(1000); // the capture is real
    for (const s of secrets) {
      expect(all.includes(s), `secret in an answer: ${s}`).toBe(false);
      expect(logText.includes(s), `secret in the log: ${s}`).toBe(false);
    }
    expect(failed.fail_reason).toMatch(/s3|store|bucket|backup/i);
  }, 90_000);
});

describe('the volume data extension stays inside its volume', () => {
  const h = (project: string, extra: Record<string, string> = {}) => ({ 'x-auth-token': `u:${project}`, ...extra });

  it('reads: ranges past the end are 416, garbage ranges 400, path tricks in ids 404/400', async () => {
    const vol = await makeVolume(env, P1, { size: 1 });
    for (const range of [`bytes=${GiB}-`, `bytes=${GiB * 2}-${GiB * 3}`, 'bytes=99999999999999999999999-']) {
      const r = await call('GET', `/v3/${P1}/volumes/${vol}/data`, h(P1, { range }));
      expect(r.status, range).toBe(416);
    }
    for (const range of ['bytes=-1-5', 'bytes=5-1', 'bytes=abc', 'items=0-1', 'bytes=0-1,4-5']) {
      const r = await call('GET', `/v3/${P1}/volumes/${vol}/data`, h(P1, { range }));
      expect(r.status, range).toBe(400);
      expectFaultBody(r.status, r.body, range);
    }
    const tail = await env.app.inject({
      method: 'GET',
      url: `/v3/${P1}/volumes/${vol}/data`,
      headers: h(P1, { range: `bytes=${GiB - 10}-${GiB + 100}` }),
    });
    expect(tail.statusCode).toBe(206);
    expect(tail.rawPayload.length).toBe(10);
    for (const id of ['..%2F..%2Fetc%2Fpasswd', '%2E%2E', `${vol}%2F..%2F${vol}`, '..', 'x'.repeat(400), `${vol}%00`]) {
      const r = await call('GET', `/v3/${P1}/volumes/${id}/data`, h(P1));
      expect([400, 404], id).toContain(r.status);
      expectFaultBody(r.status, r.body, id);
    }
  });

  it('writes: Content-Range past the end, overflowing or malformed is refused and the file keeps its size', async () => {
    const vol = await makeVolume(env, P1, { size: 1 });
    const path = env.deps.volumes.volumePath(vol);
    const before = (await stat(path)).size;
    const put = (contentRange: string | undefined, body: Buffer) =>
      env.app.inject({
        method: 'PUT',
        url: `/v3/${P1}/volumes/${vol}/data`,
        headers: h(P1, { 'content-type': 'application/octet-stream', ...(contentRange ? { 'content-range': contentRange } : {}) }),
        payload: body,
      });
    for (const cr of [
      `bytes ${GiB}-${GiB}/*`,
      `bytes ${GiB - 1}-${GiB + 1}/*`,
      'bytes -5-5/*',
      'bytes 9007199254740993-9007199254740999/*',
      'bytes 5-1/*',
      'bytes 0-1/x',
    ]) {
      const r = await put(cr, Buffer.alloc(cr.includes(`${GiB - 1}-`) ? 3 : 1, 1));
      expect(r.statusCode, `${cr}: ${r.body}`).toBeGreaterThanOrEqual(400);
      expect(r.statusCode, cr).toBeLessThan(500);
      expectFaultBody(r.statusCode, r.body, cr);
    }
    // A body longer than its Content-Range says, or longer than the volume, never grows the file.
    const r = await put('bytes 0-1/*', Buffer.alloc(16, 7));
    expect(r.statusCode).toBeGreaterThanOrEqual(400);
    expect((await stat(path)).size).toBe(before);
    // P2 cannot write into P1's volume.
    const other = await env.app.inject({
      method: 'PUT',
      url: `/v3/${P2}/volumes/${vol}/data`,
      headers: h(P2, { 'content-type': 'application/octet-stream' }),
      payload: Buffer.alloc(8, 9),
    });
    expect(other.statusCode).toBe(404);
    expect((await readFile(path)).subarray(0, 8).equals(Buffer.alloc(8))).toBe(true);
  });
});
