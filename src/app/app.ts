/** The composition root: the one place that picks implementations and builds the app from configuration. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { apiRoutes } from '../../routes/api';
import { descriptorRoutes } from '../../routes/descriptor';
import { errorHandler, notFound } from '../../routes/error-handler';
import { healthRoutes } from '../../routes/health';
import { lifecycleRoutes } from '../../routes/lifecycle';
import { panelRoutes } from '../../routes/panels';
import { adminRoutes } from '../../routes/admin';
import { compromisedRoutes } from '../../routes/compromised';
import { meRoutes } from '../../routes/me';
import { pageNames } from '../../routes/names';
import { forgeRoutes } from '../../routes/forge';
import { createGuard, type Guard } from '../../routes/guard';
import { pageCredentials, type ForgeDoor } from '../../routes/page-credentials';
import { pageMinter } from '../../routes/page-mint';
import { pageModuleRoutes } from '../../routes/page-modules';
import { pageRoutes } from '../../routes/pages';
import { securityHeaders } from '../../routes/security-headers';
import { webhookRoutes } from '../../routes/webhooks';
import { liveRoutes } from '../../routes/live';
import { ssfEventRoutes } from '../../routes/ssf-events';
import { ssfStreamRoutes } from '../../routes/ssf-streams';
import { transmitterRoutes } from '../../routes/ssf-transmitter';
import { loadViews, PUBLIC_DIR } from '../../views/views';
import type { Allowlist, Revocation } from '../allowlist/allowlist';
import { storeAuditLog, type AuditLog } from '../allowlist/audit';
import { createCore, DEFAULT_LIVE, type Core } from '../allowlist/assemble';
import type { EntryStates } from '../allowlist/entry-states';
import type { Removals } from '../allowlist/removals';
import { tenantIn, type TenantLifecycle } from '../allowlist/tenants';
import { systemClock } from '../base/clock';
import type { StoreFailureReport } from '../base/result';
import type { Clock } from '../allowlist/types';
import { createSweeper } from '../allowlist/sweeper';
import { ClusterBus } from '../bus/cluster-bus';
import { MemoryBus } from '../bus/memory-bus';
import { PostgresTransport } from '../bus/postgres-transport';
import { RedisTransport } from '../bus/redis-transport';
import { SealedTransport, type RejectedReason } from '../bus/sealed-transport';
import type { Transport } from '../bus/transport';
import type { Bus } from '../bus/types';
import { NodeEntryCache } from '../cache/entry-cache';
import type { Config } from './config';
import { createAddon, type AddOn } from '../connect/addon';
import { createFitVerifier } from '../forge/fit-verifier';
import { createInstallations } from '../forge/installations';
import { forgeSiteAdmins } from '../forge/site-admins';
import { hostSiteAdmins } from '../connect/site-admins';
import { hostDirectory } from '../connect/host-directory';
import { connectPersonalDataReports } from '../connect/personal-data-reports';
import { createPersonalDataReporter } from '../signals/personal-data';
import { createReconciler, tickMs } from '../signals/reconcile';
import { hostUserLookup } from '../connect/user-search';
import { connectHostNames } from '../connect/host-names';
import { forgeHostNames } from '../forge/host-names';
import { NameResolver } from '../names/names';
import { OperatorTokens } from '../tokens/operator-tokens';
import { createLogger, type Logger } from '../observability/logger';
import { createNotes } from '../notes/notes';
import { PROJECT_ROOT } from './paths';
import { createSsfReceiver } from '../signals/ssf-receiver/receiver';
import { createStreamAdmin } from '../signals/ssf-receiver/streams';
import { createTransmitterKeys } from '../signals/ssf-receiver/transmitters';
import { createMetrics, createTransmitterMetrics, type Metrics } from '../observability/metrics';
import { createReceiverAdmin } from '../signals/ssf-transmitter/receivers';
import { setSigner } from '../signals/ssf-transmitter/set';
import { signingKeySource } from '../signals/ssf-transmitter/signing-key';
import { createPushWorker, type PushWorker } from '../signals/ssf-transmitter/worker';
import type { AppStore } from '../store/app-store';
import { openSequelizeStore, SequelizeStore } from '../store/sequelize-store';
import { createPageTokenCodec } from '../tokens/page-token';
import { createProofVerifier } from '../tokens/proof-of-possession';
import { randomFraction, randomId } from '../tokens/random';

/** How long a stopping node lets requests in flight finish. */
const DRAIN_MS = 5_000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** How long the host's word on who is a site admin is kept. */
const SITE_ADMIN_TTL_SECONDS = 30;
/** People's names and issues' keys are kept this long (a rename shows within it), this many at most across sites. */
const NAMES_TTL_SECONDS = 300;
const NAMES_MAX_ENTRIES = 50_000;
/** A page waits this long for the host to name its rows, then shows ids. */
const NAMES_TIMEOUT_MS = 1_500;
/** Repeated denials (one user, reason and resource) within this window are one audit record with a count. */
const DENIAL_AUDIT_WINDOW_MS = 5_000;

/** What the app keeps, in one database: every role of the store, each handed below to the code that uses it. */
export type { AppStore };

export interface AppOverrides {
  clock?: Clock;
  store?: AppStore;
  logger?: Logger;
  /**
   * A vendor's own routes, mounted after PanelGuard's and before its 404: put them behind
   * `guard.page(resourceOf)` (routes/guard.ts) to serve them to page tokens only, from either front door.
   */
  routes?: (parts: { allowlist: Allowlist; addon: AddOn; guard: Guard; baseUrl: string }) => express.Router;
}

export interface RunningApp {
  /** Where the host reaches the app (the descriptor's baseUrl). */
  baseUrl: string;
  port: number;
  addon: AddOn;
  allowlist: Allowlist;
  /** This node's cache of entry states (benchmarks forget them to time misses). */
  states: EntryStates;
  removals: Removals;
  tenants: TenantLifecycle;
  store: AppStore;
  bus: Bus;
  audit: AuditLog;
  logger: Logger;
  /** This node's SSF push worker (tests run a round with it rather than wait for the poll). */
  transmitter: PushWorker;
  close(): Promise<void>;
}

export async function startApp(config: Config, overrides: AppOverrides = {}): Promise<RunningApp> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  // ACE reads the install-key server from the environment at request time, not from its options.
  if (config.connectKeysCdnUrl !== null) process.env.CONNECT_KEYS_CDN_URL = config.connectKeysCdnUrl;

  const store = overrides.store ?? (await openSequelizeStore(config.databaseUrl));
  const server = http.createServer();
  server.keepAliveTimeout = 5_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const baseUrl = config.appBaseUrl ?? `http://localhost:${port}`;

  // ACE registers its own routes (descriptor, webhooks that answer before work is done) on this app,
  // which is never mounted: every route PanelGuard answers is declared below, in routes/.
  const aceApp = express();
  const addon = createAddon({ aceApp, baseUrl, production: config.nodeEnv === 'production', store, logger, projectRoot: PROJECT_ROOT });

  // The push worker is made below, with the metrics this opens; a revocation that ended something wakes it.
  let wakeTransmitter = (): void => undefined;
  const onRevoked = (revocation: Revocation): void => {
    if (revocation.count > 0) wakeTransmitter();
  };
  const opened = openCore(config, { store, clock, logger, appKey: addon.key, onRevoked });
  const { bus, metrics } = opened;
  const { allowlist, removals, tenants } = opened.core;
  const core = opened.core;
  const sweeper = createSweeper({ store, clock, auditRetentionMs: config.auditRetentionDays * DAY_MS, onStoreFailure: core.onStoreFailure });
  const sweepTimer = every(config.sweepIntervalSeconds, async () => {
    const swept = await sweeper.sweep();
    if (swept.ok) metrics.sweptEntries.inc(swept.value.entries);
    else logger.warn({ code: swept.code }, 'expiry sweep failed; the next one retries');
  });
  // Last-seen times are written behind: at most one write per token per interval, whatever its traffic.
  const flushTimer = every(config.lastSeenFlushSeconds, async () => {
    const flushed = await core.flushLastSeen();
    if (!flushed.ok) logger.warn({ code: flushed.code }, 'last-seen flush failed; the next one retries');
  });
  // What the host never said: users removed while their webhook was lost, accounts closed (src/signals).
  const signals = startSignals(config, { store, clock, removals, addon, metrics, logger, onStoreFailure: core.onStoreFailure });
  const notes = createNotes(store, clock);

  // Shared Signals: every node pushes the SETs that revocations queued, signed with the one key the cluster shares.
  const signingKey = signingKeySource(config.ssf.signingKey, config.dataDir);
  const transmitter = createPushWorker({
    outbox: store,
    sign: setSigner(baseUrl, signingKey),
    clock,
    random: randomFraction,
    retry: { baseMs: config.ssf.retryBaseMs, maxMs: config.ssf.retryMaxMs },
    pollMs: config.ssf.pollMs,
    log: logger.child({ component: 'ssf-transmitter' }),
    observer: createTransmitterMetrics(metrics.registry, store, clock),
  });
  wakeTransmitter = () => transmitter.nudge();
  transmitter.start();

  const views = loadViews();
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(securityHeaders());
  // Bodies are parsed only on routes that take one (routes/body.ts); an empty object stands in elsewhere,
  // because ACE's middleware reads req.body.jwt without a guard, on vendors' routes too.
  app.use((req, _res, next) => {
    req.body ??= {};
    next();
  });
  app.use(pageModuleRoutes());
  app.use('/public', express.static(PUBLIC_DIR, { index: false, maxAge: '1h' }));
  app.use(healthRoutes({ store, bus, nodeName: config.nodeName, registry: metrics.registry, metricsToken: config.metricsToken }));
  app.use(descriptorRoutes(addon));
  const installations = createInstallations(store, clock);
  app.use(lifecycleRoutes({ addon, tenants, replays: core.replays, installations, log: logger }));
  app.use(webhookRoutes({ addon, removals, replays: core.replays, log: logger }));
  // Shared Signals: SETs pushed by the identity providers a site's streams name (RFC 8935). Plain http transmitters
  // only outside production.
  const transmitters = createTransmitterKeys({ clock, allowHttp: config.nodeEnv !== 'production', jwksCooldownMs: config.ssfJwksCooldownMs });
  const ssfReceiver = createSsfReceiver({
    streams: store,
    tenants: store,
    ledger: store,
    transmitters,
    users: hostUserLookup(addon),
    allowlist,
    removals,
    audit: opened.audit,
    clock,
    observer: metrics.ssf,
    onStoreFailure: core.onStoreFailure,
  });
  app.use(ssfEventRoutes({ receiver: ssfReceiver, log: logger }));
  const mintPage = pageMinter(allowlist, views);
  app.use(panelRoutes(addon, mintPage, views));
  app.use(pageRoutes({ addon, mintPage, siteAdmins: hostSiteAdmins(addon, { ttlSeconds: SITE_ADMIN_TTL_SECONDS }), views, log: logger }));
  // The Forge front door opens only where FORGE_APP_ID says which app's FITs to accept.
  const forge: ForgeDoor | null =
    config.forgeAppId === null
      ? null
      : { fits: createFitVerifier({ appId: config.forgeAppId, jwksUrl: config.forgeJwksUrl, clock }), installations };
  if (forge !== null) {
    app.use(forgeRoutes({ door: forge, allowlist, removals, tenants, replays: core.replays, siteAdmins: forgeSiteAdmins({ ttlSeconds: SITE_ADMIN_TTL_SECONDS }), baseUrl, log: logger }));
  }
  const guard = createGuard(allowlist, pageCredentials(forge), baseUrl);
  const nameResolver = new NameResolver({
    ttlSeconds: NAMES_TTL_SECONDS,
    maxEntries: NAMES_MAX_ENTRIES,
    timeoutMs: NAMES_TIMEOUT_MS,
    onFailure: ({ tenant, what, code, error }) => logger.warn({ err: error, tenant, what, code }, 'the host could not name what a page lists; it shows ids'),
  });
  const hasClientInfo = async (clientKey: string) => (await store.getSetting(clientKey, 'clientInfo')) !== null;
  const names = pageNames(nameResolver, {
    connect: (clientKey) => connectHostNames(addon, clientKey, { hasCredentials: hasClientInfo }),
    forge: (api) => forgeHostNames(api),
  });
  app.use(apiRoutes(guard, notes, names, logger));
  // Open pages hear at once when their session ends, by a stream or a long poll (docs/DESIGN.md, "Live channel").
  const channels = liveRoutes({ guard, live: core.live, pollMs: config.livePollMs });
  app.use(channels.router);
  app.use(meRoutes({ guard, sessions: core.sessions, lastSeen: core.lastSeen, names, prefixes: config.networkPrefixes, log: logger }));
  const operators = new OperatorTokens(config.operatorTokens);
  // Before the admin routes, which would otherwise authenticate these calls once more on their way past.
  app.use(
    ssfStreamRoutes({
      guard,
      operators,
      streams: createStreamAdmin({ store, clock, baseUrl, allowHttp: config.nodeEnv !== 'production', transmitters, audit: opened.audit, onStoreFailure: core.onStoreFailure }),
      baseUrl,
      log: logger,
    }),
  );
  // Before the admin routes: it answers under /api/admin to the same callers, and checks their credentials itself.
  app.use(compromisedRoutes({ guard, operators, leaks: { lookup: store, allowlist, clock, onStoreFailure: core.onStoreFailure }, log: logger }));
  // Before the admin routes, which would otherwise check the caller a second time on the way to their 404.
  app.use(
    transmitterRoutes({
      issuer: baseUrl,
      signingKey,
      receivers: createReceiverAdmin({ store, clock, audit: opened.audit, onStoreFailure: core.onStoreFailure }),
      guard,
      operators,
      production: config.nodeEnv === 'production',
      log: logger,
    }),
  );
  app.use(
    adminRoutes({
      guard,
      operators,
      sessions: core.sessions,
      policies: core.policies,
      auditTrail: core.auditTrail,
      lastSeen: core.lastSeen,
      names,
      prefixes: config.networkPrefixes,
      log: logger,
    }),
  );
  if (overrides.routes !== undefined) app.use(overrides.routes({ allowlist, addon, guard, baseUrl }));
  app.use(notFound);
  app.use(errorHandler(logger, views));
  server.on('request', app);
  const inFlight = countRequests(server);

  return {
    baseUrl,
    port,
    addon,
    allowlist,
    states: opened.core.states,
    removals,
    tenants,
    store,
    bus,
    audit: opened.audit,
    logger,
    transmitter,
    async close() {
      if (sweepTimer !== null) clearInterval(sweepTimer);
      if (flushTimer !== null) clearInterval(flushTimer);
      const signalsStopped = signals.stop();
      // Pushes in flight are cut short and what the worker holds is released: the next node to look sends it at once.
      await transmitter.stop();
      // Streams would otherwise hold the drain below for its whole bound; their pages reconnect to another node.
      channels.closeAll();
      // Stop accepting, let requests in flight finish (a revocation mid-broadcast, say), then close every
      // connection: kept-alive ones would otherwise hold the server open for their idle timeout.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.race([inFlight.drained(), new Promise((resolve) => setTimeout(resolve, DRAIN_MS).unref())]);
      server.closeAllConnections();
      await closed;
      // What the last interval noted is written before the store closes.
      const flushed = await core.flushLastSeen();
      if (!flushed.ok) logger.warn({ code: flushed.code }, 'final last-seen flush failed');
      await signalsStopped;
      await opened.close();
      await store.close();
      nameResolver.close();
    },
  };
}

export interface OpenedCore {
  core: Core;
  bus: Bus;
  metrics: Metrics;
  audit: AuditLog;
  /** Leaves the bus and writes what the audit still holds; the store stays open (its opener closes it). */
  close(): Promise<void>;
}

/** The core on a store, with the bus, cache, audit and metrics configuration names: for the server and the operator CLI alike. */
export function openCore(
  config: Config,
  deps: { store: AppStore; clock: Clock; logger: Logger; appKey: string; onRevoked?: (revocation: Revocation) => void },
): OpenedCore {
  const { store, clock, logger } = deps;
  // Rejected bus messages are counted in metrics made just below; none can arrive before this function returns.
  const bus = openBus(config, store, clock, logger, (reason) => metrics.busMessagesRejected.inc({ reason }));
  const tokens = createPageTokenCodec({ secret: config.pageTokenSecret, appKey: deps.appKey, clock, isTenant: tenantIn(store) });
  const metrics = createMetrics({ bus, store, clock, tokens });
  const cache = new NodeEntryCache({ ttlSeconds: config.cacheTtlSeconds, maxEntries: config.cacheMaxEntries });
  const audit = storeAuditLog(store, {
    onError: (error) => logger.error({ err: error }, 'audit write failed'),
    denialWindowMs: DENIAL_AUDIT_WINDOW_MS,
  });
  const core = createCore({
    store,
    ledger: store,
    cache,
    bus,
    clock,
    tokens,
    audit,
    ttlSeconds: config.pageTokenTtlSeconds,
    idleTimeoutSeconds: config.idleTimeoutSeconds,
    rotation: config.rotation,
    prefixes: config.networkPrefixes,
    proofs: createProofVerifier({ clock }),
    observer:
      deps.onRevoked === undefined
        ? metrics.observer
        : {
            ...metrics.observer,
            revoked(cause, revocation) {
              metrics.observer.revoked(cause, revocation);
              deps.onRevoked?.(revocation);
            },
          },
    live: { max: config.liveChannelsMax, perSession: DEFAULT_LIVE.perSession, observer: metrics.live },
    // The one log line for a store failure a verb answered as store_unavailable: the error holds ids only as hashes.
    onStoreFailure: (verb, error) => logger.error({ err: error, verb }, 'store failed; answered store_unavailable'),
  });
  return {
    core,
    bus,
    metrics,
    audit,
    async close() {
      core.detach();
      cache.close();
      await bus.close();
      await audit.drain();
    },
  };
}

/** The bus named by BUS: in-process for one node, or a cluster bus over PostgreSQL LISTEN/NOTIFY or Redis pub/sub. */
function openBus(config: Config, store: AppStore, clock: Clock, logger: Logger, onRejected: (reason: RejectedReason) => void): Bus {
  if (config.bus === 'memory') return new MemoryBus();
  const log = logger.child({ bus: config.bus });
  // While the server is away, clients retry and heartbeats fail every second: report each kind of
  // failure once per change of connection, not once per attempt.
  const reported = new Set<string>();
  const report = (error: unknown, what: string) => {
    if (reported.has(what)) return;
    reported.add(what);
    log.warn({ err: error }, what);
  };
  const onError = (error: unknown) => report(error, 'bus connection failed; retrying');
  let transport: Transport;
  if (config.bus === 'redis') {
    if (config.redisUrl === null) throw new Error('BUS=redis needs REDIS_URL');
    transport = new RedisTransport({ url: config.redisUrl, channel: config.busChannel, onError });
  } else {
    if (!(store instanceof SequelizeStore) || store.dialect !== 'postgres') throw new Error('BUS=postgres needs the PostgreSQL store');
    transport = new PostgresTransport({
      connectionString: config.databaseUrl,
      channel: config.busChannel,
      notify: (channel, payload) => store.notify(channel, payload),
      onError,
    });
  }
  // Sealed: whoever else can publish on the channel cannot forge or replay what nodes tell each other.
  const sealed = new SealedTransport(transport, { secret: config.pageTokenSecret, channel: config.busChannel, clock, onRejected });
  const bus = new ClusterBus(sealed, {
    nodeId: `${config.nodeName}/${randomId()}`,
    clock,
    confirmMs: config.revocationConfirmMs,
    heartbeatMs: config.heartbeatMs,
    onError: report,
  });
  bus.onConnectionChange((connected) => {
    reported.clear();
    if (connected) {
      log.info('bus connected: cache flushed and trusted again');
    } else {
      log.warn('bus lost: serving every check from the store');
    }
  });
  bus.start();
  return bus;
}

/** Counts requests being answered, so a stopping server knows when the last one is done. */
function countRequests(server: http.Server): { drained(): Promise<void> } {
  let open = 0;
  let waiting: (() => void) | null = null;
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    open += 1;
    res.once('close', () => {
      open -= 1;
      if (open === 0) waiting?.();
    });
  });
  return {
    drained: () =>
      open === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiting = resolve;
          }),
  };
}

/**
 * Reconciliation with the host and personal data reporting, each on its own interval (0: off). Every node ticks
 * a few times per interval; leases in the store let one of them do each piece of work (src/signals).
 */
function startSignals(
  config: Config,
  deps: { store: AppStore; clock: Clock; removals: Removals; addon: AddOn; metrics: Metrics; logger: Logger; onStoreFailure: StoreFailureReport },
): { stop(): Promise<void> } {
  const { store, clock, removals, addon, metrics } = deps;
  const log = deps.logger.child({ part: 'signals' });
  const jobs: Array<{ stop(): Promise<void> }> = [];
  const timers: NodeJS.Timeout[] = [];
  const schedule = (intervalMs: number, what: string, start: () => { tick(): Promise<void>; stop(): Promise<void> }) => {
    if (intervalMs === 0) return;
    const job = start();
    const timer = setInterval(() => void job.tick().catch((error: unknown) => log.warn({ err: error }, `${what} failed; the next tick retries`)), tickMs(intervalMs));
    timer.unref();
    timers.push(timer);
    jobs.push(job);
  };
  // A Forge installation has no clientInfo: it cannot be asked through ACE, and is passed over.
  const hasCredentials = async (clientKey: string) => (await store.getSetting(clientKey, 'clientInfo')) !== null;
  const now = () => clock.now();
  schedule(config.reconcileIntervalMs, 'reconcile', () =>
    createReconciler({
      store,
      leases: store,
      directory: hostDirectory(addon, { hasCredentials, now }),
      removals,
      clock,
      intervalMs: config.reconcileIntervalMs,
      observer: metrics.reconcile,
      log,
      onStoreFailure: deps.onStoreFailure,
    }),
  );
  schedule(config.personalDataReport.intervalMs, 'personal data report', () =>
    createPersonalDataReporter({
      store,
      leases: store,
      reports: connectPersonalDataReports({ url: config.personalDataReport.url, settings: store, now }),
      removals,
      clock,
      intervalMs: config.personalDataReport.intervalMs,
      observer: metrics.reconcile,
      log,
      onStoreFailure: deps.onStoreFailure,
    }),
  );
  return {
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await Promise.all(jobs.map((job) => job.stop()));
    },
  };
}

function every(intervalSeconds: number, work: () => Promise<void>): NodeJS.Timeout | null {
  if (intervalSeconds === 0) return null;
  const timer = setInterval(() => void work(), intervalSeconds * 1000);
  timer.unref();
  return timer;
}
