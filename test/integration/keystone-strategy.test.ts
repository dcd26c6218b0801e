import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/common/errors.js';
import { freePort } from '../../src/db/embedded.js';
import type { AuthStrategy } from '../../src/http/auth/auth-strategy.js';
import { createKeystoneStrategy, type KeystoneOptions } from '../../src/http/auth/keystone-strategy.js';
import { issueToken, revokeToken, startKeystone, type KeystoneEnv } from '../acceptance/harness/keystone.js';

// A real Keystone (Debian's package, scripts/keystone/start-keystone.sh). CI sets REQUIRE_KEYSTONE=1.
const available = existsSync('/usr/bin/keystone-manage') || process.env.REQUIRE_KEYSTONE === '1';

describe.skipIf(!available)('keystone strategy against a real Keystone', () => {
  let ks: KeystoneEnv;
  const strategies: AuthStrategy[] = [];

  beforeAll(async () => {
    ks = await startKeystone('http://127.0.0.1:8776/v3/%(project_id)s');
  }, 600_000);
  afterAll(async () => {
    await Promise.all(strategies.map((s) => s.close?.()));
    await ks?.stop();
  }, 120_000);

  function strategy(overrides: Partial<KeystoneOptions> = {}): AuthStrategy {
    const s = createKeystoneStrategy({
      url: ks.url,
      username: ks.service.username,
      password: ks.service.password,
      projectName: ks.service.project,
      userDomainName: 'Default',
      projectDomainName: 'Default',
      cacheSeconds: 300,
      maxCachedTokens: 100,
      renewBeforeMs: 120_000,
      timeoutMs: 10_000,
      ...overrides,
    });
    strategies.push(s);
    return s;
  }

  async function rejection(p: Promise<unknown>): Promise<DomainError> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DomainError);
    return err as DomainError;
  }

  it('maps a member token to its project, user and expanded roles', async () => {
    const token = await issueToken(ks, 'alice', ks.testPassword, 'cbt-alpha');
    const ctx = await strategy().authenticate({ 'x-auth-token': token }, 'req-1');
    expect(ctx).toMatchObject({ requestId: 'req-1', userId: ks.users.alice, projectId: ks.alphaProjectId, isAdmin: false });
    expect([...ctx.roles].sort()).toEqual(['member', 'reader']);
  });

  it('gives a reader only the reader role', async () => {
    const token = await issueToken(ks, 'rita', ks.testPassword, 'cbt-alpha');
    const ctx = await strategy().authenticate({ 'x-auth-token': token }, 'req-2');
    expect(ctx.userId).toBe(ks.users.rita);
    expect(ctx.roles).toEqual(['reader']);
    expect(ctx.isAdmin).toBe(false);
  });

  it('makes an admin token an admin context with the implied member and reader roles', async () => {
    const token = await issueToken(ks, 'admin', ks.adminPassword, 'admin');
    const ctx = await strategy().authenticate({ 'x-auth-token': token }, 'req-3');
    expect(ctx.isAdmin).toBe(true);
    expect(ctx.projectId).toBe(ks.adminProjectId);
    expect([...ctx.roles].sort()).toEqual(['admin', 'member', 'reader']);
  });

  it('rejects a missing and a made-up token as unauthorized with the Cinder message', async () => {
    const s = strategy();
    for (const headers of [{}, { 'x-auth-token': '' }, { 'x-auth-token': 'gAAAAABnot-a-real-token' }]) {
      const err = await rejection(s.authenticate(headers, 'req-4'));
      expect(err.kind).toBe('unauthorized');
      expect(err.message).toBe('The request you have made requires authentication.');
    }
  });

  it('rejects a revoked token at once when caching is off', async () => {
    const s = strategy({ cacheSeconds: 0 });
    const token = await issueToken(ks, 'bob', ks.testPassword, 'cbt-beta');
    expect((await s.authenticate({ 'x-auth-token': token }, 'r')).projectId).toBe(ks.betaProjectId);
    await revokeToken(ks, token);
    expect((await rejection(s.authenticate({ 'x-auth-token': token }, 'r'))).kind).toBe('unauthorized');
  });

  it('trusts a cached token for at most the cache lifetime after it is revoked', async () => {
    let now = Date.now();
    const s = strategy({ cacheSeconds: 30, now: () => now });
    const token = await issueToken(ks, 'bob', ks.testPassword, 'cbt-beta');
    await s.authenticate({ 'x-auth-token': token }, 'r');
    await revokeToken(ks, token);
    // Within the cache lifetime Keystone is not asked again (keystonemiddleware's trade-off too).
    expect((await s.authenticate({ 'x-auth-token': token }, 'r')).userId).toBe(ks.users.bob);
    now += 30_001;
    expect((await rejection(s.authenticate({ 'x-auth-token': token }, 'r'))).kind).toBe('unauthorized');
  });

  it('renews its own service token when Keystone stops accepting it', async () => {
    const s = strategy({ cacheSeconds: 0 });
    const token = await issueToken(ks, 'alice', ks.testPassword, 'cbt-alpha');
    await s.authenticate({ 'x-auth-token': token }, 'r');
    // Setting the service user's password (even to the same value) revokes its tokens.
    const admin = await issueToken(ks, 'admin', ks.adminPassword, 'admin');
    const users = (await (await fetch(`${ks.authUrl}/users?name=cinder`, { headers: { 'x-auth-token': admin } })).json()) as {
      users: { id: string }[];
    };
    const res = await fetch(`${ks.authUrl}/users/${users.users[0]!.id}`, {
      method: 'PATCH',
      headers: { 'x-auth-token': admin, 'content-type': 'application/json' },
      body: JSON.stringify({ user: { password: ks.service.password } }),
    });
    expect(res.status).toBe(200);
    // Revocation events have one-second resolution: a token issued in the same second counts as revoked.
    await new Promise((r) => setTimeout(r, 1100));
    const fresh = await issueToken(ks, 'alice', ks.testPassword, 'cbt-alpha');
    expect((await s.authenticate({ 'x-auth-token': fresh }, 'r')).userId).toBe(ks.users.alice);
  });

  it('answers unavailable, not unauthorized, when the service credentials are wrong', async () => {
    const s = strategy({ password: 'wrong-password' });
    const token = await issueToken(ks, 'alice', ks.testPassword, 'cbt-alpha');
    expect((await rejection(s.authenticate({ 'x-auth-token': token }, 'r'))).kind).toBe('unavailable');
  });

  it('answers unavailable when Keystone cannot be reached', async () => {
    const s = strategy({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 2000 });
    expect((await rejection(s.authenticate({ 'x-auth-token': 'whatever' }, 'r'))).kind).toBe('unavailable');
  });
});
