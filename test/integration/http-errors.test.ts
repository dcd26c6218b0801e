import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCbrApp } from '../../src/app.js';
import { inertDeps } from '../../src/cli/openapi-document.js';
import { loadConfig } from '../../src/config.js';
import type { TestApp } from '../helpers/app.js';
import { PROJECT, createProbeApp } from './http-fixtures.js';

const lines: Array<Record<string, unknown>> = [];
const stream = new Writable({
  write(chunk, _enc, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});

let t: TestApp;
beforeAll(async () => {
  // A small body limit so the 413 case needs no megabytes; pino output captured as JSON lines.
  t = await createProbeApp({ MAX_REQUEST_BODY_BYTES: '2048' }, { logger: { level: 'info', stream } });
});
afterAll(async () => t?.close());

const url = `/v3/${PROJECT}/test-probe`;
const token = { 'x-auth-token': `u1:${PROJECT}` };
const post = (payload: string, contentType: string | null = 'application/json') =>
  t.app.inject({ method: 'POST', url, payload, headers: contentType ? { ...token, 'content-type': contentType } : token });

function expectFault(
  res: { statusCode: number; json(): unknown; headers: Record<string, unknown> },
  status: number,
  name: string,
  message?: string | RegExp,
): void {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json() as Record<string, { code: number; message: string }>;
  expect(Object.keys(body)).toEqual([name]);
  expect(body[name]!.code).toBe(status);
  if (typeof message === 'string') expect(body[name]!.message).toBe(message);
  else if (message) expect(body[name]!.message).toMatch(message);
  expect(res.headers['x-openstack-request-id']).toMatch(/^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(res.headers['openstack-api-version']).toBe('volume 3.0');
}

describe('Cinder fault bodies', () => {
  it('a valid body reaches the handler', async () => {
    const res = await post(JSON.stringify({ probe: { name: 'a', size: 1 } }));
    expect(res.statusCode).toBe(200);
    expect(res.json().probe).toEqual({ name: 'a', size: 1 });
  });

  it('zod validation failure: 400 with Cinder\'s "Invalid input for field/attribute" message', async () => {
    const res = await post(JSON.stringify({ probe: { name: 'a', size: 0 } }));
    expectFault(res, 400, 'badRequest', /^Invalid input for field\/attribute size\. Value: 0\. /);
  });

  it('an unexpected property is 400 "Additional properties are not allowed"', async () => {
    const res = await post(JSON.stringify({ probe: { name: 'a', size: 1, color: 'red' } }));
    expectFault(
      res,
      400,
      'badRequest',
      /^Invalid input for field\/attribute probe\. Value: .*Additional properties are not allowed \('color' was unexpected\)$/,
    );
  });

  it('a missing property is 400 "is a required property"', async () => {
    const res = await post(JSON.stringify({ probe: { name: 'a' } }));
    expectFault(res, 400, 'badRequest', `Invalid input for field/attribute probe. Value: {"name":"a"}. 'size' is a required property`);
  });

  it('an unknown route is 404 itemNotFound', async () => {
    expectFault(
      await t.app.inject({ method: 'GET', url: '/v3/no/such/thing', headers: token }),
      404,
      'itemNotFound',
      'The resource could not be found.',
    );
    expectFault(await t.app.inject({ method: 'GET', url: '/nothing-here' }), 404, 'itemNotFound');
  });

  it("a malformed %-escape in the URL is 400 badRequest, not the framework's own body", async () => {
    expectFault(await t.app.inject({ method: 'GET', url: '/v3/%zz', headers: token }), 400, 'badRequest', 'Malformed request url');
  });

  it('an over-long path parameter is 404 itemNotFound', async () => {
    expectFault(await t.app.inject({ method: 'GET', url: `/v3/${'a'.repeat(600)}/test-probe`, headers: token }), 404, 'itemNotFound');
  });

  it('a body that is not an object is 400 naming the body and its type', async () => {
    expectFault(await post('"abc"'), 400, 'badRequest', "Invalid input for field/attribute body. Value: abc. abc is not of type 'object'");
    expectFault(await post('null'), 400, 'badRequest', /^Invalid input for field\/attribute body\. Value: None\. /);
  });

  it('a property of the wrong type is 400 "is not of type"', async () => {
    const res = await post(JSON.stringify({ probe: { name: 5, size: 1 } }));
    expectFault(res, 400, 'badRequest', "Invalid input for field/attribute name. Value: 5. 5 is not of type 'string'");
  });

  it('bad JSON is 400 "Malformed request body"', async () => {
    expectFault(await post('{"probe": '), 400, 'badRequest', 'Malformed request body');
  });

  it('an empty body is no body, whatever the content type: the route sees none', async () => {
    for (const type of ['application/json', 'application/vnd.openstack.volume+json', 'text/plain', 'application/xml']) {
      expectFault(await post('', type), 400, 'badRequest', /^Invalid input for field\/attribute body\. Value: None\./);
    }
  });

  it('a wrong content type is 415 badMediaType', async () => {
    expectFault(
      await post('probe=1', 'application/x-www-form-urlencoded'),
      415,
      'badMediaType',
      'Unsupported Content-Type: requests take application/json; the volume data extension (PUT .../data) takes application/octet-stream',
    );
    expectFault(await post('<probe/>', 'text/xml'), 415, 'badMediaType');
  });

  it('a body without Content-Type is ignored, as in Cinder: the route sees no body', async () => {
    const res = await post(JSON.stringify({ probe: { name: 'a', size: 1 } }), null);
    expectFault(res, 400, 'badRequest', /^Invalid input for field\/attribute body\. Value: None\./);
  });

  it('a body over MAX_REQUEST_BODY_BYTES is 413 overLimit, with or without a known content type', async () => {
    expectFault(await post('x'.repeat(3000), 'text/plain'), 413, 'overLimit');
    expectFault(await post('x'.repeat(3000), null), 413, 'overLimit');
  });

  it('a JSON body over MAX_REQUEST_BODY_BYTES is 413 overLimit', async () => {
    const res = await post(JSON.stringify({ probe: { name: 'x'.repeat(3000), size: 1 } }));
    expectFault(res, 413, 'overLimit', 'Request is too large.');
  });

  it('the vendor media type application/vnd.openstack.volume+json is accepted as JSON', async () => {
    const res = await post(JSON.stringify({ probe: { name: 'v', size: 2 } }), 'application/vnd.openstack.volume+json');
    expect(res.statusCode).toBe(200);
    expect(res.json().probe).toEqual({ name: 'v', size: 2 });
    const withParams = await post(JSON.stringify({ probe: { name: 'v', size: 3 } }), 'application/json; charset=utf-8');
    expect(withParams.json().probe.size).toBe(3);
  });

  it('an unexpected exception is 500 computeFault with the details hidden and logged', async () => {
    const res = await t.app.inject({ method: 'GET', url: `${url}/boom`, headers: token });
    expectFault(res, 500, 'computeFault');
    expect(res.body).not.toContain('secret internal detail');
    const id = res.headers['x-openstack-request-id'];
    const logged = lines.find((l) => l.request_id === id && l.level === 50);
    expect(JSON.stringify(logged)).toContain('secret internal detail');
  });
});

describe('request ids', () => {
  it('every response has a fresh x-openstack-request-id (and the legacy x-compute-request-id)', async () => {
    const responses = await Promise.all([
      t.app.inject({ method: 'GET', url: '/' }),
      t.app.inject({ method: 'GET', url: '/healthz' }),
      t.app.inject({ method: 'GET', url: '/v3/' }),
      t.app.inject({ method: 'GET', url, headers: token }),
      t.app.inject({ method: 'GET', url: '/v3/zzz', headers: token }),
      t.app.inject({ method: 'GET', url, headers: { ...token, 'openstack-api-version': 'volume 9.9' } }),
    ]);
    const ids = responses.map((r) => r.headers['x-openstack-request-id']);
    for (const [i, id] of ids.entries()) {
      expect(id).toMatch(/^req-[0-9a-f-]{36}$/);
      expect(responses[i]!.headers['x-compute-request-id']).toBe(id);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a request is logged once, with method, path, status, duration, project and its request id', async () => {
    const res = await t.app.inject({ method: 'GET', url: `${url}?x=1`, headers: token });
    const id = res.headers['x-openstack-request-id'];
    const mine = lines.filter((l) => l.request_id === id && l.msg === 'request');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ level: 30, method: 'GET', path: url, status: res.statusCode, project_id: PROJECT });
    expect(mine[0]!.duration_ms).toEqual(expect.any(Number));
    expect(lines.filter((l) => l.request_id === id && (l.msg === 'incoming request' || l.msg === 'request completed'))).toEqual([]);
  });

  it('a 4xx or 5xx request line carries the error code and reason of its fault body', async () => {
    const bad = await post('{"probe":{"name":"x","size":0}}');
    expect(bad.statusCode).toBe(400);
    const badLine = lines.find((l) => l.request_id === bad.headers['x-openstack-request-id'] && l.msg === 'request');
    expect(badLine).toMatchObject({ status: 400, error_code: 'badRequest', reason: bad.json().badRequest.message });
    expect(String(badLine!.reason)).toMatch(/^Invalid input for field\/attribute size/);

    const missing = await t.app.inject({ method: 'GET', url: '/v3/zzz', headers: token });
    const missingLine = lines.find((l) => l.request_id === missing.headers['x-openstack-request-id'] && l.msg === 'request');
    expect(missingLine).toMatchObject({ status: 404, error_code: 'itemNotFound', reason: 'The resource could not be found.' });

    const boom = await t.app.inject({ method: 'GET', url: `${url}/boom`, headers: token });
    const boomLine = lines.find((l) => l.request_id === boom.headers['x-openstack-request-id'] && l.msg === 'request');
    // The 5xx reason is the masked message; the cause is on its own error line with the same request id.
    expect(boomLine).toMatchObject({ status: 500, error_code: 'computeFault', reason: boom.json().computeFault.message });
    expect(JSON.stringify(boomLine)).not.toContain('secret internal detail');

    const ok = await t.app.inject({ method: 'GET', url, headers: token });
    const okLine = lines.find((l) => l.request_id === ok.headers['x-openstack-request-id'] && l.msg === 'request');
    expect(okLine).toMatchObject({ status: 200 });
    expect(okLine).not.toHaveProperty('reason');
    expect(okLine).not.toHaveProperty('error_code');
  });

  it("a CBR error's request line carries its error_code and error_msg", async () => {
    const cbr = await buildCbrApp({ ...inertDeps(loadConfig({})), logger: { level: 'info', stream } });
    try {
      const res = await cbr.inject({ method: 'GET', url: `/v3/${PROJECT}/vaults`, headers: { 'x-auth-token': 'u1:nothex' } });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      const line = lines.find((l) => l.request_id === res.headers['x-request-id'] && l.msg === 'request');
      expect(line).toMatchObject({ status: res.statusCode, error_code: res.json().error_code, reason: res.json().error_msg });
    } finally {
      await cbr.close();
    }
  });

  it('health and metrics probes are logged at debug only', async () => {
    for (const probe of ['/healthz', '/metrics']) {
      const res = await t.app.inject({ method: 'GET', url: probe });
      const mine = lines.filter((l) => l.request_id === res.headers['x-openstack-request-id']);
      expect(mine, probe).toEqual([]); // the logger runs at info: the debug line is not written
    }
  });

  it('log lines never carry the X-Auth-Token', async () => {
    await t.app.inject({ method: 'GET', url, headers: { 'x-auth-token': `tok-secret-123:${PROJECT}` } });
    expect(JSON.stringify(lines)).not.toContain('tok-secret-123');
  });
});
