#!/usr/bin/env node
/** The operator's command line: list and revoke live sessions and read the audit trail, on the server's configured store. */
import { Command, CommanderError, Option } from 'commander';
import { systemClock } from './allowlist/clock';
import type { AuditKind, Confirmation, Store } from './allowlist/types';
import { auditTable, plural, sessionsTable } from './cli/format';
import { note, withCore, withStore } from './cli/operator';
import { AUDIT_KINDS, DEFAULT_LIMIT, MAX_LIMIT, parseLimit, parseSince } from './cli/options';
import { ConfigError, loadConfig } from './config';

/** 0 done; 1 refused (unknown user or tenant, reset without --yes) or failed; 2 the command line or the configuration is wrong. */
type ExitCode = 0 | 1 | 2;

interface ListOptions {
  tenant: string;
  user?: string;
  resource?: string;
  limit: number;
  json?: boolean;
}

interface RevokeOptions {
  tenant: string;
  user: string;
}

interface ResetOptions {
  tenant: string;
  yes?: boolean;
}

interface AuditOptions {
  tenant: string;
  kind?: AuditKind;
  user?: string;
  since?: number;
  limit: number;
  json?: boolean;
}

const OPERATOR = 'operator:cli';

async function listSessions(options: ListOptions): Promise<ExitCode> {
  return withStore(loadConfig(), async (store) => {
    if (!(await tenantExists(store, options.tenant))) return 1;
    const { entries, next } = await store.listEntries({
      clientKey: options.tenant,
      accountId: options.user,
      resource: options.resource,
      now: systemClock.now(),
      limit: options.limit,
    });
    if (options.json) {
      await print(`${JSON.stringify(entries, null, 2)}\n`);
    } else if (entries.length === 0) {
      note(`no live sessions in ${options.tenant}`);
    } else {
      await print(sessionsTable(entries));
    }
    if (next !== null) note(`more live sessions than --limit ${options.limit}: raise it (at most ${MAX_LIMIT}) or narrow with --user or --resource`);
    return 0;
  });
}

async function revokeUser(options: RevokeOptions): Promise<ExitCode> {
  const config = loadConfig();
  return withStore(config, async (store) => {
    if (!(await store.isKnownUser(options.tenant, options.user))) {
      note(`no such user in ${options.tenant}: ${options.user}`);
      return 1;
    }
    const { count, confirmation } = await withCore(config, store, ({ core }) =>
      core.allowlist.revoke({ kind: 'user', clientKey: options.tenant, accountId: options.user }, { actor: OPERATOR, reason: 'operator_revoked' }),
    );
    await print(`revoked ${plural(count, 'session')} of ${options.user} (${confirmed(confirmation)})\n`);
    return 0;
  });
}

async function resetTenant(options: ResetOptions): Promise<ExitCode> {
  const config = loadConfig();
  return withStore(config, async (store) => {
    if (!(await tenantExists(store, options.tenant))) return 1;
    if (!options.yes) {
      const live = await store.countLiveEntries(systemClock.now(), options.tenant);
      note(`would revoke every session of ${options.tenant} (${plural(live, 'live session')} now); nothing done: add --yes to do it`);
      return 1;
    }
    const { count, confirmation } = await withCore(config, store, ({ core }) =>
      core.allowlist.revoke({ kind: 'tenant', clientKey: options.tenant }, { actor: OPERATOR, reason: 'operator_reset' }),
    );
    await print(`revoked ${plural(count, 'session')} of ${options.tenant} (${confirmed(confirmation)})\n`);
    return 0;
  });
}

async function listAudit(options: AuditOptions): Promise<ExitCode> {
  return withStore(loadConfig(), async (store) => {
    if (!(await tenantExists(store, options.tenant))) return 1;
    const { records, nextBefore } = await store.listAudit({
      clientKey: options.tenant,
      kind: options.kind,
      accountId: options.user,
      since: options.since,
      limit: options.limit,
    });
    if (options.json) {
      await print(`${JSON.stringify(records, null, 2)}\n`);
    } else if (records.length === 0) {
      note(`no audit records in ${options.tenant} match`);
    } else {
      await print(auditTable(records));
    }
    if (nextBefore !== null) note(`more records than --limit ${options.limit}: raise it (at most ${MAX_LIMIT}) or narrow with --kind, --user or --since`);
    return 0;
  });
}

/** A typo in a client key would otherwise list nothing, or revoke nothing, without a word. */
async function tenantExists(store: Store, clientKey: string): Promise<boolean> {
  if ((await store.getTenant(clientKey)) !== null) return true;
  note(`no such tenant: ${clientKey}`);
  return false;
}

function confirmed(confirmation: Confirmation): string {
  return `confirmed ${confirmation.confirmed}/${confirmation.expected} nodes`;
}

/** Resolves once the text is handed to stdout, so exiting right after loses none of it. */
function print(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}

function buildProgram(finished: (code: ExitCode) => void): Command {
  const run =
    <T>(command: (options: T) => Promise<ExitCode>) =>
    async (options: T) =>
      finished(await command(options));
  const tenant = () => new Option('--tenant <clientKey>', "the site's Connect clientKey").makeOptionMandatory();
  const limit = (what: string) =>
    new Option('--limit <n>', `at most this many ${what}, 1 to ${MAX_LIMIT}`).argParser(parseLimit).default(DEFAULT_LIMIT);

  const program = new Command('panelguard')
    .description('Operate PanelGuard on the store the server is configured with (DATABASE_URL, BUS, REDIS_URL, ...).')
    // Usage mistakes exit 2 (see run); commander has already printed what was wrong.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');

  const sessions = program.command('sessions').description("list and revoke users' live page-token sessions");
  sessions
    .command('list')
    .description('live sessions (not revoked, not expired), newest first')
    .addOption(tenant())
    .option('--user <accountId>', 'only this user')
    .option('--resource <resource>', 'only this resource, e.g. jira:issue:10001')
    .addOption(limit('sessions'))
    .option('--json', 'print the full records as JSON')
    .action(run(listSessions));
  sessions
    .command('revoke')
    .description("revoke every session of one user, announced to every node and audited (the user may sign in again)")
    .addOption(tenant())
    .requiredOption('--user <accountId>', 'the Atlassian account id')
    .action(run(revokeUser));
  sessions
    .command('reset')
    .description('revoke every session of a site (its users may open new ones); only with --yes')
    .addOption(tenant())
    .option('--yes', 'do it; without it, say what would be revoked and exit 1')
    .action(run(resetTenant));

  program
    .command('audit')
    .description("a site's audit trail, newest first")
    .addOption(tenant())
    .addOption(new Option('--kind <kind>', 'only this kind of record').choices(AUDIT_KINDS))
    .option('--user <accountId>', 'only records about this user')
    .option('--since <time>', 'only records at or after this time: ISO 8601 or milliseconds since the epoch', parseSince)
    .addOption(limit('records'))
    .option('--json', 'print the full records as JSON')
    .action(run(listAudit));
  return program;
}

async function main(argv: string[]): Promise<ExitCode> {
  let outcome: ExitCode = 0;
  const program = buildProgram((code) => {
    outcome = code;
  });
  try {
    await program.parseAsync(argv);
    return outcome;
  } catch (error) {
    // --help and --version "fail" with exit code 0; every other commander error is a usage mistake.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`panelguard: configuration error: ${problem}\n`);
      return 2;
    }
    note(`failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

// Exits explicitly: a cluster bus's reconnecting client would otherwise keep the process alive.
void main(process.argv).then((code) => process.exit(code));
