/** Figure 3's sizes, and the names and markers the seeded rows carry so that each phase finds its own. */

export type ScaleStore = 'sqlite' | 'postgres';

export interface ScalePlan {
  /** Live entries seeded before anything is measured; exactly these are later expired and swept. */
  entries: number;
  tenants: number;
  /** Users whose revocation is timed, one per tenant (tenants 1, 2, 3...), each holding this many entries. */
  revokedUsers: number;
  tokensPerRevokedUser: number;
  /**
   * Cache-miss checks: a warm-up, then the timed ones; every token is checked once. The warm-up is long because a
   * fresh process's first few thousand store reads are several times slower at the tail than a running node's, even
   * on pages already cached (the runtime warming up); its own distribution is reported beside the figure.
   */
  missWarmup: number;
  missSamples: number;
  /** The app's CACHE_MAX_ENTRIES; null keeps the configured default (100,000). */
  cacheMaxEntries: number | null;
  /** Distinct tokens checked to fill the cache: more than it holds. */
  cacheFill: number;
  /** Live entries beyond `entries`, never expired: what the checks during the sweep use. */
  sweepChecks: number;
  mintWarmupSeconds: number;
  mintSeconds: number;
  mintConnections: number;
  /** Rows per seeding request, so that progress can be reported between them. */
  seedChunk: number;
  /** How often the app writes last-seen times behind (LAST_SEEN_FLUSH_SECONDS). */
  lastSeenFlushSeconds: number;
}

export function scalePlan(quick: boolean): ScalePlan {
  if (quick) {
    return {
      entries: 20_000,
      tenants: 20,
      revokedUsers: 3,
      tokensPerRevokedUser: 2_000,
      missWarmup: 3_000,
      missSamples: 1_000,
      cacheMaxEntries: 5_000,
      cacheFill: 5_500,
      sweepChecks: 1_000,
      mintWarmupSeconds: 1,
      mintSeconds: 3,
      mintConnections: 10,
      seedChunk: 10_000,
      lastSeenFlushSeconds: 5,
    };
  }
  return {
    entries: 1_000_000,
    tenants: 1_000,
    revokedUsers: 3,
    tokensPerRevokedUser: 10_000,
    missWarmup: 5_000,
    missSamples: 4_000,
    cacheMaxEntries: null,
    cacheFill: 110_000,
    sweepChecks: 5_000,
    mintWarmupSeconds: 2,
    mintSeconds: 10,
    mintConnections: 10,
    seedChunk: 100_000,
    lastSeenFlushSeconds: 15,
  };
}

/** What every measurement's note says about the data it ran on. */
export function sizeNote(plan: ScalePlan, quick: boolean): string {
  const sizes = `${plan.entries.toLocaleString('en-US')} entries / ${plan.tenants.toLocaleString('en-US')} tenants`;
  return quick ? `quick run, ${sizes} (indicative only)` : sizes;
}

/** Page tokens live an hour (the longest PAGE_TOKEN_TTL_SECONDS allows), so seeded ones stay live for the whole run. */
export const TOKEN_TTL_SECONDS = 3_600;

export function tenantKey(index: number): string {
  return `bench-tenant-${String(index).padStart(4, '0')}`;
}

/** The tenant the host simulator installs for real (mints land there); the revoked users live in the next ones. */
export const SIMULATED_TENANT = tenantKey(0);

export function revokedUser(index: number): { clientKey: string; accountId: string } {
  return { clientKey: tenantKey(1 + index), accountId: `557058:bench-revoked-${index}` };
}

/**
 * The address each seeded row was "minted" from (documentation range, RFC 5737): the expiry step finds the
 * rows it must expire by it, and leaves the sweep's own live entries and every real mint alone.
 */
export const SEEDED_IP = '192.0.2.1';
export const SWEEP_CHECK_IP = '192.0.2.2';
export const SEEDED_USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
