/** Session policy: each tenant's timeouts and theft responses, their bounds, and the deadlines they set for an entry. */
import type { AllowlistEntry, EpochMs, Policy, TheftResponse } from './types';

export const POLICY_BOUNDS = { min: 60, max: 86_400 } as const;

/** One reason a policy is refused: the setting at fault and what it must be, in words an admin can act on. */
export interface PolicyProblem {
  field: keyof Policy;
  message: string;
}

/** Every reason a policy is refused, one per setting at fault; empty when it is acceptable. */
export function policyProblems(policy: Policy): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const field of ['idleTimeoutSeconds', 'absoluteLifetimeSeconds'] as const) {
    const value = policy[field];
    if (!Number.isInteger(value) || value < POLICY_BOUNDS.min || value > POLICY_BOUNDS.max) {
      problems.push({ field, message: `must be a whole number of seconds from ${POLICY_BOUNDS.min} to ${POLICY_BOUNDS.max}` });
    }
  }
  if (problems.length === 0 && policy.idleTimeoutSeconds > policy.absoluteLifetimeSeconds) {
    problems.push({ field: 'idleTimeoutSeconds', message: 'must not exceed absoluteLifetimeSeconds' });
  }
  for (const field of ['theftResponse', 'agentChangeResponse'] as const) {
    if (!THEFT_RESPONSES.includes(policy[field])) problems.push({ field, message: `must be one of ${THEFT_RESPONSES.join(', ')}` });
  }
  if (typeof policy.keyBinding !== 'boolean') problems.push({ field: 'keyBinding', message: 'must be true or false' });
  return problems;
}

/** A problem in one sentence that names its setting, as the API's message has always said it. */
export function describeProblem(problem: PolicyProblem): string {
  return `${problem.field} ${problem.message}`;
}

export const THEFT_RESPONSES: readonly TheftResponse[] = ['revoke', 'report'];

/** A policy in one line, as its change is audited. */
export function describePolicy(policy: Policy): string {
  return [
    `idle=${policy.idleTimeoutSeconds}s absolute=${policy.absoluteLifetimeSeconds}s`,
    `theft=${policy.theftResponse} agent-change=${policy.agentChangeResponse}`,
    `key-binding=${policy.keyBinding ? 'on' : 'off'}`,
  ].join(' ');
}

/** The moment an entry stops being usable whatever its use: its mint plus the absolute lifetime. */
export function absoluteDeadline(entry: AllowlistEntry, policy: Policy): EpochMs {
  return entry.createdAt + policy.absoluteLifetimeSeconds * 1000;
}

/** An entry last used at `lastSeenAt` is idle from this moment on. */
export function idleDeadline(lastSeenAt: EpochMs, policy: Policy): EpochMs {
  return lastSeenAt + policy.idleTimeoutSeconds * 1000;
}
