import type { CbrPolicyRow } from '../../../db/schema.js';
import { type ScheduleRule, nextTriggers, parsePatterns } from './rrule.js';

/** A policy's schedule as the scheduler reads it: its patterns, with the policy's creation as the INTERVAL anchor. */
export interface PolicySchedule {
  rules: ScheduleRule[];
  anchor: Date;
}

/** Throws DomainError 'invalid' for patterns that no longer parse (the scheduler logs and skips such a policy). */
export function policySchedule(policy: Pick<CbrPolicyRow, 'patterns' | 'created_at'>): PolicySchedule {
  return { rules: parsePatterns(policy.patterns), anchor: new Date(policy.created_at) };
}

/** How many upcoming instants a policy view lists. */
export const NEXT_RUN_COUNT = 5;

/**
 * The instants after `now` at which the scheduler will fire the policy (for each vault bound to it):
 * the same rules and anchor as `schedulerTick`, so the list is what the scheduler does, not a second
 * reading of the patterns. Empty for a disabled policy, or one whose patterns do not parse.
 */
export function nextRunTimes(policy: Pick<CbrPolicyRow, 'patterns' | 'created_at' | 'enabled'>, now: Date, count = NEXT_RUN_COUNT): Date[] {
  if (!policy.enabled) return [];
  try {
    const { rules, anchor } = policySchedule(policy);
    return nextTriggers(rules, anchor, now, count);
  } catch {
    return [];
  }
}
