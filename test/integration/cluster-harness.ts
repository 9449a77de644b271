/**
 * Test harness for clusters: three real node processes on a fresh PostgreSQL database,
 * one bus (postgres or redis), a round-robin balancer as the app's baseUrl, and the host
 * simulator installing through it.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { startBalancer, type Balancer } from '../../src/cluster/balancer';
import { NodeProcess } from '../../src/cluster/node-process';
import { startHostSimulator, type HostSimulator, type IssueContext } from '../../src/host-simulator';
import { startForgeSimulator, type ForgeSimulator, type ForgeSimulatorOptions } from '../../src/host-simulator/forge';
import { freePort } from '../support/ports';
import { createTestDatabase, redisUrl } from '../support/services';
import { ALICE, BOB, ISSUE, pageTokenOf, type ApiBody } from './harness';

export type BusKind = 'postgres' | 'redis';

export interface ClusterOptions {
  bus: BusKind;
  size?: number;
  /** Per-node overrides, e.g. a DATABASE_URL or REDIS_URL through a proxy the test can cut. */
  nodeEnv?: (index: number, defaults: Record<string, string>) => Record<string, string>;
  /** The simulated Forge on the site (its own app id unless given), listening before the nodes start, which get its app id and JWKS. */
  forge?: ForgeSimulatorOptions;
  /** The simulated site's clientKey (random by default): known before the nodes start, e.g. to bind an OPERATOR_TOKEN to it. */
  clientKey?: string;
  /** Where each node's log lines go (kept in memory, last lines only, when not given). */
  onLog?: (name: string, line: string) => void;
  /** The balancer names the node that served each answer in `X-Balancer-Target`. */
  nameTarget?: boolean;
  /** How long each node may take to answer /readyz after it is spawned (NodeProcess.start's own bound when not given). */
  startTimeoutMs?: number;
}

export interface ClusterStack {
  sim: HostSimulator;
  balancer: Balancer;
  nodes: NodeProcess[];
  /** The simulated Forge, when the options asked for it. */
  forge?: ForgeSimulator;
  databaseUrl: string;
  /** The bus channel this cluster's nodes share. */
  busChannel: string;
  /** Renders the issue panel on one node, as the host would through the balancer, and returns the page token. */
  mintOn(node: NodeProcess, accountId: string, ctx?: IssueContext): Promise<string>;
  /** Calls the guarded notes API on one node directly. */
  api(node: NodeProcess, token: string, ctx?: IssueContext): Promise<{ status: number; body: ApiBody }>;
  /** Routes the host's next calls (webhooks, lifecycle) to one node; null goes back to round robin. */
  via(node: NodeProcess | null): void;
  /** Waits until every running node hears the bus and counts `count` live nodes. */
  waitForMembership(count?: number): Promise<void>;
  close(): Promise<void>;
}


/** One sample from a node's /metrics, by its name and labels as printed (0 when absent). */
export async function metric(node: NodeProcess, sample: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const found = text.split('\n').find((line) => line.startsWith(`${sample} `));
  return found === undefined ? 0 : Number(found.slice(sample.length + 1));
}

export async function startCluster(options: ClusterOptions): Promise<ClusterStack> {
  const size = options.size ?? 3;
  const database = await createTestDatabase();
  const sim = await startHostSimulator({
    clientKey: options.clientKey,
    users: [
      { accountId: ALICE, displayName: 'Alice', active: true, siteAdmin: false },
      { accountId: BOB, displayName: 'Bob', active: true, siteAdmin: false },
    ],
  });
  const forge = options.forge === undefined ? undefined : await startForgeSimulator(sim, { appId: `ari:cloud:ecosystem::app/${randomUUID()}`, ...options.forge });
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const balancer = await startBalancer(0, ports.map((port) => `http://127.0.0.1:${port}`), { nameTarget: options.nameTarget });
  const shared: Record<string, string> = {
    NODE_ENV: 'test',
    APP_BASE_URL: balancer.url,
    DATABASE_URL: database.url,
    BUS: options.bus,
    // A channel of this run's own: nothing else on the machine's Redis or PostgreSQL hears it.
    BUS_CHANNEL: `panelguard_test_${randomBytes(6).toString('hex')}`,
    PAGE_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    // Every node signs SETs with the same key, as in production; none makes one of its own under data/.
    SSF_SIGNING_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    CONNECT_KEYS_CDN_URL: sim.keysUrl,
    LOG_LEVEL: 'warn',
    SWEEP_INTERVAL_SECONDS: '0',
    ...(options.bus === 'redis' ? { REDIS_URL: redisUrl } : {}),
    ...(forge === undefined ? {} : { FORGE_APP_ID: forge.appId, FORGE_JWKS_URL: forge.jwksUrl }),
  };
  const nodes = ports.map(
    (port, index) =>
      new NodeProcess({ name: `node-${index + 1}`, port, env: options.nodeEnv?.(index, { ...shared }) ?? shared, onLog: options.onLog }),
  );

  const stack: ClusterStack = {
    sim,
    balancer,
    nodes,
    forge,
    databaseUrl: database.url,
    busChannel: shared.BUS_CHANNEL as string,
    async mintOn(node, accountId, ctx = ISSUE) {
      const panel = new URL(sim.panelUrl('issue-notes', ctx, accountId));
      const response = await fetch(`${node.url}${panel.pathname}${panel.search}`);
      const html = await response.text();
      const token = pageTokenOf(html);
      if (response.status !== 200 || token === null) throw new Error(`no page token from ${node.name}: ${response.status} ${html.slice(0, 200)}`);
      return token;
    },
    async api(node, token, ctx = ISSUE) {
      const response = await fetch(`${node.url}/api/issues/${ctx.issueId}/notes`, { headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, body: (await response.json()) as ApiBody };
    },
    via(node) {
      balancer.pin(node === null ? null : node.url);
    },
    async waitForMembership(count = size) {
      await Promise.all(
        nodes.filter((node) => node.running()).map((node) => node.waitFor((ready) => ready?.bus === 'ok' && ready.nodes === count)),
      );
    },
    async close() {
      await Promise.all(nodes.map((node) => node.stop()));
      await balancer.close();
      await forge?.close();
      await sim.close();
      await database.drop();
    },
  };

  try {
    // One node first: it runs the migrations while the others would wait on its lock anyway.
    await nodes[0]!.start(options.startTimeoutMs);
    await Promise.all(nodes.slice(1).map((node) => node.start(options.startTimeoutMs)));
    await stack.waitForMembership();
    const installed = await sim.install(balancer.url);
    if (installed.status !== 204) throw new Error(`install failed: ${installed.status} ${await installed.text()}`);
  } catch (error) {
    await stack.close().catch(() => undefined);
    throw error;
  }
  return stack;
}
