/** The operator CLI's command line: which command to run with which options, decided without running anything or exiting. */
import { Command, CommanderError, Option, type OutputConfiguration } from 'commander';
import { AUDIT_KINDS, type AuditKind } from '../allowlist/types';
import { DEFAULT_LIMIT, MAX_LIMIT, parseLimit, parseSince, parseSource } from './options';

export interface ListOptions {
  tenant: string;
  user?: string;
  resource?: string;
  limit: number;
  json?: boolean;
}

export interface RevokeOptions {
  tenant: string;
  user: string;
}

export interface ResetOptions {
  tenant: string;
  yes?: boolean;
}

export interface AuditOptions {
  tenant: string;
  kind?: AuditKind;
  user?: string;
  since?: number;
  limit: number;
  json?: boolean;
}

export interface IngestOptions {
  /** A file of leak reports, one per line. */
  file: string;
  source: string;
  /** Only this site's sessions; every site's when absent. */
  site?: string;
  json?: boolean;
  stats?: boolean;
}

export type OperatorCommand =
  | { name: 'sessions list'; options: ListOptions }
  | { name: 'sessions revoke'; options: RevokeOptions }
  | { name: 'sessions reset'; options: ResetOptions }
  | { name: 'audit'; options: AuditOptions }
  | { name: 'intel ingest'; options: IngestOptions };

/**
 * A command to run, or the exit code of a command line that runs none: 0 after --help, 2 after a usage
 * mistake. Commander has written the help or what was wrong to `output` (stdout and stderr by default).
 */
export type ParsedCommandLine = { ok: true; command: OperatorCommand } | { ok: false; exitCode: 0 | 2 };

/** Parses the arguments after the program name; throws nothing for any command line. */
export function parseCommandLine(args: readonly string[], output?: OutputConfiguration): ParsedCommandLine {
  let chosen: OperatorCommand | null = null;
  const program = buildProgram((command) => {
    chosen = command;
  }, output);
  try {
    program.parse([...args], { from: 'user' });
  } catch (error) {
    // --help "fails" with exit code 0; every other commander error is a usage mistake.
    if (error instanceof CommanderError) return { ok: false, exitCode: error.exitCode === 0 ? 0 : 2 };
    throw error;
  }
  return chosen === null ? { ok: false, exitCode: 2 } : { ok: true, command: chosen };
}

function buildProgram(choose: (command: OperatorCommand) => void, output: OutputConfiguration | undefined): Command {
  const tenant = () => new Option('--tenant <clientKey>', "the site's Connect clientKey").makeOptionMandatory();
  const limit = (what: string) =>
    new Option('--limit <n>', `at most this many ${what}, 1 to ${MAX_LIMIT}`).argParser(parseLimit).default(DEFAULT_LIMIT);

  const program = new Command('panelguard')
    .description('Operate PanelGuard on the store the server is configured with (DATABASE_URL, BUS, REDIS_URL, ...).')
    // Commander throws instead of exiting; parseCommandLine turns that into an exit code.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');
  // Before the subcommands are added: they inherit it.
  if (output !== undefined) program.configureOutput(output);

  const sessions = program.command('sessions').description("list and revoke users' live page-token sessions");
  sessions
    .command('list')
    .description('live sessions (not revoked, not expired), newest first')
    .addOption(tenant())
    .option('--user <accountId>', 'only this user')
    .option('--resource <resource>', 'only this resource, e.g. jira:issue:10001')
    .addOption(limit('sessions'))
    .option('--json', 'print the full records as JSON')
    .action((options: ListOptions) => choose({ name: 'sessions list', options }));
  sessions
    .command('revoke')
    .description('revoke every session of one user, announced to every node and audited (the user may sign in again)')
    .addOption(tenant())
    .requiredOption('--user <accountId>', 'the Atlassian account id')
    .action((options: RevokeOptions) => choose({ name: 'sessions revoke', options }));
  sessions
    .command('reset')
    .description('revoke every session of a site (its users may open new ones); only with --yes')
    .addOption(tenant())
    .option('--yes', 'do it; without it, say what would be revoked and exit 1')
    .action((options: ResetOptions) => choose({ name: 'sessions reset', options }));

  program
    .command('audit')
    .description("a site's audit trail, newest first")
    .addOption(tenant())
    .addOption(new Option('--kind <kind>', 'only this kind of record').choices(AUDIT_KINDS))
    .option('--user <accountId>', 'only records about this user')
    .option('--since <time>', 'only records at or after this time: ISO 8601 or milliseconds since the epoch', parseSince)
    .addOption(limit('records'))
    .option('--json', 'print the full records as JSON')
    .action((options: AuditOptions) => choose({ name: 'audit', options }));

  const intel = program.command('intel').description('take reports of leaked page tokens (breach data, infostealer logs)');
  intel
    .command('ingest')
    .description("end every session of each user a leaked token names a live session of, on that session's site; streams the file, prints the counts")
    .argument('<file>', 'one report per line: a page token, the hex SHA-256 of its jti, or JSON {"token": ...} or {"hash": ...}; blank lines and # comments are skipped')
    .addOption(new Option('--source <label>', 'who reported it, recorded as the actor intel:<label>').argParser(parseSource).makeOptionMandatory())
    .option('--site <clientKey>', "only this site's sessions (tokens of other sites count as unknown); by default every site")
    .option('--json', 'print the counts as JSON')
    .option('--stats', 'also print the time taken and the peak memory (max RSS) to stderr')
    .action((file: string, options: Omit<IngestOptions, 'file'>) => choose({ name: 'intel ingest', options: { file, ...options } }));
  return program;
}
