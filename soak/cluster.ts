/**
 * The soak's cluster: three nodes behind the round-robin balancer on a fresh PostgreSQL database,
 * with each node's store link and bus link through a relay the soak can cut, and a supervisor that
 * restarts what it killed and notices what exited on its own.
 */
import { createWriteStream, mkdtempSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NodeProcess } from '../src/cluster/node-process';
import { randomSecret, randomUuid } from '../src/tokens/random';
import { startCluster, type BusKind, type ClusterStack } from '../test/integration/cluster-harness';
import { postgresAdminUrl, redisUrl } from '../test/support/services';
import { startTcpProxy, type TcpProxy } from '../test/support/tcp-proxy';
import { soakClock, type FaultKind, type FaultRecord, type Ledger } from './ledger';

export interface SoakClusterOptions {
  bus: BusKind;
  /** CACHE_TTL_SECONDS on every node: the staleness bound the oracle allows when a revocation answers n < m. */
  cacheTtlSeconds: number;
  /** Page-token lifetime (and idle timeout): long enough that the final re-check finds revoked tokens unexpired. */
  tokenTtlSeconds: number;
}

/** The links of one node the soak can cut. */
interface NodeLinks {
  /** To PostgreSQL: the store, and with the postgres bus also the bus (its LISTEN connection is marked). */
  store: TcpProxy;
  /** To Redis, with the redis bus. */
  redis: TcpProxy | null;
}

export interface SoakCluster {
  stack: ClusterStack;
  nodes: NodeProcess[];
  clientKey: string;
  operatorToken: string;
  /** Where the nodes' log lines are written. */
  logDir: string;
  /** The node name behind a balancer answer's X-Balancer-Target, or null. */
  nodeNameOf(target: string | null): string | null;
  /** Starts a fault on one node; the returned function repairs it (for a kill: restarts the node and waits until it answers). */
  inject(kind: FaultKind, node: number): Promise<() => Promise<void>>;
  /** True while one of the node's faults of this kind lasts. */
  isFaulted(kind: FaultKind, node: number): boolean;
  /** True while the node is down or (re)starting. */
  isDown(node: number): boolean;
  /** Restores every link and restarts every node that is down; resolves once each counts all three on its bus. */
  heal(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const NODE_COUNT = 3;
const START_TIMEOUT_MS = 30_000;
const RESTART_RETRY_MS = 500;

/** The same URL, reaching its server through a relay on `port`. */
function through(url: string, port: number): string {
  const relayed = new URL(url);
  relayed.hostname = '127.0.0.1';
  relayed.port = String(port);
  return relayed.toString();
}

export async function startSoakCluster(options: SoakClusterOptions, ledger: Ledger): Promise<SoakCluster> {
  const postgres = new URL(postgresAdminUrl);
  const redis = new URL(redisUrl);
  const links: NodeLinks[] = [];
  const logDir = mkdtempSync(path.join(tmpdir(), 'panelguard-soak-'));
  const logs = new Map<string, WriteStream>();
  const logTo = (name: string, line: string) => {
    let stream = logs.get(name);
    if (stream === undefined) {
      stream = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
      logs.set(name, stream);
    }
    stream.write(`${new Date().toISOString()} ${line}\n`);
  };
  const closeLinks = async () => {
    for (const link of links) {
      await link.store.close();
      await link.redis?.close();
    }
  };
  try {
    for (let i = 0; i < NODE_COUNT; i += 1) {
      links.push({
        // LISTEN marks the postgres bus's connection, so a bus cut can spare the store's connections.
        store: await startTcpProxy(postgres.hostname, Number(postgres.port || 5432), { markWhenClientSends: options.bus === 'postgres' ? 'LISTEN ' : undefined }),
        redis: options.bus === 'redis' ? await startTcpProxy(redis.hostname, Number(redis.port || 6379)) : null,
      });
    }
  } catch (error) {
    await closeLinks();
    throw error;
  }

  // The operator token is bound to the site's clientKey, so the clientKey is chosen before the nodes start.
  const clientKey = randomUuid();
  const operatorToken = randomSecret();
  let stack: ClusterStack;
  try {
    stack = await startCluster({
      bus: options.bus,
      size: NODE_COUNT,
      clientKey,
      nameTarget: true,
      onLog: logTo,
      nodeEnv: (index, env) => ({
        ...env,
        DATABASE_URL: through(env.DATABASE_URL!, links[index]!.store.port),
        ...(env.REDIS_URL === undefined ? {} : { REDIS_URL: through(env.REDIS_URL, links[index]!.redis!.port) }),
        OPERATOR_TOKEN: `${clientKey}:${operatorToken}`,
        CACHE_TTL_SECONDS: String(options.cacheTtlSeconds),
        PAGE_TOKEN_TTL_SECONDS: String(options.tokenTtlSeconds),
        IDLE_TIMEOUT_SECONDS: String(options.tokenTtlSeconds),
      }),
    });
  } catch (error) {
    await closeLinks();
    throw error;
  }
  const nodes = stack.nodes;
  const nameByTarget = new Map(nodes.map((node) => [node.url, node.name]));

  /** Open faults by node and kind; a kill's lasts until the node answers again. */
  const open = new Map<string, FaultRecord>();
  const key = (kind: FaultKind, node: number) => `${kind}:${node}`;
  /** Nodes the soak killed or is (re)starting: their exits are its own doing. */
  const expectingExit = new Set<number>();
  /** Start attempts that overlapped a cut of the node's store link: failing is then what a node should do. */
  const storeCutDuringStart = new Set<number>();

  // The supervisor: a node that exits without the soak killing it is recorded, then restarted.
  let watching = true;
  const watcher = setInterval(() => {
    if (!watching) return;
    nodes.forEach((node, index) => {
      if (node.running() || expectingExit.has(index)) return;
      ledger.exits.push({ node: node.name, at: soakClock(), detail: `exited on its own\n${node.lastLog().split('\n').slice(-5).join('\n')}`, duringStartWithoutStore: false });
      void restart(index);
    });
  }, 250);
  watcher.unref();

  /** Restarts in progress, by node: one at a time per node, whoever asks. */
  const restarting = new Map<number, Promise<void>>();

  /** Starts the node until it answers; a start that fails is retried, as a supervisor would. */
  function restart(index: number): Promise<void> {
    let pending = restarting.get(index);
    if (pending === undefined) {
      expectingExit.add(index);
      pending = startUntilUp(index).finally(() => {
        restarting.delete(index);
        expectingExit.delete(index);
      });
      restarting.set(index, pending);
    }
    return pending;
  }

  async function startUntilUp(index: number): Promise<void> {
    const node = nodes[index]!;
    for (;;) {
      storeCutDuringStart.delete(index);
      if (open.has(key('store_cut', index))) storeCutDuringStart.add(index);
      try {
        await node.start(START_TIMEOUT_MS);
        return;
      } catch (error) {
        ledger.exits.push({
          node: node.name,
          at: soakClock(),
          detail: `failed to start: ${error instanceof Error ? error.message.split('\n').slice(0, 6).join('\n') : String(error)}`,
          duringStartWithoutStore: storeCutDuringStart.has(index) || open.has(key('store_cut', index)),
        });
        if (node.running()) await node.kill();
        if (!watching) return;
        await new Promise((resolve) => setTimeout(resolve, RESTART_RETRY_MS));
      }
    }
  }

  function begin(kind: FaultKind, index: number): FaultRecord {
    const record: FaultRecord = { kind, node: nodes[index]!.name, from: soakClock(), to: null };
    ledger.faults.push(record);
    open.set(key(kind, index), record);
    if (kind === 'store_cut' && expectingExit.has(index)) storeCutDuringStart.add(index);
    return record;
  }

  function end(record: FaultRecord, kind: FaultKind, index: number): void {
    record.to = soakClock();
    open.delete(key(kind, index));
  }

  async function cutBus(index: number): Promise<void> {
    const link = links[index]!;
    if (link.redis !== null) await link.redis.cut();
    else link.store.cutMarked();
  }

  async function restoreBus(index: number): Promise<void> {
    const link = links[index]!;
    if (link.redis !== null) await link.redis.restore();
    else link.store.restoreMarked();
  }

  return {
    stack,
    nodes,
    clientKey,
    operatorToken,
    logDir,
    nodeNameOf: (target) => (target === null ? null : (nameByTarget.get(target) ?? target)),
    isFaulted: (kind, index) => open.has(key(kind, index)),
    isDown: (index) => expectingExit.has(index) || !nodes[index]!.running(),
    async inject(kind, index) {
      const record = begin(kind, index);
      switch (kind) {
        case 'node_kill':
          expectingExit.add(index);
          await nodes[index]!.kill();
          return async () => {
            await restart(index);
            end(record, kind, index);
          };
        case 'bus_cut':
          await cutBus(index);
          return async () => {
            await restoreBus(index);
            end(record, kind, index);
          };
        case 'store_cut':
          await links[index]!.store.cut();
          return async () => {
            await links[index]!.store.restore();
            end(record, kind, index);
          };
      }
    },
    async heal(timeoutMs) {
      for (let index = 0; index < NODE_COUNT; index += 1) {
        await links[index]!.store.restore();
        links[index]!.store.restoreMarked();
        await links[index]!.redis?.restore();
      }
      await Promise.all(nodes.map(async (node, index) => (node.running() && !restarting.has(index) ? undefined : restart(index))));
      const deadline = soakClock() + timeoutMs;
      await Promise.all(
        nodes.map((node) => node.waitFor((ready) => ready?.status === 'ready' && ready.nodes === NODE_COUNT, Math.max(1, deadline - soakClock()))),
      );
    },
    async close() {
      watching = false;
      clearInterval(watcher);
      try {
        await stack.close();
      } finally {
        await closeLinks();
        await Promise.all([...logs.values()].map((stream) => new Promise<void>((resolve) => stream.end(resolve))));
      }
    },
  };
}
