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

/** Installations remembered, at most; only ones whose FIT verified are ever asked about. */
const REMEMBERED = 10_000;
/**
 * How long an installation found unlinked is taken as its own tenant without asking the store again. A Connect
 * install that links it on another node is seen within this long; the node that links it sees it at once.
 */
export const UNLINKED_MEMORY_MS = 30_000;

export function createInstallations(links: InstallationLinks, clock: Clock): Installations {
  // The tenant of each installation asked about, and until when an unlinked answer stands (linked ones stand).
  const known = new Map<string, { tenant: string; until: EpochMs }>();
  const remember = (installationId: string, tenant: string, until: EpochMs) => {
    if (!known.has(installationId) && known.size >= REMEMBERED) known.delete(known.keys().next().value as string);
    known.set(installationId, { tenant, until });
  };
  return {
    async link(installationId, clientKey) {
      await links.linkInstallation(installationId, clientKey, clock.now());
      remember(installationId, clientKey, Number.POSITIVE_INFINITY);
    },
    async tenantOf(installationId) {
      const cached = known.get(installationId);
      if (cached !== undefined && clock.now() < cached.until) return cached.tenant;
      const linked = await links.linkedTenant(installationId);
      // Every Forge call asks this; the store is asked once per window for an installation of its own.
      remember(installationId, linked ?? installationId, linked === null ? clock.now() + UNLINKED_MEMORY_MS : Number.POSITIVE_INFINITY);
      return linked ?? installationId;
    },
  };
}
