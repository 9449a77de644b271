/** Prometheus metrics over prom-client: one registry per app, fed by the core's observer and read from the bus on scrape. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AllowlistObserver } from './allowlist/allowlist';
import type { Bus } from './bus/types';

export interface Metrics {
  registry: Registry;
  observer: AllowlistObserver;
  sweptEntries: Counter;
}

export function createMetrics(bus: Bus): Metrics {
  // A registry of its own: tests run several apps in one process, and each must count only its own work.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'panelguard_' });

  const cacheLookups = new Counter({
    name: 'panelguard_entry_cache_lookups_total',
    help: 'Entry-state lookups by a check: hit (cache), miss (store, then cached) or bypass (store; cache not trusted while the bus is down).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const revocations = new Counter({
    name: 'panelguard_revocations_total',
    help: 'Revocations by reason.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const unconfirmed = new Counter({
    name: 'panelguard_revocations_unconfirmed_total',
    help: 'Revocations that returned before every live node confirmed (the cache TTL bounds the staleness then).',
    registers: [registry],
  });
  const sweptEntries = new Counter({
    name: 'panelguard_swept_entries_total',
    help: 'Expired allowlist entries deleted by the sweep.',
    registers: [registry],
  });
  new Gauge({
    name: 'panelguard_bus_connected',
    help: '1 while this node hears every invalidation on the bus; 0 while it serves every check from the store.',
    registers: [registry],
    collect() {
      this.set(bus.isConnected() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'panelguard_cluster_nodes',
    help: 'Live nodes this node knows of, itself included.',
    registers: [registry],
    collect() {
      this.set(bus.liveNodes());
    },
  });

  return {
    registry,
    sweptEntries,
    observer: {
      cacheLookup: (outcome) => cacheLookups.inc({ outcome }),
      revoked(cause, revocation) {
        revocations.inc({ reason: cause.reason });
        if (revocation.confirmation.confirmed < revocation.confirmation.expected) unconfirmed.inc();
      },
    },
  };
}
