import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { OTHER_PROJECT, PROJECT, createProbeApp } from './http-fixtures.js';

const probe = (t: TestApp, token: string, url = '/v3/test-probe') =>
  t.app.inject({ method: 'GET', url, headers: { 'x-auth-token': token } });

describe('per-project rate limit (RATE_LIMIT_PER_MINUTE)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createProbeApp({ RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(async () => t?.close());

  it('answers the fourth request of a project within a minute with 429 overLimit and Retry-After', async () => {
    for (let i = 0; i < 3; i++) expect((await probe(t, `u${i}:${PROJECT}`)).statusCode).toBe(200);
    // Another user of the same project shares its bucket; the URL form does not matter.
    const res = await probe(t, `someone:${PROJECT}`, `/v3/${PROJECT}/test-probe`);
    expect(res.statusCode).toBe(429);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['overLimit']);
    expect(body.overLimit.code).toBe(429);
    expect(body.overLimit.message).toMatch(/^Rate limit exceeded: at most 3 requests per minute per project/);
    expect(Number(body.overLimit.retryAfter)).toBeGreaterThan(0);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-/);
  });

  it('counts each project separately', async () => {
    expect((await probe(t, `u1:${OTHER_PROJECT}`)).statusCode).toBe(200);
  });

  it('does not limit the unauthenticated routes (/, /healthz, /metrics)', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await t.app.inject({ method: 'GET', url: '/' })).statusCode).toBe(300);
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    }
  });
});

describe('rate limit off by default', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createProbeApp();
  });
  afterAll(async () => t?.close());

  it('RATE_LIMIT_PER_MINUTE=0 lets 50 requests of one project through, without rate-limit headers', async () => {
    for (let i = 0; i < 50; i++) {
      const res = await probe(t, `u:${PROJECT}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });

  it('GET /metrics serves Prometheus text without a token, counting requests by route pattern', async () => {
    await probe(t, `u:${PROJECT}`, `/v3/${PROJECT}/test-probe`);
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toMatch(/^# HELP cinder_http_requests_total /m);
    expect(res.body).toMatch(/cinder_http_requests_total\{method="GET",route="\/v3\/test-probe",status_code="200"\} 50\b/);
    expect(res.body).toContain('route="/v3/:project_id/test-probe"');
    expect(res.body).not.toContain(PROJECT);
    expect(res.body).toMatch(/cinder_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/v3\/test-probe"\}/);
  });
});
