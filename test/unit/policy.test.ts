import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../src/domain/common/context.js';
import { DomainError } from '../../src/domain/common/errors.js';
import { POLICY_RULES, type PolicyRule, allowed, authorize } from '../../src/domain/common/policy.js';

const OWN = 'aaaa0000';
const OTHER = 'bbbb1111';
const ctx = (roles: string[], isAdmin = false): RequestContext => ({ requestId: 'req-x', userId: 'u', projectId: OWN, roles, isAdmin });

const reader = ctx(['reader']);
const member = ctx(['member', 'reader']);
const admin = ctx(['admin', 'member', 'reader'], true);
const nobody = ctx([]);

const rules = Object.entries(POLICY_RULES) as Array<[PolicyRule, 'reader' | 'member' | 'admin']>;

describe('policy: one case per rule and caller', () => {
  it.each(rules)('%s (%s): an admin passes, in any project', (rule) => {
    expect(allowed(admin, rule)).toBe(true);
    expect(allowed(admin, rule, OTHER)).toBe(true);
  });

  it.each(rules)('%s (%s): a reader passes only reader rules in its own project', (rule, level) => {
    expect(allowed(reader, rule)).toBe(level === 'reader');
    expect(allowed(reader, rule, OTHER)).toBe(false);
  });

  it.each(rules)('%s (%s): a member passes reader and member rules in its own project', (rule, level) => {
    expect(allowed(member, rule)).toBe(level !== 'admin');
    expect(allowed(member, rule, OTHER)).toBe(false);
  });

  it.each(rules)('%s (%s): a caller without roles passes nothing', (rule) => {
    expect(allowed(nobody, rule)).toBe(false);
  });
});

describe('authorize', () => {
  it("throws 403 forbidden with Cinder's message", () => {
    expect(() => authorize(member, 'backup:backup-import')).toThrow(DomainError);
    try {
      authorize(member, 'backup:backup-import');
    } catch (err) {
      expect((err as DomainError).kind).toBe('forbidden');
      expect((err as DomainError).message).toBe("Policy doesn't allow backup:backup-import to be performed.");
    }
  });

  it("refuses a member acting on another project's resource", () => {
    expect(() => authorize(member, 'backup:create', OTHER)).toThrow(/backup:create/);
  });

  it('returns quietly when allowed', () => {
    expect(() => authorize(member, 'backup:create')).not.toThrow();
    expect(() => authorize(admin, 'volume:force_delete', OTHER)).not.toThrow();
  });

  it('admin-only rules are the ones Cinder reserves for admins', () => {
    const adminOnly = rules.filter(([, l]) => l === 'admin').map(([r]) => r);
    expect(adminOnly).toEqual(
      expect.arrayContaining([
        'backup:backup-import',
        'backup:export-import',
        'volume_extension:backup_admin_actions:reset_status',
        'volume_extension:backup_admin_actions:force_delete',
        'volume:force_delete',
        'volume_extension:quotas:update',
      ]),
    );
    expect(POLICY_RULES['backup:create']).toBe('member');
    expect(POLICY_RULES['backup:get_all']).toBe('reader');
  });
});
