/** Tenant lifecycle: installed, enabled, disabled, uninstalled, and what each does to page tokens. */
import type { Allowlist } from './allowlist';
import type { Clock, Store, TenantStatus } from './types';

export interface TenantDeps {
  store: Store;
  clock: Clock;
  allowlist: Allowlist;
}

export interface TenantLifecycle {
  installed(clientKey: string, baseUrl: string): Promise<void>;
  enabled(clientKey: string, baseUrl: string): Promise<void>;
  /** Returns how many page tokens were revoked. */
  disabled(clientKey: string, baseUrl: string): Promise<number>;
  /** Returns how many page tokens were revoked. */
  uninstalled(clientKey: string, baseUrl: string): Promise<number>;
}

export function createTenantLifecycle(deps: TenantDeps): TenantLifecycle {
  const { store, clock, allowlist } = deps;

  const setStatus = (clientKey: string, baseUrl: string, status: TenantStatus) =>
    store.putTenant({ clientKey, baseUrl, status, updatedAt: clock.now() });

  // Status first, then revoke: a token minted in between is refused by its tenant status.
  async function deactivate(clientKey: string, baseUrl: string, status: TenantStatus): Promise<number> {
    await setStatus(clientKey, baseUrl, status);
    return allowlist.revoke({ kind: 'tenant', clientKey }, { actor: `lifecycle:${status}`, reason: `tenant_${status}` });
  }

  async function activate(clientKey: string, baseUrl: string, actor: string): Promise<void> {
    const tenant = await store.getTenant(clientKey);
    if (tenant !== null && tenant.status !== 'enabled') {
      // A token minted while the tenant was being deactivated may have escaped that revocation; it must not come back.
      await allowlist.revoke({ kind: 'tenant', clientKey }, { actor, reason: `tenant_${tenant.status}` });
    }
    await setStatus(clientKey, baseUrl, 'enabled');
  }

  return {
    installed: (clientKey, baseUrl) => activate(clientKey, baseUrl, 'lifecycle:installed'),
    enabled: (clientKey, baseUrl) => activate(clientKey, baseUrl, 'lifecycle:enabled'),
    disabled: (clientKey, baseUrl) => deactivate(clientKey, baseUrl, 'disabled'),
    uninstalled: (clientKey, baseUrl) => deactivate(clientKey, baseUrl, 'uninstalled'),
  };
}
