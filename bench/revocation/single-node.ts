/**
 * Webhook to refusal on one node: the default deployment (its own process, SQLite, in-process bus)
 * installed on the host simulator. Each sample is a fresh user whose cached token the host's
 * `user_deleted` revokes; the sample ends when the very next API call with that token is refused.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { NodeProcess } from '../../src/cluster/node-process';
import { startHostSimulator, type HostSimulator } from '../../src/host-simulator';
import { freePort } from '../../test/support/ports';
import { nowMs } from '../lib/stats';
import { callNotes, freshAccountId, isRevokedRefusal, mintPageToken, useOnce } from './page-tokens';
import { summary, type SampleCounts } from './series';

export interface SingleNodeRun {
  /** Start of the webhook to the arrival of the refusal, ms. */
  webhookToRefusal: number[];
  /** The webhook call alone, ms. */
  webhook: number[];
  /** Revocations made, warm-up included: the counts below are out of these. */
  revocations: number;
  /** Samples whose token was still accepted (or refused for another reason) after the webhook answered. */
  notRefused: number;
  /** Webhook answers other than 200 with `Revocation-Confirmed: 1/1`. */
  unconfirmed: number;
}

interface SingleNodeStack {
  sim: HostSimulator;
  node: NodeProcess;
  close(): Promise<void>;
}

async function startSingleNode(dataDir: string): Promise<SingleNodeStack> {
  const port = await freePort();
  const sim = await startHostSimulator();
  const node = new NodeProcess({
    name: 'single',
    port,
    env: {
      NODE_ENV: 'test',
      APP_BASE_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      CONNECT_KEYS_CDN_URL: sim.keysUrl,
      PAGE_TOKEN_SECRET: randomBytes(32).toString('base64url'),
      LOG_LEVEL: 'warn',
      SWEEP_INTERVAL_SECONDS: '0',
    },
  });
  const close = async (): Promise<void> => {
    await node.stop();
    await sim.close();
  };
  try {
    await node.start();
    const installed = await sim.install(node.url);
    if (installed.status !== 204) throw new Error(`install failed: ${installed.status} ${await installed.text()}`);
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return { sim, node, close };
}

interface Sample {
  webhookToRefusal: number;
  webhook: number;
  refused: boolean;
  confirmed: boolean;
}

async function sample(stack: SingleNodeStack, accountId: string): Promise<Sample> {
  const { sim, node } = stack;
  sim.directory.add({ accountId });
  const token = await mintPageToken(sim, node.url, accountId);
  await useOnce(node.url, token);

  const t0 = nowMs();
  const webhook = await sim.removeUser(accountId);
  if (webhook === null) throw new Error('the app declares no user_deleted webhook');
  await webhook.arrayBuffer();
  const answered = nowMs();
  const refusal = await callNotes(node.url, token);
  const t1 = nowMs();

  return {
    webhookToRefusal: t1 - t0,
    webhook: answered - t0,
    refused: isRevokedRefusal(refusal),
    confirmed: webhook.status === 200 && webhook.headers.get('revocation-confirmed') === '1/1',
  };
}

/** `dataDir` holds the node's SQLite file; the node and the simulator are stopped whatever happens. */
export async function measureSingleNode(dataDir: string, counts: SampleCounts, log: (message: string) => void): Promise<SingleNodeRun> {
  const started = nowMs();
  const stack = await startSingleNode(path.resolve(dataDir));
  log(`single node: up in ${Math.round(nowMs() - started)} ms`);
  try {
    const run: SingleNodeRun = { webhookToRefusal: [], webhook: [], revocations: 0, notRefused: 0, unconfirmed: 0 };
    for (let i = 0; i < counts.warmup + counts.samples; i += 1) {
      const warmup = i < counts.warmup;
      const measured = await sample(stack, freshAccountId(warmup ? 'warmup' : 'single', i));
      // Warm-up latencies are dropped, but a token that survived its revocation is a failure whenever it happens.
      run.revocations += 1;
      if (!measured.refused) run.notRefused += 1;
      if (!measured.confirmed) run.unconfirmed += 1;
      if (warmup) continue;
      run.webhookToRefusal.push(measured.webhookToRefusal);
      run.webhook.push(measured.webhook);
    }
    log(`single node: ${summary(run.webhookToRefusal)} webhook to refusal, ${summary(run.webhook)} webhook alone, ${run.notRefused} not refused`);
    return run;
  } finally {
    await stack.close();
  }
}

