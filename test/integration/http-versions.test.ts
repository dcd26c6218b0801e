import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { PROJECT, createProbeApp } from './http-fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await createProbeApp();
});
afterAll(async () => t?.close());

const token = { 'x-auth-token': `u1:${PROJECT}` };

function expectVersionsDocument(body: unknown, selfHref: string): void {
  const doc = body as { versions: Array<Record<string, unknown>> };
  expect(doc.versions).toHaveLength(1);
  expect(doc.versions[0]).toEqual({
    id: 'v3.0',
    status: 'CURRENT',
    version: '3.70',
    min_version: '3.0',
    updated: '2022-08-31T00:00:00Z',
    links: [
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      { rel: 'self', href: selfHref },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  });
}

describe('version discovery', () => {
  it('GET / answers 300 with the versions document and needs no token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/', headers: { host: 'api.example.test:8776' } });
    expect(res.statusCode).toBe(300);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expectVersionsDocument(res.json(), 'http://api.example.test:8776/v3/');
  });

  it('GET / self href follows X-Forwarded-Host (last value)', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/', headers: { 'x-forwarded-host': 'a.test, b.test:9999' } });
    expectVersionsDocument(res.json(), 'http://b.test:9999/v3/');
  });

  it('GET /v3/ answers 200 with the same document behind auth', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v3/', headers: { ...token, host: 'h.test:8776' } });
    expect(res.statusCode).toBe(200);
    expectVersionsDocument(res.json(), 'http://h.test:8776/v3/');
  });

  it('GET /v3/ without a token is the noauth 204 handshake, not the document', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v3/' });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
  });

  it('GET /v3 redirects to /v3/ with 302', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v3' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/v3/');
  });

  it('the self href uses PUBLIC_ENDPOINT with its /vN suffix stripped', async () => {
    const p = await createProbeApp({ PUBLIC_ENDPOINT: 'https://cloud.example.test/volume/v3' });
    try {
      const res = await p.app.inject({ method: 'GET', url: '/' });
      expectVersionsDocument(res.json(), 'https://cloud.example.test/volume/v3/');
    } finally {
      await p.close();
    }
  });
});

describe('microversion negotiation', () => {
  const probe = (version?: string) =>
    t.app.inject({
      method: 'GET',
      url: `/v3/${PROJECT}/test-probe`,
      headers: version === undefined ? token : { ...token, 'openstack-api-version': version },
    });

  it.each([
    [undefined, '3.0'],
    ['volume 3.43', '3.43'],
    ['volume 3.0', '3.0'],
    ['volume 3.70', '3.70'],
    ['volume latest', '3.70'],
    ['VOLUME 3.9', '3.9'],
    ['compute 2.1, volume 3.27', '3.27'],
  ])('header %s negotiates %s and says so in OpenStack-API-Version and Vary', async (header, expected) => {
    const res = await probe(header);
    expect(res.statusCode).toBe(200);
    expect(res.json().version).toBe(expected);
    expect(res.headers['openstack-api-version']).toBe(`volume ${expected}`);
    expect(res.headers.vary).toMatch(/OpenStack-API-Version/);
  });

  it.each(['volume 3.99', 'volume 2.0', 'volume 4.0', 'volume 3.71'])('%s is 406 computeFault naming the range', async (header) => {
    const res = await probe(header);
    expect(res.statusCode).toBe(406);
    const v = header.split(' ')[1];
    expect(res.json()).toEqual({
      computeFault: { code: 406, message: `Version ${v} is not supported by the API. Minimum is 3.0 and maximum is 3.70.` },
    });
    expect(res.headers['openstack-api-version']).toBe('volume 3.0');
    expect(res.headers.vary).toMatch(/OpenStack-API-Version/);
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
  });

  it.each(['volume 3.05', 'volume abc', 'volume 3', 'volume 03.1', 'volume'])('malformed %j is 400 badRequest', async (header) => {
    const res = await probe(header);
    expect(res.statusCode).toBe(400);
    expect(res.json().badRequest.code).toBe(400);
    expect(res.json().badRequest.message).toMatch(/is of invalid format\. Must be of format MajorNum\.MinorNum\./);
    expect(res.headers['openstack-api-version']).toBe('volume 3.0');
    expect(res.headers.vary).toMatch(/OpenStack-API-Version/);
  });

  it('a header without a volume entry is 400', async () => {
    const res = await probe('compute 2.1');
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json())).toEqual(['badRequest']);
  });

  it('error responses carry the negotiated version, not 3.0', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/v3/${PROJECT}/no-such-collection`,
      headers: { ...token, 'openstack-api-version': 'volume 3.50' },
    });
    expect(res.statusCode).toBe(404);
    expect(res.headers['openstack-api-version']).toBe('volume 3.50');
    expect(res.headers.vary).toMatch(/OpenStack-API-Version/);
  });

  it('GET / carries the version headers too', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/', headers: { 'openstack-api-version': 'volume 3.12' } });
    expect(res.headers['openstack-api-version']).toBe('volume 3.12');
    expect(res.headers.vary).toMatch(/OpenStack-API-Version/);
  });
});
