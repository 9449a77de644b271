/**
 * Which tenant a Forge installation is. A Connect app adopted by Forge ("Connect on Forge") sends the
 * Forge installation id in its Connect install payload; that links the installation to the Connect
 * tenant (its clientKey), so its tokens, notes and policy carry over. Any other installation is a
 * tenant of its own, keyed by its installation id.
 */
import type { Clock, EpochMs } from '../allowlist/types';

/** The links between Forge installations and Connect tenants, as the store keeps them. */
export interface InstallationLinks {
  /** Links the installation to the Connect tenant; a later link for the same installation replaces it. */
  linkInstallation(installationId: string, clientKey: string, at: EpochMs): Promise<void>;
  /** The Connect tenant linked to the installation, or null. */
  linkedTenant(installationId: string): Promise<string | null>;
}

export interface Installations {
  /** The tenant key of the installation: its linked Connect clientKey, else the installation id itself. */
  tenantOf(installationId: string): Promise<string>;
  /** Records that the installation is the Connect tenant `clientKey` adopted by Forge. */
  link(installationId: string, clientKey: string): Promise<void>;
}

/** What a Forge installation id looks like (an ARI). */
export const INSTALLATION_ID = /^ari:cloud:ecosystem::installation\/[0-9a-f-]{36}$/;

/** Links found are kept (they change only at a Connect install); at most this many. */
const REMEMBERED = 10_000;

export function createInstallations(links: InstallationLinks, clock: Clock): Installations {
  const known = new Map<string, string>();
  return {
    async link(installationId, clientKey) {
      await links.linkInstallation(installationId, clientKey, clock.now());
      known.set(installationId, clientKey);
    },
    async tenantOf(installationId) {
      const cached = known.get(installationId);
      if (cached !== undefined) return cached;
      const tenant = (await links.linkedTenant(installationId)) ?? installationId;
      // Only linked installations are kept: an unlinked one may be linked by a Connect install on another node.
      if (tenant !== installationId) {
        if (known.size >= REMEMBERED) known.delete(known.keys().next().value as string);
        known.set(installationId, tenant);
      }
      return tenant;
    },
  };
}
