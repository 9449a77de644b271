/**
 * Fork to refusal everywhere on three nodes: a page token used after its successor took over (past the grace)
 * is a fork, and the session is ended on every node before that call is answered. Each sample is a session
 * minted on one node, rotated on another (its successor used once) and held current in all three nodes' caches;
 * then its stale first token is sent to the third, and as soon as that answers, the current token to all three.
 */
import type { NodeProcess } from '../../src/cluster/node-process';
import { startCluster, type BusKind, type ClusterStack } from '../../test/integration/cluster-harness';
import { nowMs } from '../lib/stats';
import { callNotes, freshAccountId, isForkedRefusal, mintPageToken, useOnce } from './page-tokens';
import { summary, type SampleCounts } from './series';

/** Short enough that a sample takes a fraction of a second; the cluster's nodes all run with these. */
export const FORK_ROTATION = { afterSeconds: 0.2, graceSeconds: 0.1 };

export interface ForkRun {
  /** The forking call's duration (the stale token sent until its refusal arrived), ms. */
  forkCall: number[];
  /** From the forking call sent to the last of the three nodes' refusals of the session's current token, ms. */
  forkToRefusedEverywhere: number[];
  /** Forks made, warm-up included: the counts below are out of these. */
  forks: number;
  /** Forking calls answered other than 401 `token_forked`. */
  forkNotRefused: number;
  /** (fork, node) pairs where the current token, sent once the fork was answered, was not refused as `token_forked`. */
  servedAfterFork: number;
  /** Forks after which some node still took the current token when the poll gave up: left out of the latencies. */
  neverRefused: number;
}

const SIZE = 3;
/** Sessions prepared together, so that the waits for rotation and grace are shared; each fork is still sent alone. */
const BATCH = 10;
/** How long a node that did not refuse at once is polled before the sample is given up. */
export const POLL_LIMIT_MS = 2_000;

interface Prepared {
  index: number;
  stale: string;
  current: string;
}

interface Sample {
  forkMs: number;
  /** NaN when a node never refused within the poll limit. */
  everywhereMs: number;
  forkRefused: boolean;
  servedOn: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const node = (cluster: ClusterStack, i: number) => cluster.nodes[i % SIZE] as NodeProcess;

/** Mints a batch of sessions, each on its own node, and makes every node cache each one. */
async function mintBatch(cluster: ClusterStack, series: string, from: number, count: number): Promise<{ index: number; token: string }[]> {
  const minted = [];
  for (let index = from; index < from + count; index += 1) {
    const token = await mintPageToken(cluster.sim, node(cluster, index + 1).url, freshAccountId(series, index));
    for (const each of cluster.nodes) await useOnce(each.url, token);
    minted.push({ index, token });
  }
  return minted;
}

/** The due first token is offered its successor by one node; the successor's first use there makes it current. */
async function rotate(cluster: ClusterStack, index: number, token: string): Promise<string> {
  const rotating = node(cluster, index + 2).url;
  const offered = await callNotes(rotating, token);
  if (offered.status !== 200 || offered.next === null) throw new Error(`no successor offered by ${rotating}: ${offered.status} ${offered.code}`);
  await useOnce(rotating, offered.next);
  return offered.next;
}

async function fork(cluster: ClusterStack, session: Prepared): Promise<Sample> {
  const t0 = nowMs();
  const forked = await callNotes(node(cluster, session.index).url, session.stale);
  const forkMs = nowMs() - t0;
  let servedOn = 0;
  const refusedAt = await Promise.all(
    cluster.nodes.map(async (each) => {
      if (isForkedRefusal(await callNotes(each.url, session.current))) return nowMs();
      servedOn += 1;
      // Not refused at once: how much later it is, for the record.
      while (nowMs() - t0 < POLL_LIMIT_MS) {
        await sleep(1);
        if (isForkedRefusal(await callNotes(each.url, session.current))) return nowMs();
      }
      return Number.NaN;
    }),
  );
  return { forkMs, everywhereMs: Math.max(...refusedAt) - t0, forkRefused: isForkedRefusal(forked), servedOn };
}

/** Starts a cluster rotating quickly on a fresh database, samples, and stops every node and drops the database whatever happens. */
export async function measureFork(bus: BusKind, counts: SampleCounts, log: (message: string) => void): Promise<ForkRun> {
  const started = nowMs();
  const cluster = await startCluster({
    bus,
    size: SIZE,
    nodeEnv: (_index, defaults) => ({
      ...defaults,
      ROTATE_AFTER_SECONDS: String(FORK_ROTATION.afterSeconds),
      ROTATION_GRACE_SECONDS: String(FORK_ROTATION.graceSeconds),
    }),
  });
  log(`three nodes, ${bus}, forks: cluster up in ${Math.round(nowMs() - started)} ms`);
  try {
    const run: ForkRun = { forkCall: [], forkToRefusedEverywhere: [], forks: 0, forkNotRefused: 0, servedAfterFork: 0, neverRefused: 0 };
    const total = counts.warmup + counts.samples;
    for (let from = 0; from < total; from += BATCH) {
      const minted = await mintBatch(cluster, `fork-${bus}`, from, Math.min(BATCH, total - from));
      // Every token of the batch is due once the last one minted has been current for ROTATE_AFTER.
      await sleep(FORK_ROTATION.afterSeconds * 1000 + 20);
      const prepared: Prepared[] = [];
      for (const { index, token } of minted) prepared.push({ index, stale: token, current: await rotate(cluster, index, token) });
      // Past the grace, the first tokens are stale; by then each rotation's announcement has reached every node,
      // so the current tokens cached next stay cached until the fork.
      await sleep(FORK_ROTATION.graceSeconds * 1000 + 20);
      for (const session of prepared) for (const each of cluster.nodes) await useOnce(each.url, session.current);
      for (const session of prepared) {
        const sample = await fork(cluster, session);
        run.forks += 1;
        if (!sample.forkRefused) run.forkNotRefused += 1;
        run.servedAfterFork += sample.servedOn;
        if (Number.isNaN(sample.everywhereMs)) run.neverRefused += 1;
        if (session.index < counts.warmup) continue;
        run.forkCall.push(sample.forkMs);
        if (!Number.isNaN(sample.everywhereMs)) run.forkToRefusedEverywhere.push(sample.everywhereMs);
      }
    }
    log(
      `three nodes, ${bus}, forks: fork call ${summary(run.forkCall)}; refused everywhere ${summary(run.forkToRefusedEverywhere)}; ${run.forkNotRefused} forks not refused, ${run.servedAfterFork} calls served after`,
    );
    return run;
  } finally {
    await cluster.close();
  }
}
