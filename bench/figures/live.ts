/**
 * Figure 6, live channels: what idle channels cost the node that holds them (target: 10,000 under 200 MB more
 * resident memory), and, on three nodes, the time from a removal's answer on one node to the `ended` event on a
 * channel another node holds (target: p99 < 1 s), on each bus.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { probe, type Service } from '../../test/support/services';
import type { BusKind } from '../../test/integration/cluster-harness';
import { measureIdle, measureLatency, withCluster, type IdleCost } from '../live/channels';
import type { BenchContext, FigureResult, Measurement, Skipped, Target } from '../lib/report';
import { distribution, nowMs, quantile } from '../lib/stats';

const FIGURE = '6';
/** The target: 10,000 idle channels on one node, under 200 MB more resident memory. */
export const TARGET_CHANNELS = 10_000;
const TARGET_MB = 200;
const TOTAL_TARGET: Target = { op: '<', value: TARGET_MB };
/** The same target per channel (200 MB over 10,000), which holds at any count. */
const PER_CHANNEL_TARGET: Target = { op: '<', value: (TARGET_MB * 1e6) / TARGET_CHANNELS / 1e3 };
const P99_TARGET: Target = { op: '<', value: 1_000 };
const NONE: Target = { op: '=', value: 0 };

const BUSES: BusKind[] = ['redis', 'postgres'];
const NEEDS: Record<BusKind, Service[]> = { redis: ['postgres', 'redis'], postgres: ['postgres'] };

const LATENCY_SERIES = 'removal answered to page told';
export const SERIES = { latency: (bus: BusKind) => `three nodes, ${bus}: ${LATENCY_SERIES}` };

/** Whether a sample series is this figure's: its target is a second, not the revocation chart's milliseconds. */
export function isLiveSeries(name: string): boolean {
  return name.endsWith(LATENCY_SERIES);
}

interface Sizes {
  channels: number;
  samples: number;
}

function sizesOf(quick: boolean): Sizes {
  return quick ? { channels: 1_000, samples: 30 } : { channels: TARGET_CHANNELS, samples: 200 };
}

function idleMeasurements(idle: IdleCost, asked: number, note: string): Measurement[] {
  const added = idle.rssAfterBytes - idle.rssBeforeBytes;
  const how = `${note}; RSS from the node's /metrics, ${(idle.rssBeforeBytes / 1e6).toFixed(0)} -> ${(idle.rssAfterBytes / 1e6).toFixed(0)} MB`;
  return [
    { figure: FIGURE, name: 'idle channels held by one node', value: idle.open, unit: 'channels', target: { op: '>=', value: asked }, note: `${asked} opened` },
    // The total's target is for 10,000 channels; a smaller (quick) run reports it without one.
    {
      figure: FIGURE,
      name: `resident memory added by ${asked.toLocaleString('en-US')} idle channels`,
      value: added / 1e6,
      unit: 'MB',
      ...(asked >= TARGET_CHANNELS ? { target: TOTAL_TARGET } : {}),
      note: how,
    },
    { figure: FIGURE, name: 'resident memory per idle channel', value: added / asked / 1e3, unit: 'KB', target: PER_CHANNEL_TARGET, note: how },
  ];
}

function latencyMeasurements(bus: BusKind, answerToEvent: number[], missed: number, note: string): Measurement[] {
  const how = `${note}; the removal webhook through node B, the channel on node A; negative when the event arrived before the answer`;
  return [
    { figure: FIGURE, name: `${SERIES.latency(bus)} p50`, value: quantile(answerToEvent, 0.5), unit: 'ms', note: how },
    { figure: FIGURE, name: `${SERIES.latency(bus)} p99`, value: quantile(answerToEvent, 0.99), unit: 'ms', target: P99_TARGET, note: how },
    { figure: FIGURE, name: `three nodes, ${bus}: removals the page never heard of`, value: missed, unit: 'samples', target: NONE, note: `of ${answerToEvent.length + missed}, within 5 s` },
  ];
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}

export async function runLive(ctx: BenchContext): Promise<FigureResult> {
  const sizes = sizesOf(ctx.quick);
  const note = ctx.quick ? 'quick run: indicative only' : `n=${sizes.samples}`;
  const measurements: Measurement[] = [];
  const samples: Record<string, number[]> = {};
  const skipped: Skipped[] = [];
  const details: Record<string, unknown> = { sizes };
  const started = nowMs();
  // Idle memory once, on the first bus that runs: idle channels do not touch the bus.
  let idleMeasured = false;

  for (const bus of BUSES) {
    const missing = (await Promise.all(NEEDS[bus].map((service) => probe(service)))).filter((problem) => problem !== null);
    if (missing.length > 0) {
      skipped.push({ figure: `${FIGURE} ${bus}`, reason: missing.join('; ') });
      continue;
    }
    try {
      await withCluster(bus, sizes.channels, async (cluster) => {
        if (!idleMeasured) {
          idleMeasured = true;
          try {
            const cost = await measureIdle(cluster, sizes.channels, ctx.log);
            measurements.push(...idleMeasurements(cost, sizes.channels, `three nodes on ${bus}`));
            details.idle = { bus, ...cost };
          } catch (error) {
            ctx.log(`figure 6: idle channels failed: ${error instanceof Error ? (error.stack ?? describe(error)) : describe(error)}`);
            measurements.push({ figure: FIGURE, name: 'resident memory per idle channel', value: Number.NaN, unit: 'KB', target: PER_CHANNEL_TARGET, note: `failed: ${describe(error)}` });
          }
        }
        ctx.log(`figure 6: three nodes on the ${bus} bus, ${sizes.samples} removals`);
        const run = await measureLatency(cluster, sizes.samples);
        measurements.push(...latencyMeasurements(bus, run.answerToEvent, run.missed, note));
        samples[SERIES.latency(bus)] = run.answerToEvent;
        details[bus] = { answerToEvent: distribution(run.answerToEvent), missed: run.missed };
      });
    } catch (error) {
      ctx.log(`figure 6: three nodes on the ${bus} bus failed: ${error instanceof Error ? (error.stack ?? describe(error)) : describe(error)}`);
      measurements.push({ figure: FIGURE, name: `${SERIES.latency(bus)} p99`, value: Number.NaN, unit: 'ms', target: P99_TARGET, note: `failed: ${describe(error)}` });
    }
  }

  ctx.log(`figure 6: done in ${((nowMs() - started) / 1000).toFixed(1)} s`);
  return { measurements, samples, skipped, details };
}

if (require.main === module) {
  const scratchDir = mkdtempSync(path.join(tmpdir(), 'panelguard-bench-live-'));
  const ctx: BenchContext = { quick: process.argv.includes('--quick'), scratchDir, log: (message) => process.stderr.write(`${message}\n`) };
  runLive(ctx)
    .then((result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`))
    .catch((error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exitCode = 1;
    })
    .finally(() => rmSync(scratchDir, { recursive: true, force: true }));
}
