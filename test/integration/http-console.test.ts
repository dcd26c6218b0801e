import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleRoutes } from '../../src/routes/console.js';

/** The console's static route: a fixed set of built files, no path reaching the filesystem, no data. */
describe('GET /console/', () => {
  let app: FastifyInstance;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cbt-console-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>c</title>');
    writeFileSync(join(dir, 'main.js'), 'export {};');
    writeFileSync(join(dir, 'notes.txt'), 'not served');
    app = Fastify();
    await app.register(consoleRoutes, { dir, authStrategy: 'keystone' });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at /console/ with a same-origin-only CSP, and redirects /console', async () => {
    const r = await app.inject('/console/');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toContain("default-src 'self'");
    expect((await app.inject('/console')).headers.location).toBe('/console/');
    expect((await app.inject('/console/main.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('answers 404 for anything but the built files: other extensions, paths out of the folder', async () => {
    for (const path of ['/console/notes.txt', '/console/..%2Fpackage.json', '/console/%2e%2e/package.json', '/console/nope.js']) {
      expect((await app.inject(path)).statusCode, path).toBe(404);
    }
  });

  it('tells the sign-in page which credentials to ask for', async () => {
    expect((await app.inject('/console/settings.json')).json()).toEqual({ auth_strategy: 'keystone' });
  });

  it('has no Keystone token exchange without a Keystone (noauth)', async () => {
    const noauth = Fastify();
    await noauth.register(consoleRoutes, { dir, authStrategy: 'noauth' });
    const r = await noauth.inject({ method: 'POST', url: '/console/keystone-token', payload: { username: 'a' } });
    expect(r.statusCode).toBe(404);
    expect((await noauth.inject('/console/settings.json')).json()).toEqual({ auth_strategy: 'noauth' });
    await noauth.close();
  });
});
