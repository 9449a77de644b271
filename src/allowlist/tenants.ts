/** Tenant lifecycle: installed, enabled, disabled, uninstalled, and what each does to page tokens. */
import type { Allowlist, Revocation } from './allowlist';
import type { AuditLog } from './audit';
import type { Clock, Store, TenantStatus } from './types';

export interface TenantDeps {
  store: Store;
  clock: Clock;
  allowlist: Allowlist;
  audit: AuditLog;
}

export interface TenantLifecycle {
  /** Enables the tenant; when it was inactive, first revokes any token that escaped its deactivation (null otherwise). */
  installed(clientKey: string, baseUrl: string): Promise<Revocation | null>;
  enabled(clientKey: string, baseUrl: string): Promise<Revocation | null>;
  /** Revokes every page token of the tenant; says how many, and how many nodes confirmed. */
  disabled(clientKey: string, baseUrl: string): Promise<Revocation>;
  uninstalled(clientKey: string, baseUrl: string): Promise<Revocation>;
}

export function createTenantLifecycle(deps: TenantDeps): TenantLifecycle {
  const { store, clock, allowlist, audit } = deps;

  async function setStatus(clientKey: string, baseUrl: string, status: TenantStatus, actor: string): Promise<void> {
    const at = clock.now();
    await store.putTenant({ clientKey, baseUrl, status, updatedAt: at });
    audit.record({ at, kind: 'lifecycle', clientKey, accountId: null, actor, reason: status, resource: null, count: null, confirmation: null });
  }

  // Status first, then revoke: a token minted in between is refused by its tenant status.
  async function deactivate(clientKey: string, baseUrl: string, status: TenantStatus): Promise<Revocation> {
    await setStatus(clientKey, baseUrl, status, `lifecycle:${status}`);
    return allowlist.revoke({ kind: 'tenant', clientKey }, { actor: `lifecycle:${status}`, reason: `tenant_${status}` });
  }

  async function activate(clientKey: string, baseUrl: string, actor: string): Promise<Revocation | null> {
    const tenant = await store.getTenant(clientKey);
    let revocation: Revocation | null = null;
    if (tenant !== null && tenant.status !== 'enabled') {
      // A token minted while the tenant was being deactivated may have escaped that revocation; it must not come back.
      revocation = await allowlist.revoke({ kind: 'tenant', clientKey }, { actor, reason: `tenant_${tenant.status}` });
    }
    await setStatus(clientKey, baseUrl, 'enabled', actor);
    return revocation;
  }

  return {
    installed: (clientKey, baseUrl) => activate(clientKey, baseUrl, 'lifecycle:installed'),
    enabled: (clientKey, baseUrl) => activate(clientKey, baseUrl, 'lifecycle:enabled'),
    disabled: (clientKey, baseUrl) => deactivate(clientKey, baseUrl, 'disabled'),
    uninstalled: (clientKey, baseUrl) => deactivate(clientKey, baseUrl, 'uninstalled'),
  };
}
