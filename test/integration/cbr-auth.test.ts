import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthStrategy } from '../../src/http/auth/auth-strategy.js';
import { createNoauthStrategy } from '../../src/http/auth/noauth-strategy.js';
import { registerCbrAuth } from '../../src/http/cbr/auth.js';
import { registerCbrErrors } from '../../src/http/cbr/errors.js';
import { registerBodyParsers } from '../../src/http/body-parsers.js';
import { DomainError } from '../../src/domain/common/errors.js';
import { type SdkSignInput, sdkHeaders, sdkSign } from '../helpers/cbr-sdk.js';

/**
 * The CBR listener's authentication against the official SDK's own signer
 * (huaweicloudsdkcore.signer.Signer, run with python3): a probe app with the CBR auth and
 * error plumbing echoes who the caller is; every tampered part of a signed request is refused.
 */

const P1 = '11111111111111111111111111111111';
const P2 = '22222222222222222222222222222222';
const K1 = { accessKey: 'AKP1QWERTYUIOPASDFGH', secretKey: 'sk-one-3f1c9a0e7b2d4c58', projectId: P1 };
const K2 = { accessKey: 'AKP2ZXCVBNMLKJHGFDSA', secretKey: 'sk-two-8e2b6d1f0a9c3e47', projectId: P2, userId: 'u2222222' };
const HOST = '127.0.0.1:8790';
const T0 = Date.UTC(2026, 11, 6, 0, 0, 0);
const SDK_DATE = '20261206T000000Z';

let now = T0;
let app: FastifyInstance;

async function probeApp(strategy: AuthStrategy): Promise<FastifyInstance> {
  const a = Fastify({ logger: false, genReqId: () => `req-${Math.random().toString(16).slice(2)}` });
  registerCbrErrors(a);
  registerBodyParsers(a, { empty: {} });
  await a.register(
    async (scoped) => {
      registerCbrAuth(scoped, { strategy, keys: [K1, K2], bodyLimit: 4096, now: () => now });
      const who = async (req: import('fastify').FastifyRequest) => ({
        project: req.ctx.projectId,
        user: req.ctx.userId,
        body: req.body ?? null,
        query: req.query,
      });
      scoped.get('/vaults', who);
      scoped.post('/vaults', who);
      scoped.delete('/vaults/:id', who);
    },
    { prefix: '/v3/:project_id' },
  );
  await a.ready();
  return a;
}

function sign(r: Partial<SdkSignInput> & { method: string; path: string }, key = K1, extra: Record<string, string> = {}) {
  const [signed] = sdkSign([
    {
      host: HOST,
      headers: { ...sdkHeaders(key.projectId), 'X-Sdk-Date': SDK_DATE, ...extra },
      ak: key.accessKey,
      sk: key.secretKey,
      ...r,
    },
  ]);
  return signed!;
}

async function send(method: string, uri: string, headers: Record<string, string>, body?: string) {
  const res = await app.inject({ method: method as 'GET', url: uri, headers, ...(body !== undefined ? { payload: body } : {}) });
  return { status: res.statusCode, json: res.body ? JSON.parse(res.body) : null, headers: res.headers };
}

function expectGateway401(r: { status: number; json: any; headers: Record<string, unknown> }) {
  expect(r.status).toBe(401);
  expect(r.json).toEqual({
    error_code: 'APIGW.0301',
    error_msg: expect.stringMatching(/^Incorrect IAM authentication information/),
    request_id: r.headers['x-request-id'],
  });
}

beforeAll(async () => {
  app = await probeApp(createNoauthStrategy({ adminProjects: '', memberRoles: 'member' }));
});
afterAll(async () => app?.close());

describe('SDK-HMAC-SHA256 signatures made by the SDK signer', () => {
  it("a signed GET with a sorted query (lists, booleans) is accepted as the key's project and user", async () => {
    const s = sign(
      {
        method: 'GET',
        path: `/v3/${P2}/vaults`,
        query: [
          ['limit', 5],
          ['id', ['b', 'a']],
          ['incremental', true],
          ['name', 'x y/ü'],
        ] as never,
      },
      K2,
    );
    expect(s.uri).toContain('?');
    const r = await send('GET', s.uri, s.headers);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      project: P2,
      user: 'u2222222',
      query: { limit: '5', id: ['a', 'b'], incremental: 'true', name: 'x y/ü' },
    });
    expect(r.headers['x-request-id']).toMatch(/^req-/);
  });

  it('a user-less key acts as its access key; the query may arrive in any order', async () => {
    const s = sign({
      method: 'GET',
      path: `/v3/${P1}/vaults`,
      query: [
        ['offset', '0'],
        ['limit', '1'],
      ],
    });
    const [path, query] = s.uri.split('?') as [string, string];
    const reordered = `${path}?${query.split('&').reverse().join('&')}`;
    const r = await send('GET', reordered, s.headers);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ project: P1, user: K1.accessKey });
  });

  it('a signed POST with a JSON body is accepted and the body parsed', async () => {
    const body = JSON.stringify({ vault: { name: 'ü-vault', billing: { size: 40 } } });
    const s = sign({ method: 'POST', path: `/v3/${P1}/vaults`, body });
    const r = await send('POST', s.uri, s.headers, body);
    expect(r.status).toBe(200);
    expect(r.json.body).toEqual(JSON.parse(body));
  });

  it('a signed DELETE with Content-Type application/json and an empty body is accepted, as the SDK sends it', async () => {
    const s = sign({ method: 'DELETE', path: `/v3/${P1}/vaults/abc` });
    const r = await send('DELETE', s.uri, { ...s.headers, 'content-length': '0' }, '');
    expect(r.status).toBe(200);
    expect(r.json.project).toBe(P1);
  });

  it('an X-Sdk-Date up to 15 minutes off is accepted, further is refused', async () => {
    const s = sign({ method: 'GET', path: `/v3/${P1}/vaults` });
    for (const [offset, ok] of [
      [14 * 60_000, true],
      [-14 * 60_000, true],
      [16 * 60_000, false],
      [-16 * 60_000, false],
    ] as const) {
      now = T0 + offset;
      const r = await send('GET', s.uri, s.headers);
      if (ok) expect(r.status, String(offset)).toBe(200);
      else expectGateway401(r);
    }
    now = T0;
  });
});

describe('tampered signed requests are refused with 401 APIGW.0301', () => {
  const body = JSON.stringify({ vault: { name: 'v', billing: { size: 40 } } });

  it('a changed body, an added body, a changed body hash header', async () => {
    const s = sign({ method: 'POST', path: `/v3/${P1}/vaults`, body });
    expectGateway401(await send('POST', s.uri, s.headers, body.replace('40', '41')));
    expectGateway401(await send('POST', s.uri, s.headers, `${body} `));
    expectGateway401(await send('POST', s.uri, { ...s.headers, 'x-sdk-content-sha256': 'UNSIGNED-PAYLOAD' }, body.replace('40', '41')));
    const g = sign({ method: 'GET', path: `/v3/${P1}/vaults` });
    expectGateway401(await send('POST', g.uri, g.headers, body));
  });

  it('a changed signed header, a changed date, a changed method or path', async () => {
    const s = sign({ method: 'GET', path: `/v3/${P1}/vaults` });
    expectGateway401(await send('GET', s.uri, { ...s.headers, 'User-Agent': 'curl/8' }));
    expectGateway401(await send('GET', s.uri, { ...s.headers, 'X-Sdk-Date': '20261206T000001Z' }));
    expectGateway401(await send('GET', s.uri, { ...s.headers, Host: '127.0.0.1:8791' }));
    expectGateway401(await send('POST', s.uri, s.headers, ''));
    const d = sign({ method: 'DELETE', path: `/v3/${P1}/vaults/abc` });
    expectGateway401(await send('DELETE', `/v3/${P1}/vaults/abd`, d.headers));
  });

  it('a changed, added or removed query parameter', async () => {
    const s = sign({ method: 'GET', path: `/v3/${P1}/vaults`, query: [['limit', '1']] });
    expectGateway401(await send('GET', s.uri.replace('limit=1', 'limit=2'), s.headers));
    expectGateway401(await send('GET', `${s.uri}&offset=1`, s.headers));
    expectGateway401(await send('GET', `/v3/${P1}/vaults`, s.headers));
  });

  it('a wrong secret key, an unknown access key, a malformed Authorization, a missing signed header', async () => {
    const wrong = sign({ method: 'GET', path: `/v3/${P1}/vaults` }, { ...K1, secretKey: 'not-the-secret' });
    expectGateway401(await send('GET', wrong.uri, wrong.headers));
    const unknown = sign({ method: 'GET', path: `/v3/${P1}/vaults` }, { ...K1, accessKey: 'AKUNKNOWN' });
    expectGateway401(await send('GET', unknown.uri, unknown.headers));
    const s = sign({ method: 'GET', path: `/v3/${P1}/vaults` });
    expectGateway401(await send('GET', s.uri, { ...s.headers, Authorization: 'SDK-HMAC-SHA256 Access=x' }));
    const { 'User-Agent': _ua, ...withoutUa } = s.headers;
    expectGateway401(await send('GET', s.uri, withoutUa));
    expectGateway401(await send('GET', s.uri, { ...s.headers, 'X-Sdk-Date': 'yesterday' }));
  });

  it('the secret key never appears in a response', async () => {
    const wrong = sign({ method: 'GET', path: `/v3/${P1}/vaults` }, { ...K1, secretKey: 'not-the-secret' });
    const res = await app.inject({ method: 'GET', url: wrong.uri, headers: wrong.headers });
    expect(res.body).not.toContain(K1.secretKey);
    expect(JSON.stringify(res.headers)).not.toContain(K1.secretKey);
  });
});

describe('project checks', () => {
  it("a key used on another project's path is 403, so is an X-Project-Id that is not the key's", async () => {
    const s = sign({ method: 'GET', path: `/v3/${P2}/vaults` }, K1);
    const r = await send('GET', s.uri, s.headers);
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ error_code: 'APIGW.0302', request_id: r.headers['x-request-id'] });
    const x = sign({ method: 'GET', path: `/v3/${P1}/vaults` }, K1, { 'X-Project-Id': P2 });
    expect((await send('GET', x.uri, x.headers)).status).toBe(403);
  });
});

describe('X-Auth-Token, as on the Cinder listener', () => {
  it('a noauth user:project token is accepted for its project, 403 for another, 401 without any credential', async () => {
    const ok = await send('GET', `/v3/${P1}/vaults`, { 'x-auth-token': `alice:${P1}` });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ project: P1, user: 'alice' });
    const other = await send('GET', `/v3/${P2}/vaults`, { 'x-auth-token': `alice:${P1}` });
    expect(other.status).toBe(403);
    expectGateway401(await send('GET', `/v3/${P1}/vaults`, {}));
  });

  it('the configured strategy validates the token (Keystone: an invalid token is 401 APIGW.0301)', async () => {
    const keystoneLike: AuthStrategy = {
      name: 'keystone',
      async authenticate(headers, requestId) {
        if (headers['x-auth-token'] !== 'valid-token')
          throw new DomainError('unauthorized', 'The request you have made requires authentication.');
        return { requestId, userId: 'kuser', projectId: P1, roles: ['member'], isAdmin: false };
      },
    };
    const k = await probeApp(keystoneLike);
    try {
      const ok = await k.inject({ method: 'GET', url: `/v3/${P1}/vaults`, headers: { 'x-auth-token': 'valid-token' } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({ project: P1, user: 'kuser' });
      const bad = await k.inject({ method: 'GET', url: `/v3/${P1}/vaults`, headers: { 'x-auth-token': `alice:${P1}` } });
      expect(bad.statusCode).toBe(401);
      expect(bad.json().error_code).toBe('APIGW.0301');
    } finally {
      await k.close();
    }
  });
});
