import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/common/errors.js';
import { createNoauthStrategy } from '../../src/http/auth/noauth-strategy.js';

const auth = (token: string | undefined, opts: Partial<Parameters<typeof createNoauthStrategy>[0]> = {}) =>
  createNoauthStrategy({ adminProjects: 'p-admin', memberRoles: 'member,reader', ...opts }).authenticate(
    token === undefined ? {} : { 'x-auth-token': token },
    'req-1',
  );

describe('noauth strategy', () => {
  it('parses user:project at the first colon', async () => {
    expect(await auth('u:p:q')).toMatchObject({ userId: 'u', projectId: 'p:q', requestId: 'req-1' });
  });

  it('uses the whole token as user and project when there is no colon', async () => {
    expect(await auth('abc')).toMatchObject({ userId: 'abc', projectId: 'abc' });
  });

  it('trims surrounding whitespace', async () => {
    expect(await auth('  u:p  ')).toMatchObject({ userId: 'u', projectId: 'p' });
  });

  it.each([undefined, '', ':', 'u:', ':p'])('refuses %j with unauthorized', async (token) => {
    await expect(auth(token)).rejects.toBeInstanceOf(DomainError);
    await expect(auth(token)).rejects.toMatchObject({ kind: 'unauthorized' });
  });

  it('makes callers of an admin project admins with admin, member and reader roles', async () => {
    expect(await auth('u:p-admin')).toMatchObject({ isAdmin: true, roles: ['admin', 'member', 'reader'] });
  });

  it('accepts several comma-separated admin projects', async () => {
    expect((await auth('u:p2', { adminProjects: 'p1, p2' })).isAdmin).toBe(true);
    expect((await auth('u:p3', { adminProjects: 'p1, p2' })).isAdmin).toBe(false);
  });

  it("'*' makes every caller an admin (Cinder's noauth)", async () => {
    expect((await auth('u:anything', { adminProjects: '*' })).isAdmin).toBe(true);
  });

  it('the admin token is an admin; any other token of that project is not', async () => {
    expect((await auth('ops:secret', { adminToken: 'ops:secret' })).isAdmin).toBe(true);
    expect((await auth('other:secret', { adminToken: 'ops:secret' })).isAdmin).toBe(false);
  });

  it('others get the configured member roles, lower-cased, and no admin', async () => {
    expect(await auth('u:p', { memberRoles: 'Member, Reader,extra' })).toMatchObject({
      isAdmin: false,
      roles: ['member', 'reader', 'extra'],
    });
  });
});
