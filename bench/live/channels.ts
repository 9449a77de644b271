/**
 * Live channels on three nodes, measured: what idle channels cost the node that holds them (its resident memory
 * before and after opening them, from its own /metrics), and the time from a revoking call's answer (a removal
 * webhook answered by node B) to the `ended` event on a channel node A holds.
 */
import http from 'node:http';
import type { NodeProcess } from '../../src/cluster/node-process';
import { metric, startCluster, type BusKind, type ClusterStack } from '../../test/integration/cluster-harness';
import { ISSUE } from '../../test/integration/harness';
import { openChannel } from '../../test/integration/live-client';
import { freshAccountId } from '../revocation/page-tokens';

const RESOURCE = `jira:issue:${ISSUE.issueId}`;
/** Pages minted, and channels opened, this many at a time: enough to keep the node busy, few enough not to time out. */
const BATCH = 200;
/** How long the node is left alone before its memory is read, so that what opening allocated has settled. */
const SETTLE_MS = 2_000;

export interface IdleCost {
  /** Channels the node reported open once they all said `ready`. */
  open: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
}

export interface LatencyRun {
  /** From the removal's answer to the `ended` event, ms; negative when the event arrived first. */
  answerToEvent: number[];
  /** Removals whose channel heard nothing within five seconds. */
  missed: number;
}

/** One idle stream held with a bare http.request (lighter than fetch); resolves once the server said `ready`. */
function holdIdle(nodeUrl: string, token: string, agent: http.Agent): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${nodeUrl}/api/live?resource=${encodeURIComponent(RESOURCE)}`, { agent, headers: { authorization: `Bearer ${token}` } }, (response) => {
      if (response.statusCode !== 200) return reject(new Error(`channel refused: ${response.statusCode}`));
      response.once('data', () => resolve(request));
    });
    request.on('error', reject);
  });
}

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

async function inBatches<T, R>(items: readonly T[], work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const done: R[] = [];
  for (let i = 0; i < items.length; i += BATCH) done.push(...(await Promise.all(items.slice(i, i + BATCH).map((item, j) => work(item, i + j)))));
  return done;
}

/** Opens `channels` idle channels on node A and reads its resident memory before and after; closes them again. */
export async function measureIdle(cluster: ClusterStack, channels: number, log: (message: string) => void): Promise<IdleCost> {
  const nodeA = cluster.nodes[0] as NodeProcess;
  // Tokens first (minting allocates too, and caches what it read), then the channels alone between the two readings.
  log(`live channels: minting ${channels} page tokens on ${nodeA.name}`);
  const tokens = await inBatches(Array.from({ length: channels }, (_, i) => freshAccountId('idle', i)), (accountId) => cluster.mintOn(nodeA, accountId));
  await settle();
  const rssBeforeBytes = await metric(nodeA, 'panelguard_process_resident_memory_bytes');
  log(`live channels: opening ${channels} idle channels on ${nodeA.name}`);
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const held = await inBatches(tokens, (token) => holdIdle(nodeA.url, token, agent));
  try {
    await settle();
    const rssAfterBytes = await metric(nodeA, 'panelguard_process_resident_memory_bytes');
    const open = await metric(nodeA, 'panelguard_live_channels');
    return { open, rssBeforeBytes, rssAfterBytes };
  } finally {
    for (const request of held) request.destroy();
    agent.destroy();
  }
}

/** `samples` removals, each of a fresh user whose channel node A holds, sent through node B. */
export async function measureLatency(cluster: ClusterStack, samples: number): Promise<LatencyRun> {
  const [nodeA, nodeB] = cluster.nodes as [NodeProcess, NodeProcess];
  cluster.via(nodeB);
  const answerToEvent: number[] = [];
  let missed = 0;
  try {
    for (let i = 0; i < samples; i += 1) {
      const accountId = freshAccountId('live', i);
      cluster.sim.directory.add({ accountId, displayName: `Live ${i}` });
      const channel = await openChannel(nodeA.url, await cluster.mintOn(nodeA, accountId), RESOURCE);
      try {
        if ((await channel.next('ready', 5_000)) === null) throw new Error(`channel ${i} never said ready (${channel.status})`);
        const webhook = await cluster.sim.removeUser(accountId);
        const answered = performance.now();
        if (webhook?.status !== 200) throw new Error(`removal answered ${webhook?.status}`);
        const ended = await channel.next('ended', 5_000);
        if (ended === null) missed += 1;
        else answerToEvent.push(ended.at - answered);
      } finally {
        channel.close();
      }
    }
  } finally {
    cluster.via(null);
  }
  return { answerToEvent, missed };
}

/** Starts three nodes on `bus` allowing `channels` and a margin, runs `work`, and stops them whatever happens. */
export async function withCluster<T>(bus: BusKind, channels: number, work: (cluster: ClusterStack) => Promise<T>): Promise<T> {
  // Nodes compile the app as they start: on a machine other work keeps busy that can take far longer than a test allows.
  const cluster = await startCluster({ bus, startTimeoutMs: 120_000, nodeEnv: (_i, env) => ({ ...env, LIVE_CHANNELS_MAX: String(channels + 1_000) }) });
  try {
    return await work(cluster);
  } finally {
    await cluster.close();
  }
}
