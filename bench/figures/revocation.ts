/**
 * Figure 4, revocation latency: on one node, from the host's `user_deleted` webhook to the refusal
 * of the next call with the user's token; on three nodes, for each bus, how long the revoking call
 * takes to come back with every node's confirmation. Target: p50 < 10 ms, p99 < 50 ms. And, without a
 * target of its own, theft detection's revocation: from a fork to the session refused on every node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { probe, type Service } from '../../test/support/services';
import type { BusKind } from '../../test/integration/cluster-harness';
import type { BenchContext, FigureResult, Measurement, Skipped, Target } from '../lib/report';
import { distribution, nowMs, quantile } from '../lib/stats';
import { measureCluster, type ClusterRun } from '../revocation/cluster';
import { FORK_ROTATION, measureFork, POLL_LIMIT_MS, type ForkRun } from '../revocation/fork';
import type { SampleCounts } from '../revocation/series';
import { measureSingleNode, type SingleNodeRun } from '../revocation/single-node';

const FIGURE = '4';
const P50_TARGET: Target = { op: '<', value: 10 };
const P99_TARGET: Target = { op: '<', value: 50 };
const NONE: Target = { op: '=', value: 0 };

export const SERIES = {
  single: 'single node: webhook to refusal',
  cluster: (bus: BusKind) => `three nodes, ${bus}: revoke and confirm`,
  fork: (bus: BusKind) => `three nodes, ${bus}: fork to refusal everywhere`,
};

const BUSES: BusKind[] = ['redis', 'postgres'];
const NEEDS: Record<BusKind, Service[]> = { redis: ['postgres', 'redis'], postgres: ['postgres'] };

function sampleCounts(quick: boolean): SampleCounts {
  return quick ? { warmup: 3, samples: 30 } : { warmup: 10, samples: 200 };
}

/** At least 50 forks even in a quick run: each is a fraction of a second. */
function forkCounts(quick: boolean): SampleCounts {
  return quick ? { warmup: 3, samples: 50 } : { warmup: 10, samples: 200 };
}

function countsNote(counts: SampleCounts, quick: boolean): string {
  return `n=${counts.samples} after ${counts.warmup} warm-up${quick ? ' (quick run: indicative only)' : ''}`;
}

function percentiles(name: string, samples: readonly number[], note: string): Measurement[] {
  return [
    { figure: FIGURE, name: `${name} p50`, value: quantile(samples, 0.5), unit: 'ms', target: P50_TARGET, note },
    { figure: FIGURE, name: `${name} p99`, value: quantile(samples, 0.99), unit: 'ms', target: P99_TARGET, note },
  ];
}

/** A series that failed to run: its targets show as missed (NaN), with the reason in the note. */
function failed(name: string, error: unknown): Measurement[] {
  return percentiles(name, [], `failed: ${describe(error)}`);
}

/** The first line of an error, with its cause's (fetch hides ECONNREFUSED there). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const first = error.message.split('\n')[0] ?? '';
  return error.cause === undefined ? first : `${first} (${describe(error.cause)})`;
}

/** The whole story goes to the log: a node that exited says why in the log lines its error carries. */
function logFailure(ctx: BenchContext, series: string, error: unknown): void {
  const rest = error instanceof Error ? error.message.split('\n').slice(1) : [];
  ctx.log([`figure 4: ${series} failed: ${describe(error)}`, ...rest.map((line) => `  ${line}`)].join('\n'));
}

function singleNodeMeasurements(run: SingleNodeRun, note: string): Measurement[] {
  return [
    ...percentiles(SERIES.single, run.webhookToRefusal, note),
    { figure: FIGURE, name: 'single node: webhook call p50', value: quantile(run.webhook, 0.5), unit: 'ms', note },
    { figure: FIGURE, name: 'single node: webhook call p99', value: quantile(run.webhook, 0.99), unit: 'ms', note },
    {
      figure: FIGURE,
      name: 'single node: tokens not refused after the webhook',
      value: run.notRefused,
      unit: 'samples',
      target: NONE,
      note: `of ${run.revocations} revocations, warm-up included`,
    },
    {
      figure: FIGURE,
      name: 'single node: webhooks not answered 200, 1/1',
      value: run.unconfirmed,
      unit: 'samples',
      target: NONE,
      note: `of ${run.revocations} revocations, warm-up included`,
    },
  ];
}

function clusterMeasurements(bus: BusKind, run: ClusterRun, note: string): Measurement[] {
  const of = `of ${run.revocations} revocations, warm-up included`;
  return [
    ...percentiles(SERIES.cluster(bus), run.revokeAndConfirm, `${note}; DELETE /api/admin/users/:id/sessions, revoking node rotates`),
    { figure: FIGURE, name: `three nodes, ${bus}: revocations not confirmed 3/3`, value: run.unconfirmed, unit: 'samples', target: NONE, note: of },
    {
      figure: FIGURE,
      name: `three nodes, ${bus}: calls not refused after the revocation`,
      value: run.notRefused,
      unit: 'requests',
      target: NONE,
      note: `${of}, each checked on all three nodes`,
    },
  ];
}

function forkMeasurements(bus: BusKind, run: ForkRun, note: string): Measurement[] {
  const of = `of ${run.forks} forks, warm-up included`;
  const how = `${note}; ROTATE_AFTER_SECONDS=${FORK_ROTATION.afterSeconds}, ROTATION_GRACE_SECONDS=${FORK_ROTATION.graceSeconds}; minted on one node, rotated on the next, the stale token sent to the third; the current token cached on all three`;
  const row = (name: string, samples: number[], q: number, detail: string): Measurement => ({
    figure: FIGURE,
    name: `three nodes, ${bus}: ${name} p${q * 100}`,
    value: quantile(samples, q),
    unit: 'ms',
    note: detail,
  });
  const everywhere = `from the stale token sent to the third node's refusal of the current token, all three called once the fork answered; ${how}`;
  const call = `the stale token's call, answered 401 token_forked once the session's revocation was confirmed; ${how}`;
  return [
    row('fork to refusal everywhere', run.forkToRefusedEverywhere, 0.5, everywhere),
    row('fork to refusal everywhere', run.forkToRefusedEverywhere, 0.99, everywhere),
    row('fork call', run.forkCall, 0.5, call),
    row('fork call', run.forkCall, 0.99, call),
    { figure: FIGURE, name: `three nodes, ${bus}: forks not refused as token_forked`, value: run.forkNotRefused, unit: 'samples', target: NONE, note: of },
    {
      figure: FIGURE,
      name: `three nodes, ${bus}: current token served after the fork answered`,
      value: run.servedAfterFork,
      unit: 'requests',
      target: NONE,
      note: `${of}, each node called once; ${run.neverRefused} forks still served somewhere after ${POLL_LIMIT_MS / 1000} s of polling`,
    },
  ];
}

export async function runRevocation(ctx: BenchContext): Promise<FigureResult> {
  const counts = sampleCounts(ctx.quick);
  const note = countsNote(counts, ctx.quick);
  const measurements: Measurement[] = [];
  const samples: Record<string, number[]> = {};
  const skipped: Skipped[] = [];
  const details: Record<string, unknown> = { counts };
  const started = nowMs();

  ctx.log(`figure 4: single node, ${counts.samples} samples`);
  try {
    const run = await measureSingleNode(path.join(ctx.scratchDir, 'revocation-single-node'), counts, ctx.log);
    measurements.push(...singleNodeMeasurements(run, note));
    samples[SERIES.single] = run.webhookToRefusal;
    details.singleNode = { webhookToRefusal: distribution(run.webhookToRefusal), webhook: distribution(run.webhook), webhookSamples: run.webhook };
  } catch (error) {
    logFailure(ctx, 'single node', error);
    measurements.push(...failed(SERIES.single, error));
  }

  for (const bus of BUSES) {
    const missing = (await Promise.all(NEEDS[bus].map((service) => probe(service)))).filter((problem) => problem !== null);
    if (missing.length > 0) {
      skipped.push({ figure: `${FIGURE} ${bus}`, reason: missing.join('; ') });
      continue;
    }
    ctx.log(`figure 4: three nodes on the ${bus} bus, ${counts.samples} samples`);
    try {
      const run = await measureCluster(bus, counts, ctx.log);
      measurements.push(...clusterMeasurements(bus, run, note));
      samples[SERIES.cluster(bus)] = run.revokeAndConfirm;
      details[bus] = { revokeAndConfirm: distribution(run.revokeAndConfirm), confirmations: run.confirmations };
    } catch (error) {
      logFailure(ctx, `three nodes on the ${bus} bus`, error);
      measurements.push(...failed(SERIES.cluster(bus), error));
    }

    const forks = forkCounts(ctx.quick);
    ctx.log(`figure 4: three nodes on the ${bus} bus, ${forks.samples} forks`);
    try {
      const run = await measureFork(bus, forks, ctx.log);
      measurements.push(...forkMeasurements(bus, run, countsNote(forks, ctx.quick)));
      samples[SERIES.fork(bus)] = run.forkToRefusedEverywhere;
      details[`${bus} forks`] = { forkToRefusedEverywhere: distribution(run.forkToRefusedEverywhere), forkCall: distribution(run.forkCall), forkCallSamples: run.forkCall };
    } catch (error) {
      logFailure(ctx, `forks on three nodes on the ${bus} bus`, error);
      measurements.push({ figure: FIGURE, name: `${SERIES.fork(bus)} p50`, value: Number.NaN, unit: 'ms', target: NONE, note: `failed: ${describe(error)}` });
    }
  }

  ctx.log(`figure 4: done in ${((nowMs() - started) / 1000).toFixed(1)} s`);
  return { measurements, samples, skipped, details };
}

if (require.main === module) {
  const scratchDir = mkdtempSync(path.join(tmpdir(), 'panelguard-bench-revocation-'));
  const ctx: BenchContext = {
    quick: process.argv.includes('--quick'),
    scratchDir,
    log: (message) => process.stderr.write(`${message}\n`),
  };
  runRevocation(ctx)
    .then((result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`))
    .catch((error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exitCode = 1;
    })
    .finally(() => rmSync(scratchDir, { recursive: true, force: true }));
}
