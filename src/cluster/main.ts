/** The local cluster: a simulated Jira site, three PanelGuard nodes on PostgreSQL and one bus behind a round-robin balancer, and a guide. */
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startHostSimulator, type HostSimulator } from '../host-simulator';
import { DEMO_ISSUES, DEMO_USERS, hostPageLinks } from '../host-simulator/demo-site';
import { compactLogLine } from '../launch/log-lines';
import { isAddressInUse, PortInUse } from '../launch/port-in-use';
import { randomSecret } from '../tokens/random';
import { startBalancer, type Balancer } from './balancer';
import { NodeProcess } from './node-process';
import { PANELGUARD_TABLES } from '../store/migrations';

type BusKind = 'redis' | 'postgres';

/** A stable site name, so the cluster's URLs and logs read the same on every run. */
const CLUSTER_CLIENT_KEY = 'panelguard-cluster-site';
const NODE_COUNT = 3;
const NODE_READY_MS = 20_000;
const PROBE_TIMEOUT_MS = 2_000;




/** Node settings a shell may tune; the nodes see these and the cluster's own, nothing else of the environment. */
const PASSED_THROUGH = ['REVOCATION_CONFIRM_MS', 'HEARTBEAT_MS', 'SWEEP_INTERVAL_SECONDS', 'PAGE_TOKEN_TTL_SECONDS', 'CACHE_TTL_SECONDS', 'CACHE_MAX_ENTRIES'];

const START_POSTGRES = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
const START_REDIS = 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no';

const USAGE = `Usage: npm run cluster [-- --bus redis|postgres]

Starts the host simulator, three PanelGuard nodes and a round-robin load balancer
on the machine's PostgreSQL (and Redis, for --bus redis), installs the app, and
prints a guide. Ctrl-C stops everything.

  --bus redis|postgres   how nodes tell each other about revocations (default redis)
  -h, --help             this text

Environment:
  PORT                   the load balancer, the app's baseUrl (default 3000)
  CLUSTER_PORT_BASE      nodes listen on CLUSTER_PORT_BASE+1..+3 (default 3000)
  SIM_PORT               the simulated Jira (default 3100)
  DATABASE_URL           default postgres://postgres@127.0.0.1:5432/panelguard_cluster;
                         created if missing, and its PanelGuard tables are EMPTIED at every start
  REDIS_URL              default redis://127.0.0.1:6379 (--bus redis)
  BUS_CHANNEL            default panelguard_cluster
  PAGE_TOKEN_SECRET      default: a new one each run
  SSF_SIGNING_KEY        the key every node signs SETs with (default: a new one each run)
  LOG_LEVEL              the nodes' log level (default info)
  ${PASSED_THROUGH.join(', ')}
                         passed to every node when set
`;


/** A service the cluster needs that did not answer, with how to start it. */
class ServiceDown extends Error {}

/** A mistake in the command line or the environment, with the usage to fix it. */
class UsageError extends Error {}


// Node's AggregateError for a refused connection (one per address tried) has an empty message but a code.
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message !== '') return error.message;
  return 'code' in error && typeof error.code === 'string' ? error.code : error.name;
}

interface Settings {
  bus: BusKind;
  balancerPort: number;
  nodePorts: number[];
  simPort: number;
  databaseUrl: string;
  redisUrl: string;
  busChannel: string;
  /** True when PAGE_TOKEN_SECRET came from the environment rather than being generated for this run. */
  secretGiven: boolean;
  pageTokenSecret: string;
  /** One SET signing key for every node, as PEM: from the environment, or made for this run. */
  ssfSigningKey: string;
  logLevel: string;
}

function readSettings(argv: string[], env: NodeJS.ProcessEnv): Settings | 'help' {
  let values: { bus?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { bus: { type: 'string', default: 'redis' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (error) {
    throw new UsageError(describeError(error));
  }
  if (values.help === true) return 'help';
  if (values.bus !== 'redis' && values.bus !== 'postgres') throw new UsageError(`--bus must be redis or postgres, not ${values.bus}`);
  const portBase = portFrom(env, 'CLUSTER_PORT_BASE', 3000, 65_535 - NODE_COUNT);
  return {
    bus: values.bus,
    balancerPort: portFrom(env, 'PORT', 3000),
    nodePorts: Array.from({ length: NODE_COUNT }, (_, index) => portBase + index + 1),
    simPort: portFrom(env, 'SIM_PORT', 3100),
    databaseUrl: env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/panelguard_cluster',
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    busChannel: env.BUS_CHANNEL || 'panelguard_cluster',
    secretGiven: Boolean(env.PAGE_TOKEN_SECRET),
    pageTokenSecret: env.PAGE_TOKEN_SECRET || randomSecret(32),
    ssfSigningKey: env.SSF_SIGNING_KEY || generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    logLevel: env.LOG_LEVEL || 'info',
  };
}

function portFrom(env: NodeJS.ProcessEnv, variable: string, fallback: number, max = 65_535): number {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!/^[0-9]+$/.test(raw) || port < 1 || port > max) throw new UsageError(`${variable} must be a port number from 1 to ${max}, not ${raw}`);
  return port;
}

/** Host, port and database of a postgres:// URL, never its password. */
function whereIsPostgres(url: string): { server: string; database: string } {
  const parsed = new URL(url);
  return { server: `${parsed.hostname}:${parsed.port || '5432'}`, database: decodeURIComponent(parsed.pathname.slice(1)) };
}

function whereIsRedis(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '6379'}`;
}

async function connectPostgres(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  // A connection lost after connect() resolved is reported through the next query instead.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/** PostgreSQL answers with a SQLSTATE code; a network failure has none. */
function sqlState(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

function postgresProblem(url: string, error: unknown): Error {
  const { server } = whereIsPostgres(url);
  if (sqlState(error) !== null) return new ServiceDown(`PostgreSQL at ${server} refused: ${describeError(error)}`);
  return new ServiceDown(`PostgreSQL at ${server} is not reachable (${describeError(error)}); start it with: ${START_POSTGRES}`);
}

/** Creates the cluster's database when it is missing and empties PanelGuard's tables in it; never drops it. */
async function prepareDatabase(url: string): Promise<void> {
  let client: pg.Client;
  try {
    client = await connectPostgres(url);
  } catch (error) {
    // 3D000: the database does not exist yet.
    if (sqlState(error) !== '3D000') throw postgresProblem(url, error);
    await createDatabase(url);
    return;
  }
  try {
    // The simulator is a new Jira site each run (it forgets its users), so a user removed last run must not stay tombstoned,
    // nor a policy set last run stay in force: start empty. schema_migrations stays, so nodes find the schema current.
    const { rows } = await client.query<{ tablename: string }>(
      'SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY($1)',
      [[...PANELGUARD_TABLES]],
    );
    if (rows.length > 0) await client.query(`TRUNCATE ${rows.map((row) => client.escapeIdentifier(row.tablename)).join(', ')}`);
  } finally {
    await client.end();
  }
}

/** Creates the database from the same server's `postgres` database, or its `test` one where `postgres` is not open to us. */
async function createDatabase(url: string): Promise<void> {
  const { database } = whereIsPostgres(url);
  let lastError: unknown = null;
  for (const adminDatabase of ['postgres', 'test']) {
    const adminUrl = new URL(url);
    adminUrl.pathname = `/${adminDatabase}`;
    let client: pg.Client;
    try {
      client = await connectPostgres(adminUrl.toString());
    } catch (error) {
      lastError = error;
      continue;
    }
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
      return;
    } catch (error) {
      // 42P04: created meanwhile by someone else, which is as good.
      if (sqlState(error) === '42P04') return;
      throw postgresProblem(url, error);
    } finally {
      await client.end();
    }
  }
  throw postgresProblem(url, lastError);
}

async function probeRedis(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: PROBE_TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The socket's own error (ECONNREFUSED) says more than the "Connection is closed." that connect() rejects with.
  let cause: unknown = null;
  client.on('error', (error: unknown) => {
    cause ??= error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new ServiceDown(`Redis at ${whereIsRedis(url)} is not reachable (${describeError(cause ?? error)}); start it with: ${START_REDIS}`);
  } finally {
    client.disconnect();
  }
}

/** Fails with PortInUse when something already listens on `port` (on any address, as a node binds). */
async function ensurePortFree(port: number, variable: string): Promise<void> {
  const server = createServer();
  try {
    server.listen(port);
    await once(server, 'listening');
  } catch (error) {
    throw isAddressInUse(error) ? new PortInUse(variable, port) : error;
  }
  server.close();
  await once(server, 'close');
}

/** A node's log line, prefixed with its name, so the nodes read side by side with the guide. */
function printNodeLog(name: string, line: string): void {
  process.stdout.write(compactLogLine(name, line));
}

function nodeEnvironment(settings: Settings, sim: HostSimulator, balancer: Balancer, env: NodeJS.ProcessEnv): Record<string, string> {
  const passed: Record<string, string> = {};
  for (const name of PASSED_THROUGH) if (env[name]) passed[name] = env[name];
  return {
    ...passed,
    NODE_ENV: 'development',
    APP_BASE_URL: balancer.url,
    DATABASE_URL: settings.databaseUrl,
    BUS: settings.bus,
    BUS_CHANNEL: settings.busChannel,
    ...(settings.bus === 'redis' ? { REDIS_URL: settings.redisUrl } : {}),
    PAGE_TOKEN_SECRET: settings.pageTokenSecret,
    SSF_SIGNING_KEY: settings.ssfSigningKey,
    CONNECT_KEYS_CDN_URL: sim.keysUrl,
    PERSONAL_DATA_REPORT_URL: sim.reportAccountsUrl,
    LOG_LEVEL: settings.logLevel,
    // The local balancer adds X-Forwarded-For; the sessions pages then show the browser's address, not the balancer's.
    TRUST_PROXY: 'loopback',
  };
}


function guide(settings: Settings, sim: HostSimulator, balancer: Balancer, nodes: NodeProcess[], readySeconds: number): string {
  const issue = DEMO_ISSUES[0]!;
  const links = hostPageLinks(sim, issue);
  const { server, database } = whereIsPostgres(settings.databaseUrl);
  const bus = settings.bus === 'redis' ? `redis pub/sub at ${whereIsRedis(settings.redisUrl)}` : 'postgres LISTEN/NOTIFY on the store';
  const [first, second] = [nodes[0]!, nodes[1]!];
  return [
    '',
    `PanelGuard cluster is running: ${NODE_COUNT} nodes ready and the app installed in ${readySeconds.toFixed(1)} s.`,
    '',
    `  Simulated Jira  ${sim.baseUrl}/   (users and issues)`,
    `  Load balancer   ${balancer.url}   (round robin; every node's APP_BASE_URL)`,
    ...nodes.map((node) => `  ${node.name.padEnd(14)}  ${node.url}/readyz`),
    `  Store           PostgreSQL ${server}, database ${database} (emptied at every start)`,
    `  Bus             ${bus}, channel ${settings.busChannel}`,
    `  Page tokens     ${settings.secretGiven ? 'signed with PAGE_TOKEN_SECRET from the environment' : 'signed with a secret made for this run: they do not outlive it'}`,
    '',
    `Open ${issue.issueKey} as each user (one browser tab each):`,
    ...links,
    '',
    'Try it:',
    '  1. In Bob\'s tab, add a note in the PanelGuard panel. Each request goes to the next node in turn.',
    '  2. In Bob\'s tab, click "Remove user": the webhook reaches one node, which answers once every',
    `     live node has dropped Bob's tokens (or after REVOCATION_CONFIRM_MS, 500 ms by default).`,
    '  3. Click Refresh in Bob\'s panel: "Access revoked", whichever node serves it. Carol and Alice keep working.',
    `  4. See what a node knows:  curl -s ${first.url.replace('127.0.0.1', 'localhost')}/readyz   (status, bus, cache, nodes)`,
    `     and what it counted:    curl -s ${first.url.replace('127.0.0.1', 'localhost')}/metrics | grep -E '^panelguard_(bus|cluster|entry_cache|revocations|swept)'`,
    `  5. Crash ${second.name}:  kill -9 ${second.pid ?? '<its pid>'}`,
    '     Within three heartbeats (3 s) the others count nodes: 2 and stop waiting for it on revocations.',
    '     This balancer has no health check, so one request in three now answers 502 until you restart the cluster.',
    '',
    'Stop with Ctrl-C (stops the nodes, the balancer and the simulator).',
    '',
  ].join('\n');
}

/** What has been started so far, in order; stopped last first. */
const started: { name: string; stop: () => Promise<void> }[] = [];
let stopping = false;

async function stopAll(): Promise<void> {
  for (const { name, stop } of started.splice(0).reverse()) {
    await stop().catch((error: unknown) => process.stderr.write(`cluster: could not stop ${name} cleanly: ${describeError(error)}\n`));
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) {
    process.stdout.write('\nForced stop.\n');
    process.exit(1);
  }
  stopping = true;
  process.stdout.write(`\n${signal}: stopping the nodes, the balancer and the simulator...\n`);
  stopAll().then(() => process.exit(0));
}

/** Says when a node goes away while the cluster runs (the guide's kill -9), so the log explains what follows. */
function watchNodes(nodes: NodeProcess[]): void {
  const gone = new Set<string>();
  const timer = setInterval(() => {
    for (const node of nodes) {
      if (stopping || node.running() || gone.has(node.name)) continue;
      gone.add(node.name);
      process.stdout.write(`  [${node.name}] exited; the other nodes stop counting it after three missed heartbeats\n`);
    }
  }, 500);
  timer.unref();
}

async function main(): Promise<void> {
  const settings = readSettings(process.argv.slice(2), process.env);
  if (settings === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const startedAt = performance.now();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  await prepareDatabase(settings.databaseUrl);
  if (settings.bus === 'redis') await probeRedis(settings.redisUrl);
  for (const port of settings.nodePorts) await ensurePortFree(port, 'CLUSTER_PORT_BASE');

  const sim = await startHostSimulator({ port: settings.simPort, users: DEMO_USERS, clientKey: CLUSTER_CLIENT_KEY }).catch((error: unknown) => {
    throw isAddressInUse(error) ? new PortInUse('SIM_PORT', settings.simPort) : error;
  });
  started.push({ name: 'the simulator', stop: () => sim.close() });
  const balancer = await startBalancer(
    settings.balancerPort,
    settings.nodePorts.map((port) => `http://127.0.0.1:${port}`),
  ).catch((error: unknown) => {
    throw isAddressInUse(error) ? new PortInUse('PORT', settings.balancerPort) : error;
  });
  started.push({ name: 'the balancer', stop: () => balancer.close() });

  const env = nodeEnvironment(settings, sim, balancer, process.env);
  const nodes = settings.nodePorts.map((port, index) => new NodeProcess({ name: `node-${index + 1}`, port, env, onLog: printNodeLog }));
  // SIGTERM: each node says goodbye on the bus and closes its store.
  started.push({
    name: 'the nodes',
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  });
  // One node first: it runs the migrations while the others would only wait on its advisory lock.
  // A Ctrl-C meanwhile has already stopped the nodes that ran; none may be spawned after it.
  if (stopping) return;
  await nodes[0]!.start(NODE_READY_MS);
  if (stopping) return;
  await Promise.all(nodes.slice(1).map((node) => node.start(NODE_READY_MS)));
  await Promise.all(nodes.map((node) => node.waitFor((ready) => ready?.bus === 'ok' && ready.nodes === NODE_COUNT, NODE_READY_MS)));
  watchNodes(nodes);

  const installed = await sim.install(balancer.url);
  if (installed.status !== 204) throw new Error(`the simulated Jira could not install the app: ${installed.status} ${await installed.text()}`);
  for (const issue of DEMO_ISSUES) sim.issues.put(issue);
  process.stdout.write(guide(settings, sim, balancer, nodes, (performance.now() - startedAt) / 1000));
}

main().catch(async (error: unknown) => {
  // A Ctrl-C during start makes the steps under way fail; the stop already says what happens.
  if (stopping) return;
  if (error instanceof UsageError) {
    process.stderr.write(`cluster: ${error.message}\n\n${USAGE}`);
  } else if (error instanceof ServiceDown || error instanceof PortInUse) {
    process.stderr.write(`cluster: ${error.message}\n`);
  } else {
    process.stderr.write(`cluster: failed to start: ${describeError(error)}\n`);
  }
  stopping = true;
  await stopAll();
  process.exit(error instanceof UsageError ? 2 : 1);
});
