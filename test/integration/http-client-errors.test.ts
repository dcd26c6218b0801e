import { connect, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCbrApp } from '../../src/app.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

/**
 * Errors of Node's HTTP parser (before any route runs) still leave as each listener's error
 * bodies: Cinder fault bodies on the Cinder listener, CBR's error_code/error_msg on the CBR one.
 */
let t: TestApp;
let cbr: FastifyInstance;
let port: number;
let cbrPort: number;
beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
  cbr = await buildCbrApp(t.deps);
  await cbr.listen({ port: 0, host: '127.0.0.1' });
  cbrPort = (cbr.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await cbr?.close();
  await t?.close();
});

function raw(request: string, to = port): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(to, '127.0.0.1', () => s.write(request));
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (c) => (out += c));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

describe('client errors', () => {
  it('a header block over the limit is 431 with a Cinder fault body', async () => {
    const res = await raw(`GET /v3/x/volumes HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(res).toMatch(/^HTTP\/1\.1 431 /);
    const body = JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4));
    expect(Object.keys(body)).toHaveLength(1);
    const inner = Object.values(body)[0] as { code: number; message: string };
    expect(inner.code).toBe(431);
    expect(typeof inner.message).toBe('string');
  });

  it('a malformed request line is 400 badRequest', async () => {
    const res = await raw('GARBAGE\r\n\r\n');
    expect(res).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4))).toEqual({ badRequest: { code: 400, message: 'Malformed request.' } });
  });
});

describe('client errors on the CBR listener', () => {
  const bodyOf = (res: string) => JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4));

  it("a header block over the limit is 431 with CBR's error_code/error_msg body and an X-Request-Id", async () => {
    const res = await raw(`GET /v3/x/vaults HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, cbrPort);
    expect(res).toMatch(/^HTTP\/1\.1 431 /);
    expect(res).toMatch(/\r\nX-Request-Id: req-[0-9a-f-]{36}\r\n/i);
    expect(bodyOf(res)).toEqual({
      error_code: 'BackupService.9900',
      error_msg: 'Invalid parameter: The request line or headers are too large.',
    });
  });

  it("a malformed request line is 400 with CBR's body", async () => {
    const res = await raw('GARBAGE\r\n\r\n', cbrPort);
    expect(res).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(res)).toEqual({ error_code: 'BackupService.9900', error_msg: 'Invalid parameter: Malformed request.' });
  });
});
