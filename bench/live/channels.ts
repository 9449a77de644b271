/**
 * Live channels, measured: (1) what idle channels cost one node (RSS before and after opening N, from the node's own
 * /metrics), and (2) the time from a revoking call's answer (a removal webhook to node B) to the `ended` event on a
 * channel held by node A, on three nodes. Run: `npx tsx bench/live/channels.ts --out /tmp/live.json`.
 */
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { NodeProcess } from '../../src/cluster/node-process';
import { metric, startCluster, type BusKind } from '../../test/integration/cluster-harness';
import { openChannel } from '../../test/integration/live-client';
import { ISSUE } from '../../test/integration/harness';
import { quantile } from '../lib/stats';
import { freshAccountId } from '../revocation/page-tokens';

const RESOURCE = `jira:issue:${ISSUE.issueId}`;

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

async function rss(node: NodeProcess): Promise<number> {
  return metric(node, 'panelguard_process_resident_memory_bytes');
}

async function main(): Promise<void> {
  const options = new Command()
    .requiredOption('--out <file>', 'where to write the JSON result')
    .option('--channels <n>', 'idle channels to open on one node', '5000')
    .option('--samples <n>', 'revocations timed end to end', '100')
    .addOption(new Option('--bus <bus>', 'cluster bus').choices(['postgres', 'redis']).default('redis'))
    .parse()
    .opts<{ out: string; channels: string; samples: string; bus: BusKind }>();
  const channels = Number(options.channels);
  const samples = Number(options.samples);
  const cluster = await startCluster({ bus: options.bus, nodeEnv: (_i, env) => ({ ...env, LIVE_CHANNELS_MAX: String(channels + 1000) }) });
  const [nodeA, nodeB] = cluster.nodes as [NodeProcess, NodeProcess];
  try {
    // (1) Memory: tokens first (minting allocates too), then the channels, then RSS again after a settle.
    const tokens: string[] = [];
    for (let i = 0; i < channels; i += 1) tokens.push(await cluster.mintOn(nodeA, freshAccountId('idle', i)));
    global.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const before = await rss(nodeA);
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const held: http.ClientRequest[] = [];
    for (let i = 0; i < tokens.length; i += 200) held.push(...(await Promise.all(tokens.slice(i, i + 200).map((t) => holdIdle(nodeA.url, t, agent)))));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const after = await rss(nodeA);
    const open = await metric(nodeA, 'panelguard_live_channels');
    console.log(`idle channels: ${open} open, RSS ${(before / 2 ** 20).toFixed(1)} -> ${(after / 2 ** 20).toFixed(1)} MiB`);
    for (const request of held) request.destroy();

    // (2) Latency: a fresh user's channel on node A, the removal through node B, answer to event.
    cluster.via(nodeB);
    const latencies: number[] = [];
    let missed = 0;
    for (let i = 0; i < samples; i += 1) {
      const accountId = freshAccountId('live', i);
      cluster.sim.directory.add({ accountId, displayName: `Live ${i}` });
      const channel = await openChannel(nodeA.url, await cluster.mintOn(nodeA, accountId), RESOURCE);
      await channel.next('ready', 5_000);
      const webhook = await cluster.sim.removeUser(accountId);
      const answered = performance.now();
      if (webhook?.status !== 200) throw new Error(`removal answered ${webhook?.status}`);
      const ended = await channel.next('ended', 5_000);
      if (ended === null) missed += 1;
      else latencies.push(ended.at - answered);
      channel.close();
    }
    const result = {
      bus: options.bus,
      idle: { channels: open, rssBeforeBytes: before, rssAfterBytes: after, perChannelBytes: Math.round((after - before) / channels) },
      latencyMs: { samples: latencies.length, missed, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: Math.max(...latencies), min: Math.min(...latencies) },
    };
    console.log(JSON.stringify(result, null, 2));
    writeFileSync(options.out, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await cluster.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
