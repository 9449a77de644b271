/**
 * Revoke and confirm on three nodes: the operator's `DELETE /api/admin/users/:accountId/sessions`
 * to one node answers only once every live node has dropped the user's cached tokens (or the
 * confirmation bound passed), and says which in `Revocation-Confirmed: n/m`. Each sample is a fresh
 * user whose token all three nodes have cached; the revoking node rotates.
 */
import type { NodeProcess } from '../../src/cluster/node-process';
import { randomSecret, randomUuid } from '../../src/tokens/random';
import { startCluster, type BusKind, type ClusterStack } from '../../test/integration/cluster-harness';
import { nowMs } from '../lib/stats';
import { callNotes, freshAccountId, isRevokedRefusal, mintPageToken, useOnce } from './page-tokens';
import { summary, type SampleCounts } from './series';

export interface ClusterRun {
  /** The revoking call's duration, ms. */
  revokeAndConfirm: number[];
  /** Revocations made, warm-up included: the counts below are out of these. */
  revocations: number;
  /** Answers other than 204 with `Revocation-Confirmed: 3/3`. */
  unconfirmed: number;
  /** (revocation, node) pairs where the next call with the revoked token was not refused as `token_revoked`. */
  notRefused: number;
  /** The confirmation headers seen, by value, e.g. {"3/3": 230}. */
  confirmations: Record<string, number>;
}

const SIZE = 3;

interface Sample {
  ms: number;
  confirmation: string;
  ok: boolean;
  notRefusedOn: number;
}

async function sample(cluster: ClusterStack, operatorToken: string, accountId: string, index: number): Promise<Sample> {
  const { nodes, sim } = cluster;
  const revoking = nodes[index % SIZE] as NodeProcess;
  const minting = nodes[(index + 1) % SIZE] as NodeProcess;
  const token = await mintPageToken(sim, minting.url, accountId);
  for (const node of nodes) await useOnce(node.url, token);

  const t0 = nowMs();
  const response = await fetch(`${revoking.url}/api/admin/users/${encodeURIComponent(accountId)}/sessions`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${operatorToken}` },
  });
  await response.arrayBuffer();
  const ms = nowMs() - t0;

  const confirmation = response.headers.get('revocation-confirmed') ?? 'none';
  let notRefusedOn = 0;
  for (const node of nodes) if (!isRevokedRefusal(await callNotes(node.url, token))) notRefusedOn += 1;
  return { ms, confirmation, ok: response.status === 204 && confirmation === `${SIZE}/${SIZE}`, notRefusedOn };
}

/** Starts a cluster on a fresh database, samples, and stops every node and drops the database whatever happens. */
export async function measureCluster(bus: BusKind, counts: SampleCounts, log: (message: string) => void): Promise<ClusterRun> {
  // The operator token is bound to the site's clientKey, so the site's clientKey is chosen before the nodes start.
  const clientKey = randomUuid();
  const operatorToken = randomSecret();
  const started = nowMs();
  const cluster = await startCluster({
    bus,
    size: SIZE,
    clientKey,
    nodeEnv: (_index, defaults) => ({ ...defaults, OPERATOR_TOKEN: `${clientKey}:${operatorToken}` }),
  });
  log(`three nodes, ${bus}: cluster up in ${Math.round(nowMs() - started)} ms`);
  try {
    const run: ClusterRun = { revokeAndConfirm: [], revocations: 0, unconfirmed: 0, notRefused: 0, confirmations: {} };
    for (let i = 0; i < counts.warmup + counts.samples; i += 1) {
      const warmup = i < counts.warmup;
      const measured = await sample(cluster, operatorToken, freshAccountId(warmup ? `warmup-${bus}` : bus, i), i);
      // Warm-up durations are dropped; a missing confirmation or a surviving token counts whenever it happens.
      run.revocations += 1;
      run.confirmations[measured.confirmation] = (run.confirmations[measured.confirmation] ?? 0) + 1;
      if (!measured.ok) run.unconfirmed += 1;
      run.notRefused += measured.notRefusedOn;
      if (!warmup) run.revokeAndConfirm.push(measured.ms);
    }
    log(`three nodes, ${bus}: ${summary(run.revokeAndConfirm)}, ${run.unconfirmed} unconfirmed, ${run.notRefused} not refused`);
    return run;
  } finally {
    await cluster.close();
  }
}
