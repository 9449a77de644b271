/** Each tenant's session policy: read with its defaults, changed by an admin (audited, and every node re-reads it). */
import type { AuditLog } from './audit';
import type { EntryStates } from './entry-states';
import { describePolicy, describeProblem, policyProblems, type PolicyProblem } from './policy-rules';
import { settle, settleResult, type Settled, type StoreFailureReport } from '../base/result';
import type { Clock, Policy, TenantStore } from './types';

export interface TenantPolicy {
  policy: Policy;
  /** True while the tenant's admins never set one. */
  isDefault: boolean;
}

/**
 * A policy change: done, refused with every reason in an admin's words (`problem` is the first, in one sentence),
 * or not made because the store could not be written.
 */
export type PolicyChange =
  | { ok: true; value: Policy }
  | { ok: false; code: 'bad_request'; problem: string; problems: PolicyProblem[] }
  | { ok: false; code: 'store_unavailable' };

export interface Policies {
  get(clientKey: string): Promise<Settled<TenantPolicy>>;
  set(clientKey: string, policy: Policy, actor: string): Promise<PolicyChange>;
}

export interface PolicyDeps {
  store: TenantStore;
  clock: Clock;
  announce: EntryStates['announce'];
  audit: AuditLog;
  defaultPolicy: Policy;
  onStoreFailure: StoreFailureReport;
}

export function createPolicies(deps: PolicyDeps): Policies {
  const { store, clock, announce, audit } = deps;
  return {
    get: (clientKey) =>
      settle(deps.onStoreFailure, 'read policy', async () => {
        const policy = await store.getPolicy(clientKey);
        return policy === null ? { policy: deps.defaultPolicy, isDefault: true } : { policy, isDefault: false };
      }),

    set: (clientKey, policy, actor) => settleResult(deps.onStoreFailure, 'change policy', () => change(clientKey, policy, actor)),
  };

  async function change(clientKey: string, policy: Policy, actor: string): Promise<PolicyChange> {
    const problems = policyProblems(policy);
    if (problems.length > 0) return { ok: false, code: 'bad_request', problem: describeProblem(problems[0]), problems };
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
  }
}
