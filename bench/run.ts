/**
 * `npm run bench`: runs every figure of docs/PERFORMANCE.md on this machine, prints one table with each
 * figure's target and mark, writes bench/results/latest.json and draws bench/results/latest.svg (a --quick or
 * --only run writes into bench/results/partial/ instead, so that it never replaces the committed full run).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { runCoreCheck } from './figures/core-check';
import { runHotPath, THEFT_RATIOS } from './figures/hot-path';
import { isLiveSeries, runLive } from './figures/live';
import { runRevocation } from './figures/revocation';
import { runScale } from './figures/scale';
import { renderChart, type RatioBar } from './lib/chart';
import { describeMachine } from './lib/machine';
import { mark, type BenchContext, type FigureResult, type Measurement, type Skipped } from './lib/report';
import { resultsDirOf } from './lib/results';
import { renderTable } from './lib/table';

const RESULTS_DIR = path.join(__dirname, 'results');

interface Figure {
  /** As the --only option names it. */
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<FigureResult>;
}

const FIGURES: Figure[] = [
  { id: '2', title: 'core check, in-process', run: runCoreCheck },
  { id: '1', title: 'hot path and revocation under load (figures 1 and 5)', run: runHotPath },
  { id: '3', title: 'scale on SQLite', run: (ctx) => runScale(ctx, 'sqlite') },
  { id: '3', title: 'scale on PostgreSQL', run: (ctx) => runScale(ctx, 'postgres') },
  { id: '4', title: 'revocation latency', run: runRevocation },
  { id: '6', title: 'live channels: idle cost and revocation to page', run: runLive },
];

interface Options {
  quick: boolean;
  only?: string[];
  out?: string;
  profile?: string;
}

async function main(options: Options): Promise<number> {
  const started = Date.now();
  const out = resultsDirOf(options, RESULTS_DIR);
  const machine = await describeMachine();
  const scratchDir = mkdtempSync(path.join(tmpdir(), 'panelguard-bench-'));
  const ctx: BenchContext = {
    quick: options.quick,
    scratchDir,
    log: (message) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`),
    profileDir: options.profile === undefined ? undefined : path.resolve(options.profile),
  };
  ctx.log(`${options.quick ? 'quick' : 'full'} run on ${machine.cores} × ${machine.cpu}, Node ${machine.node}, PostgreSQL ${machine.postgres ?? 'absent'}, Redis ${machine.redis ?? 'absent'}`);

  const measurements: Measurement[] = [];
  const skipped: Skipped[] = [];
  const samples: Record<string, number[]> = {};
  const details: Record<string, unknown> = {};
  let crashed = 0;
  // Figure 5 runs inside the hot-path figure: --only 5 selects it.
  const selected = FIGURES.filter((f) => options.only === undefined || options.only.includes(f.id) || (f.id === '1' && options.only.includes('5')));
  try {
    for (const figure of selected) {
      ctx.log(`figure ${figure.id}: ${figure.title}`);
      try {
        const result = await figure.run(ctx);
        measurements.push(...result.measurements);
        skipped.push(...(result.skipped ?? []));
        Object.assign(samples, result.samples ?? {});
        details[figure.title] = result.details ?? {};
      } catch (error) {
        crashed += 1;
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        ctx.log(`figure ${figure.id} failed: ${error instanceof Error ? (error.stack ?? reason) : reason}`);
        skipped.push({ figure: figure.id, reason: `failed: ${reason}` });
      }
    }
  } finally {
    rmSync(scratchDir, { recursive: true, force: true });
  }

  const seconds = Math.round((Date.now() - started) / 1000);
  const table = renderTable(measurements, skipped);
  process.stdout.write(`\n${table}\n\n`);
  const short = measurements.filter((m) => mark(m) === 'SHORT');
  process.stdout.write(
    `${measurements.filter((m) => mark(m) === 'pass').length} pass, ${short.length} short, ${skipped.length} not run; ${seconds} s${options.quick ? ' (quick run: reduced sizes and rounds, marks indicative only)' : ''}\n`,
  );

  mkdirSync(out, { recursive: true });
  const results = {
    kind: options.quick ? 'quick' : 'full',
    startedAt: new Date(started).toISOString(),
    seconds,
    machine,
    measurements: measurements.map((m) => ({ ...m, mark: mark(m) })),
    skipped,
    samples,
    details,
  };
  writeFileSync(path.join(out, 'latest.json'), `${JSON.stringify(results, null, 1)}\n`);
  const ratio = (name: string, target: number, label = name): RatioBar => ({ label, value: measurements.find((m) => m.figure === '1' && m.name === name)?.value ?? Number.NaN, target });
  // The chart draws revocation latency against its 10 and 50 ms targets; the live channel's second is in the table.
  const latency = Object.fromEntries(Object.entries(samples).filter(([name]) => !name.startsWith('check') && !isLiveSeries(name)));
  writeFileSync(
    path.join(out, 'latest.svg'),
    renderChart({
      title: `PanelGuard ${options.quick ? 'quick' : 'full'} bench${options.only === undefined ? '' : ` (figures ${options.only.join(', ')} only)`}, ${results.startedAt.slice(0, 16)}Z, ${machine.cores} × ${machine.cpu}, commit ${machine.commit ?? '?'}${machine.dirty ? '+' : ''}`,
      latency,
      ratios: [ratio('guard / plain', 0.9), ratio('guard / ACE', 2.5), ratio(THEFT_RATIOS.rotation, 0.9, 'rotation / plain'), ratio(THEFT_RATIOS.keyBinding, 0.7, 'key binding / plain')],
    }),
  );
  process.stdout.write(`results: ${path.relative(process.cwd(), path.join(out, 'latest.json'))}, chart: ${path.relative(process.cwd(), path.join(out, 'latest.svg'))}\n`);
  return crashed > 0 ? 1 : 0;
}

function parseFigures(value: string): string[] {
  const figures = value.split(',').map((v) => v.trim());
  const unknown = figures.filter((f) => !['1', '2', '3', '4', '5', '6'].includes(f));
  if (unknown.length > 0) throw new InvalidArgumentError(`no figure ${unknown.join(', ')}: figures are 1 to 6`);
  return figures;
}

const program = new Command()
  .name('npm run bench --')
  .description('Measures PanelGuard against the targets in docs/PERFORMANCE.md. Needs PostgreSQL and Redis for figures 2-4 and 6 in full.')
  .option('--quick', 'a smoke run of about four minutes (two of them figure 6): fewer rounds, smaller data; marks are indicative only', false)
  .addOption(new Option('--only <figures>', 'comma-separated figure numbers to run (1-6)').argParser(parseFigures))
  .option('--out <dir>', 'where latest.json and latest.svg go (default bench/results/ for a full run, bench/results/partial/ with --quick or --only)')
  .option('--profile <dir>', "write a V8 CPU profile of the hot path's server (figures 1 and 5) into this folder")
  .action(async (options: Options) => {
    process.exitCode = await main(options);
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
