/** Tenant lifecycle: installed, enabled, disabled, uninstalled, and what each does to page tokens. */
import type { Allowlist, Revocation } from './allowlist';
import type { AuditLog } from './audit';
import { ok, settle, settleResult, type Settled, type StoreFailureReport } from '../base/result';
import type { Clock, Tenant, TenantStatus, TenantStore } from './types';

export interface TenantDeps {
  store: TenantStore;
  clock: Clock;
  allowlist: Allowlist;
  audit: AuditLog;
  onStoreFailure: StoreFailureReport;
}

/** What an install says beyond the site and its address. */
export interface InstallDetails {
  /** The shared secret differs from the one stored (the secret itself never reaches the core). */
  sharedSecretChanged: boolean;
}

/**
 * The site's address as the lifecycle call gives it; null when the call does not say (a Forge call for a
 * tenant adopted from Connect): the stored address stands. Only a tenant that has a record may be given null.
 */
export type SiteAddress = string | null;

export interface TenantLifecycle {
  /**
   * Enables the tenant. Revokes every token of the site first when it was inactive (a token may have
   * escaped its deactivation) or when its address changed (tokens were minted for another site);
   * null when nothing was revoked. `store_unavailable` when the store could not be read or written: the host
   * sends the call again, and each step is idempotent.
   */
  installed(clientKey: string, baseUrl: SiteAddress, details: InstallDetails): Promise<Settled<Revocation | null>>;
  enabled(clientKey: string, baseUrl: SiteAddress): Promise<Settled<Revocation | null>>;
  /** Revokes every page token of the tenant; says how many, and how many nodes confirmed. */
  disabled(clientKey: string, baseUrl: SiteAddress): Promise<Settled<Revocation>>;
  uninstalled(clientKey: string, baseUrl: SiteAddress): Promise<Settled<Revocation>>;
}

/** The host's lifecycle calls; disabling and uninstalling are also the statuses they leave. */
type LifecycleEvent = 'installed' | 'enabled' | 'disabled' | 'uninstalled';

export function createTenantLifecycle(deps: TenantDeps): TenantLifecycle {
  const { store, clock, allowlist, audit } = deps;
  // A revocation's own failure was reported where it happened; the tenant's reads and writes are reported here.
  const settled = <T>(verb: string, work: () => Promise<Settled<T>>) => settleResult(deps.onStoreFailure, verb, work);

  const note = (clientKey: string, actor: string, reason: string) =>
    audit.record({ at: clock.now(), kind: 'lifecycle', clientKey, accountId: null, actor, reason, resource: null, count: null, confirmation: null });

  /** Records the new status, audited under the lifecycle event that set it (an install enables, but says `installed`). */
  async function setStatus(tenant: Tenant | null, clientKey: string, baseUrl: SiteAddress, status: TenantStatus, event: LifecycleEvent): Promise<void> {
    const address = baseUrl ?? tenant?.baseUrl;
    if (address === undefined) throw new Error(`no address for tenant ${clientKey}, which has no record`);
    await store.putTenant({ clientKey, baseUrl: address, status, updatedAt: clock.now() });
    await note(clientKey, `lifecycle:${event}`, event);
  }

  /** Audits a change of address; true when there was one. */
  async function addressChanged(tenant: Tenant | null, baseUrl: SiteAddress, actor: string): Promise<boolean> {
    if (tenant === null || baseUrl === null || tenant.baseUrl === baseUrl) return false;
    await note(tenant.clientKey, actor, 'base_url_changed');
    return true;
  }

  // Status first, then revoke: a token minted in between is refused by its tenant status.
  async function deactivate(clientKey: string, baseUrl: SiteAddress, status: TenantStatus): Promise<Settled<Revocation>> {
    const actor = `lifecycle:${status}`;
    const tenant = await store.getTenant(clientKey);
    await addressChanged(tenant, baseUrl, actor);
    await setStatus(tenant, clientKey, baseUrl, status, status);
    return allowlist.revoke({ kind: 'tenant', clientKey }, { actor, reason: `tenant_${status}` });
  }

  async function activate(clientKey: string, baseUrl: SiteAddress, event: 'installed' | 'enabled'): Promise<Settled<Revocation | null>> {
    const actor = `lifecycle:${event}`;
    const tenant = await store.getTenant(clientKey);
    let reason: string | null = null;
    // A token minted while the tenant was being deactivated may have escaped that revocation; it must not come back.
    if (tenant !== null && tenant.status !== 'enabled') reason = `tenant_${tenant.status}`;
    // Tokens minted for the site at its old address belong to whoever held that address; none survive a move.
    if (await addressChanged(tenant, baseUrl, actor)) reason = 'tenant_base_url_changed';
    const revocation = reason === null ? ok(null) : await allowlist.revoke({ kind: 'tenant', clientKey }, { actor, reason });
    // Not enabled unless the revocation stood: the host's retry finds the site still inactive and revokes again.
    if (!revocation.ok) return revocation;
    await setStatus(tenant, clientKey, baseUrl, 'enabled', event);
    return revocation;
  }

  return {
    installed: (clientKey, baseUrl, details) =>
      settled('install site', async () => {
        if (details.sharedSecretChanged) await note(clientKey, 'lifecycle:installed', 'shared_secret_changed');
        return activate(clientKey, baseUrl, 'installed');
      }),
    enabled: (clientKey, baseUrl) => settled('enable site', () => activate(clientKey, baseUrl, 'enabled')),
    disabled: (clientKey, baseUrl) => settled('disable site', () => deactivate(clientKey, baseUrl, 'disabled')),
    uninstalled: (clientKey, baseUrl) => settled('uninstall site', () => deactivate(clientKey, baseUrl, 'uninstalled')),
  };
}

/** Whether a site has a record in `store`, in any status: what the page-token codec asks before deriving a key. */
export function tenantIn(store: TenantStore): (clientKey: string) => Promise<boolean> {
  return async (clientKey) => (await store.getTenant(clientKey)) !== null;
}

/** Whether a site has a record in `store`, in any status, as operators ask before acting on it by its client key. */
export function tenantKnown(store: TenantStore, onStoreFailure: StoreFailureReport): (clientKey: string) => Promise<Settled<boolean>> {
  const isTenant = tenantIn(store);
  return (clientKey) => settle(onStoreFailure, 'look up site', () => isTenant(clientKey));
}
