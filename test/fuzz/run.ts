/**
 * `npm run fuzz -- --runs N [--seed S] [--only NAME] [--path P]`: runs every property N times and prints, per
 * property, the inputs tried, failures and the seed, with the counterexample and how to replay it on failure.
 * Exits 1 if any property failed, 2 on a bad option.
 */
import { Command, InvalidArgumentError } from 'commander';
import { FUZZ_PROPERTIES } from './properties';
import { failureReport, runProperty, type PropertyResult } from './property';
import { SitePool } from './sites';

function wholeNumber(value: string): number {
  if (!/^-?[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('Expected a whole number.');
  return Number(value);
}

function positive(value: string): number {
  const n = wholeNumber(value);
  if (n < 1) throw new InvalidArgumentError('Expected at least 1.');
  return n;
}

interface Options {
  runs: number;
  seed?: number;
  only?: string;
  path?: string;
}

const program = new Command('fuzz')
  .description('Property-based fuzzing of PanelGuard: every property, N inputs each.')
  .requiredOption('--runs <n>', 'inputs per property', positive)
  .option('--seed <s>', "fast-check's seed (default: a fresh one per property, printed)", wholeNumber)
  .option('--only <name>', 'run only the properties whose name contains this')
  .option('--path <path>', "replay one counterexample: fast-check's path, printed with a failure (with --only and --seed)")
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

function report(result: PropertyResult, options: Options): void {
  const seconds = (result.ms / 1000).toFixed(1);
  const status = result.failed ? 'FAILED' : 'ok';
  process.stdout.write(`${status.padEnd(6)} ${result.name}: ${result.runs} inputs, ${result.failed ? 1 : 0} failures, seed ${result.seed}, ${seconds} s\n`);
  const total = result.tally.reduce((sum, [, n]) => sum + n, 0);
  const reached = result.tally.map(([outcome, n]) => `${outcome} ${((100 * n) / total).toFixed(n * 1000 < total ? 2 : 1)}%`).join(', ');
  if (reached !== '') process.stdout.write(`       reached: ${reached}\n`);
  if (!result.failed) return;
  for (const line of failureReport(result, options.runs)) process.stdout.write(`       ${line.replace(/\n/g, '\n       ')}\n`);
}

async function main(): Promise<number> {
  program.parse();
  const options = program.opts<Options>();
  const properties = FUZZ_PROPERTIES.filter((p) => options.only === undefined || p.name.includes(options.only));
  if (properties.length === 0) {
    process.stderr.write(`fuzz: no property is named like ${JSON.stringify(options.only)}\n`);
    return 2;
  }
  const sites = new SitePool();
  const started = performance.now();
  const results: PropertyResult[] = [];
  try {
    for (const property of properties) {
      const result = await runProperty(property, sites, { numRuns: options.runs, seed: options.seed, path: options.path });
      report(result, options);
      results.push(result);
    }
  } finally {
    await sites.close();
  }
  const failed = results.filter((r) => r.failed).length;
  const inputs = results.reduce((sum, r) => sum + r.runs, 0);
  process.stdout.write(`${results.length} properties, ${inputs} inputs, ${failed} failed, ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return failed === 0 ? 0 : 1;
}

// Exits explicitly: the app's timers and kept-alive sockets are closed, but a property may leave a handle behind.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`fuzz: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
