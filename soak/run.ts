/**
 * `npm run soak -- --minutes N [--bus redis|postgres]`: a chaos soak of a three-node cluster,
 * judged by the oracle in soak/oracle.ts. Prints the tables, writes the results (to
 * soak/results/latest.json only with --record), and exits 1 when any oracle count is not 0.
 */
import { randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { describeMachine } from '../bench/lib/machine';
import { probe } from '../test/support/services';
import { renderReport, resultJson, totalViolations } from './report';
import { runSoak, soakOptions } from './soak';

const RESULTS_DIR = path.join(__dirname, 'results');
/** Committed: written only when asked. */
const RECORDED = path.join(RESULTS_DIR, 'latest.json');
/** Ignored by git: every other run's results. */
const UNRECORDED = path.join(RESULTS_DIR, 'last-run.json');

interface Options {
  minutes: number;
  bus: 'redis' | 'postgres';
  users: number;
  issues: number;
  rate: number;
  cacheTtl: number;
  seed?: number;
  record: boolean;
}

function positive(max: number, integer = false) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isFinite(number) || number <= 0 || number > max || (integer && !Number.isInteger(number))) {
      throw new InvalidArgumentError(`must be a${integer ? ' whole' : ''} number above 0 and at most ${max}`);
    }
    return number;
  };
}

async function main(options: Options): Promise<number> {
  const needed = options.bus === 'redis' ? (['postgres', 'redis'] as const) : (['postgres'] as const);
  const problems = (await Promise.all(needed.map(probe))).filter((problem) => problem !== null);
  if (problems.length > 0) {
    process.stderr.write(`soak: ${problems.join('; ')}\n`);
    return 2;
  }
  const started = Date.now();
  const machine = await describeMachine();
  const result = await runSoak(
    soakOptions({
      durationMs: options.minutes * 60_000,
      bus: options.bus,
      users: options.users,
      issues: options.issues,
      apiRate: options.rate,
      cacheTtlSeconds: options.cacheTtl,
      seed: options.seed ?? randomInt(1, 2 ** 31),
      log: (message) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`),
    }),
  );
  process.stdout.write(`\n${renderReport(result)}\n\n`);
  const file = options.record ? RECORDED : UNRECORDED;
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(file, `${JSON.stringify({ machine, ...resultJson(result) }, null, 1)}\n`);
  const violations = totalViolations(result.verdict.counts);
  process.stdout.write(`${violations === 0 ? 'PASS: every oracle count is 0' : `FAIL: ${violations} violations`}; results in ${path.relative(process.cwd(), file)}, node logs in ${result.logDir}\n`);
  return violations === 0 ? 0 : 1;
}

const program = new Command()
  .name('npm run soak --')
  .description('Chaos soak: three nodes behind a balancer under load, with revocations and faults at random, judged by an oracle. Needs PostgreSQL (and Redis for --bus redis).')
  .requiredOption('--minutes <n>', 'how long to run load, revocations and faults (fractions allowed: 0.5 is 30 s)', positive(24 * 60))
  .addOption(new Option('--bus <kind>', 'how nodes tell each other about revocations').choices(['redis', 'postgres']).default('redis'))
  .option('--users <n>', 'simulated users, each with one or two open issue panels', positive(5_000, true), 300)
  .option('--issues <n>', 'issues the panels are spread over at the start', positive(1_000, true), 6)
  .option('--rate <n>', 'guarded API calls per second the load aims at', positive(5_000), 120)
  .option('--cache-ttl <seconds>', "the nodes' CACHE_TTL_SECONDS: the staleness bound the oracle allows when a revocation answers n<m", positive(300, true), 30)
  .option('--seed <n>', 'seed for the random choices (not the timing), to replay a run', positive(2 ** 31, true))
  .option('--record', `write ${path.relative(process.cwd(), RECORDED)} (committed); otherwise ${path.relative(process.cwd(), UNRECORDED)} (ignored by git)`, false)
  .action(async (options: Options) => {
    process.exitCode = await main(options);
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 2;
});
