import { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/connection.js';
import { freePort } from '../../src/db/embedded.js';
import type { Database } from '../../src/db/schema.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

describe('GET /healthz', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it('is 200 with the database reachable, without a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', database: 'ok' });
  });

  it('is 503 when the database cannot be reached', async () => {
    // A pool pointing at a loopback port nobody listens on.
    const port = await freePort();
    const deadDb: Kysely<Database> = createDb({ url: `postgres://postgres:x@127.0.0.1:${port}/nothing`, poolSize: 1 });
    const down = await createTestApp({}, { db: deadDb });
    try {
      const res = await down.app.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'degraded', database: 'unreachable' });
      expect(res.headers['x-openstack-request-id']).toMatch(/^req-/);
    } finally {
      await down.close();
      await deadDb.destroy();
    }
  });
});
