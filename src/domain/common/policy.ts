import type { RequestContext } from './context.js';
import { forbidden } from './errors.js';

/**
 * Cinder's default policies (https://opendev.org/openstack/cinder/src/branch/master/cinder/policies/), new defaults enforced:
 * reader may read, member may write, admin may do admin actions.
 * Visibility (another project's resource is a 404) is the queries' job, not this one's.
 */
export type PolicyLevel = 'reader' | 'member' | 'admin';

export const POLICY_RULES = {
  'backup:get_all': 'reader',
  'backup:get': 'reader',
  'backup:create': 'member',
  'backup:update': 'member',
  'backup:delete': 'member',
  'backup:restore': 'member',
  'backup:backup-import': 'admin',
  'backup:export-import': 'admin',
  'backup:backup_project_attribute': 'admin',
  'backup:verify': 'member',
  'volume_extension:backup_admin_actions:reset_status': 'admin',
  'volume_extension:backup_admin_actions:force_delete': 'admin',
  'volume:get_all_snapshots': 'reader',
  'volume:get_snapshot': 'reader',
  'volume_extension:extended_snapshot_attributes': 'reader',
  'volume:create_snapshot': 'member',
  'volume:update_snapshot': 'member',
  'volume:delete_snapshot': 'member',
  'volume:get_snapshot_metadata': 'reader',
  'volume:update_snapshot_metadata': 'member',
  'volume:delete_snapshot_metadata': 'member',
  'volume_extension:snapshot_admin_actions:reset_status': 'admin',
  'volume_extension:snapshot_admin_actions:force_delete': 'admin',
  'snapshot_extension:snapshot_actions:update_snapshot_status': 'member',
  'volume:create': 'member',
  'volume:get': 'reader',
  'volume:get_all': 'reader',
  'volume:update': 'member',
  'volume:delete': 'member',
  'volume:force_delete': 'admin',
  'volume:extend': 'member',
  'volume:extend_attached_volume': 'member',
  'volume:attach': 'member',
  'volume:detach': 'member',
  'volume:update_readonly_flag': 'member',
  'volume:data': 'member',
  'volume_extension:volume_admin_actions:force_delete': 'admin',
  'volume_extension:volume_admin_actions:reset_status': 'admin',
  'volume_extension:volume_tenant_attribute': 'reader',
  'volume_extension:volume_host_attribute': 'admin',
  'volume_extension:volume_mig_status_attribute': 'admin',
  'volume_extension:volume_image_metadata:show': 'reader',
  'volume_extension:volume_image_metadata:set': 'member',
  'volume_extension:volume_image_metadata:remove': 'member',
  'limits_extension:used_limits': 'reader',
  'volume_extension:quotas:show': 'reader',
  'volume_extension:quotas:update': 'admin',
  'volume_extension:quotas:delete': 'admin',
  'volume_extension:quota_classes': 'admin',
} as const satisfies Record<string, PolicyLevel>;

export type PolicyRule = keyof typeof POLICY_RULES;

/**
 * True when the caller passes `rule` for a resource owned by `targetProjectId`
 * (default: the caller's own project).
 */
export function allowed(ctx: RequestContext, rule: PolicyRule, targetProjectId: string = ctx.projectId): boolean {
  if (ctx.isAdmin) return true;
  const level = POLICY_RULES[rule];
  if (level === 'admin') return false;
  if (targetProjectId !== ctx.projectId) return false;
  return level === 'reader' ? ctx.roles.includes('reader') || ctx.roles.includes('member') : ctx.roles.includes('member');
}

/** Throws 403 "Policy doesn't allow <rule> to be performed." unless allowed. */
export function authorize(ctx: RequestContext, rule: PolicyRule, targetProjectId?: string): void {
  if (!allowed(ctx, rule, targetProjectId)) throw forbidden(rule);
}
