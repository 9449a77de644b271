/** Each tenant's session policy: read with its defaults, changed by an admin (audited, and every node re-reads it). */
import type { AuditLog } from './audit';
import type { EntryStates } from './entry-states';
import { describePolicy, policyProblem } from './policy';
import type { Clock, Policy, TenantStore } from './types';

export interface TenantPolicy {
  policy: Policy;
  /** True while the tenant's admins never set one. */
  isDefault: boolean;
}

/** A policy change: done, or refused with the reason in an admin's words. */
export type PolicyChange = { ok: true; value: Policy } | { ok: false; code: 'bad_request'; problem: string };

export interface Policies {
  get(clientKey: string): Promise<TenantPolicy>;
  set(clientKey: string, policy: Policy, actor: string): Promise<PolicyChange>;
}

export interface PolicyDeps {
  store: TenantStore;
  clock: Clock;
  announce: EntryStates['announce'];
  audit: AuditLog;
  defaultPolicy: Policy;
}

export function createPolicies(deps: PolicyDeps): Policies {
  const { store, clock, announce, audit } = deps;
  return {
    async get(clientKey) {
      const policy = await store.getPolicy(clientKey);
      return policy === null ? { policy: deps.defaultPolicy, isDefault: true } : { policy, isDefault: false };
    },

    async set(clientKey, policy, actor) {
      const problem = policyProblem(policy);
      if (problem !== null) return { ok: false, code: 'bad_request', problem };
      const at = clock.now();
      await store.putPolicy(clientKey, policy, at);
      // Entry states are cached with their tenant's policy: every node re-reads them under the new one.
      const confirmation = await announce({ kind: 'tenant', clientKey });
      await audit.record({
        at,
        kind: 'policy',
        clientKey,
        accountId: null,
        actor,
        reason: describePolicy(policy),
        resource: null,
        count: null,
        confirmation,
      });
      return { ok: true, value: policy };
    },
  };
}
