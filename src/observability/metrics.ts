/** Prometheus metrics over prom-client: one registry per app, fed by the core's observer and read from the bus on scrape. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AllowlistObserver } from '../allowlist/allowlist';
import type { LiveObserver } from '../allowlist/live-sessions';
import type { Clock, SessionListing } from '../allowlist/types';
import type { Bus } from '../bus/types';
import type { ReportObserver } from '../signals/personal-data';
import type { SsfObserver } from '../signals/ssf-receiver/receiver';
import type { SetState, SignalOutbox } from '../signals/ssf-transmitter/outbox';
import type { TransmitterObserver } from '../signals/ssf-transmitter/worker';
import type { PageTokenCodec } from '../tokens/page-token';

export interface MetricsDeps {
  bus: Bus;
  store: SessionListing;
  clock: Clock;
  tokens: Pick<PageTokenCodec, 'held'>;
}

/** Counting live sessions is a query over the whole allowlist; a scrape reuses a count this young. */
const LIVE_COUNT_MAX_AGE_MS = 15_000;

export interface Metrics {
  registry: Registry;
  observer: AllowlistObserver;
  sweptEntries: Counter;
  /** Bus messages dropped by reason: malformed, mac, stale, replayed. */
  busMessagesRejected: Counter<'reason'>;
  /** Reconciliation and personal data reporting (src/signals). */
  reconcile: ReportObserver;
  /** What the Shared Signals receiver reports: events taken, SETs refused. */
  ssf: SsfObserver;
  /** Open live channels and the endings they carried. */
  live: LiveObserver;
}

export function createMetrics({ bus, store, clock, tokens }: MetricsDeps): Metrics {
  // A registry of its own: tests run several apps in one process, and each must count only its own work.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'panelguard_' });

  // Checks and their cache lookups are counted in plain numbers and handed to their counters when scraped: a
  // labelled inc() builds and validates its label string on every call, a cost every guarded request paid.
  const checked = new PendingCounts();
  const looked = new PendingCounts();
  const checks = new Counter({
    name: 'panelguard_checks_total',
    help: 'Page-token checks by outcome: ok, or the deny code.',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      checked.drain((outcome, count) => this.inc({ outcome }, count));
    },
  });
  const checkSeconds = new Histogram({
    name: 'panelguard_check_duration_seconds',
    help: 'How long a check took, verification and entry lookup included.',
    buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [registry],
  });
  const mints = new Counter({
    name: 'panelguard_mints_total',
    help: 'Page tokens minted.',
    registers: [registry],
  });
  new Gauge({
    name: 'panelguard_entry_cache_hit_ratio',
    help: 'Share of entry-state lookups answered from the cache since the node started.',
    registers: [registry],
    // Derived from the lookups counter at scrape time, so the two can never disagree.
    async collect() {
      const { values } = await cacheLookups.get();
      const total = values.reduce((sum, sample) => sum + sample.value, 0);
      const hits = values.find((sample) => sample.labels.outcome === 'hit')?.value ?? 0;
      this.set(total === 0 ? 0 : hits / total);
    },
  });
  let liveCount: { at: number; value: number } | null = null;
  new Gauge({
    name: 'panelguard_live_sessions',
    help: 'Live page tokens (not revoked, not expired) over every tenant, recounted at most every 15 s.',
    registers: [registry],
    async collect() {
      const now = clock.now();
      if (liveCount === null || now - liveCount.at > LIVE_COUNT_MAX_AGE_MS) {
        try {
          liveCount = { at: now, value: await store.countLiveEntries(now) };
        } catch {
          // The store is away: /readyz says so; the gauge keeps its last count rather than failing the scrape.
          return;
        }
      }
      this.set(liveCount.value);
    },
  });
  const cacheLookups = new Counter({
    name: 'panelguard_entry_cache_lookups_total',
    help: 'Entry-state lookups by a check: hit (cache), miss (store, then cached) or bypass (store; cache not trusted while the bus is down).',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      looked.drain((outcome, count) => this.inc({ outcome }, count));
    },
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
    name: 'panelguard_page_token_cache_entries',
    help: "What the page-token codec holds, by cache: tenant_keys, unknown_tenants, verified_tokens. Each has a fixed bound.",
    labelNames: ['cache'] as const,
    registers: [registry],
    collect() {
      const held = tokens.held();
      this.set({ cache: 'tenant_keys' }, held.tenantKeys);
      this.set({ cache: 'unknown_tenants' }, held.unknownTenants);
      this.set({ cache: 'verified_tokens' }, held.verifiedTokens);
    },
  });
  const busMessagesRejected = new Counter({
    name: 'panelguard_bus_messages_rejected_total',
    help: 'Bus messages dropped unread: malformed, mac (did not verify), stale (outside the time window) or replayed.',
    labelNames: ['reason'] as const,
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

  const rotations = new Counter({
    name: 'panelguard_page_token_rotations_total',
    help: "Successor page tokens made current by their first use (one store write each).",
    registers: [registry],
  });
  const theftSignals = new Counter({
    name: 'panelguard_theft_signals_total',
    help: 'Theft signals by kind (fork, network_changed, agent_changed) and action (revoked, reported).',
    labelNames: ['kind', 'action'] as const,
    registers: [registry],
  });

  // Reconciliation with the host and Atlassian's personal data reporting (src/signals).
  const reconcileRuns = new Counter({
    name: 'panelguard_reconcile_runs_total',
    help: "Reconciliation runs over one tenant done by this node, by outcome: completed, host_error (nothing ended), rate_limited (tenant paused).",
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const usersChecked = new Counter({
    name: 'panelguard_reconcile_users_checked_total',
    help: 'Users with live sessions the host was asked about and answered for.',
    registers: [registry],
  });
  const usersEnded = new Counter({
    name: 'panelguard_reconcile_users_ended_total',
    help: "Users whose sessions reconciliation ended, by what the host said: inactive, gone (unknown to it), closed (personal data report).",
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const hostErrors = new Counter({
    name: 'panelguard_reconcile_host_errors_total',
    help: 'Questions the host could not answer (nothing was ended for them), by API (users, personal_data) and reason (unavailable, rate_limited).',
    labelNames: ['api', 'reason'] as const,
    registers: [registry],
  });
  const accountsReported = new Counter({
    name: 'panelguard_personal_data_accounts_reported_total',
    help: "Accounts reported to Atlassian's personal data reporting API.",
    registers: [registry],
  });
  const accountsUpdated = new Counter({
    name: 'panelguard_personal_data_accounts_updated_total',
    help: 'Reported accounts Atlassian said changed since (PanelGuard keeps no profile copy to refresh).',
    registers: [registry],
  });
  const ssfEvents = new Counter({
    name: 'panelguard_ssf_events_total',
    help: 'Events of accepted Security Event Tokens, by event (session-revoked, account-disabled... or unknown) and outcome (applied, stale, no_user, discarded, verified, ignored).',
    labelNames: ['event', 'outcome'] as const,
    registers: [registry],
  });
  const ssfRefused = new Counter({
    name: 'panelguard_ssf_sets_refused_total',
    help: 'Security Event Tokens refused, by RFC 8935 error code (invalid_request, invalid_key, invalid_issuer, invalid_audience, authentication_failed, access_denied) or unavailable.',
    labelNames: ['err'] as const,
    registers: [registry],
  });

  const liveChannels = new Gauge({
    name: 'panelguard_live_channels',
    help: 'Live channels (open pages watching their session) this node holds.',
    registers: [registry],
  });
  const liveEvents = new Counter({
    name: 'panelguard_live_events_total',
    help: 'Endings sent down live channels, by code.',
    labelNames: ['code'] as const,
    registers: [registry],
  });

  // Bound once: observe() on the histogram itself makes a closure for its labels on every call.
  const checkTimes = checkSeconds.labels();

  return {
    registry,
    sweptEntries,
    busMessagesRejected,
    reconcile: {
      ran: (outcome) => reconcileRuns.inc({ outcome }),
      checked: (count) => usersChecked.inc(count),
      ended: (status, count) => usersEnded.inc({ status }, count),
      hostError: (api, reason) => hostErrors.inc({ api, reason }),
      reported: (count) => accountsReported.inc(count),
      updated: (count) => accountsUpdated.inc(count),
    },
    ssf: {
      event: (event, outcome) => ssfEvents.inc({ event, outcome }),
      refused: (err) => ssfRefused.inc({ err }),
    },
    live: {
      watching: (count) => liveChannels.set(count),
      ended: (code) => liveEvents.inc({ code }),
    },
    observer: {
      cacheLookup: (outcome) => looked.add(outcome),
      checked(outcome, seconds) {
        checked.add(outcome);
        checkTimes.observe(seconds);
      },
      minted: () => mints.inc(),
      rotated: () => rotations.inc(),
      signalled: (kind, action) => theftSignals.inc({ kind, action }),
      revoked(cause, revocation) {
        revocations.inc({ reason: cause.reason });
        if (revocation.confirmation.confirmed < revocation.confirmation.expected) unconfirmed.inc();
      },
    },
  };
}

/**
 * The SSF transmitter's metrics, on the app's registry: the SETs the outbox holds (counted on scrape, over every
 * site), and what this node's push worker did with the ones it sent.
 */
export function createTransmitterMetrics(registry: Registry, outbox: Pick<SignalOutbox, 'countSets'>, clock: Clock): TransmitterObserver {
  let counted: { at: number; value: Record<SetState, number> } | null = null;
  new Gauge({
    name: 'panelguard_ssf_sets_queued',
    help: 'SETs in the outbox, by state: pending (waiting to be sent, or sent again) or failed (given up on); recounted at most every 15 s.',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const now = clock.now();
      if (counted === null || now - counted.at > LIVE_COUNT_MAX_AGE_MS) {
        try {
          counted = { at: now, value: await outbox.countSets() };
        } catch {
          // As the live-sessions gauge: the last count stands while the store is away.
          return;
        }
      }
      for (const [state, value] of Object.entries(counted.value)) this.set({ state }, value);
    },
  });
  const delivered = new Counter({
    name: 'panelguard_ssf_sets_delivered_total',
    help: 'SETs a receiver acknowledged (2xx): each leaves the outbox and is never sent again.',
    registers: [registry],
  });
  const retried = new Counter({
    name: 'panelguard_ssf_sets_retried_total',
    help: 'SET pushes that failed and will be tried again: 5xx, 429, 401, 403, timeouts, lost connections.',
    registers: [registry],
  });
  const failed = new Counter({
    name: 'panelguard_ssf_sets_failed_total',
    help: 'SETs given up on for good: the receiver refused them (400, or another 4xx that will not change).',
    registers: [registry],
  });
  return { delivered: () => delivered.inc(), retried: () => retried.inc(), failed: () => failed.inc() };
}

/** Counts by label value not yet handed to their counter; a scrape drains them, so the counter is never behind when read. */
class PendingCounts {
  private readonly counts = new Map<string, number>();

  add(value: string): void {
    this.counts.set(value, (this.counts.get(value) ?? 0) + 1);
  }

  drain(into: (value: string, count: number) => void): void {
    for (const [value, count] of this.counts) if (count > 0) into(value, count);
    this.counts.clear();
  }
}
