#!/usr/bin/env node
/** The operator's command line: list and revoke live sessions, read the audit trail and take leak reports, through the core on the server's configured store and bus. */
import type { Core } from '../allowlist/assemble';
import type { Confirmation } from '../allowlist/types';
import { auditTable, plural, sessionsTable } from './format';
import { ingestLeaks } from './intel';
import { joinCluster, note, withOperatorCore, type NodeReach } from './operator';
import { parseCommandLine, type AuditOptions, type ListOptions, type OperatorCommand, type ResetOptions, type RevokeOptions } from './command-line';
import { MAX_LIMIT } from './options';
import { ConfigError, loadConfig } from '../app/config';

/**
 * 0 done; 1 refused (unknown user or tenant, reset without --yes, an unreadable leak file) or failed; 2 the command
 * line or the configuration is wrong; 3 revoked in the store, but running nodes were not told or not all confirmed.
 */
type ExitCode = 0 | 1 | 2 | 3;

/** Who the audit says acted; the reasons are the admin API's, since the CLI asks the core the same things. */
const OPERATOR = 'operator:cli';

async function listSessions(options: ListOptions): Promise<ExitCode> {
  return withOperatorCore(loadConfig(), 'local', async ({ core }) => {
    if (!(await tenantExists(core, options.tenant))) return 1;
    const listed = await core.sessions.list(options.tenant, { accountId: options.user, resource: options.resource, limit: options.limit });
    if (!listed.ok) return failed();
    const { entries, next } = listed.value;
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
  return withOperatorCore(config, 'cluster', async ({ core, bus }) => {
    if (!(await tenantExists(core, options.tenant))) return 1;
    // Asked before joining the cluster, so that a typo is answered at once.
    const known = await core.sessions.knowsUser(options.tenant, options.user);
    if (!known.ok) return failed();
    if (!known.value) return noSuchUser(options);
    const reach = await joinCluster(bus, config);
    const revoked = await core.sessions.revokeUser(options.tenant, options.user, OPERATOR);
    if (!revoked.ok) return failed();
    if (revoked.value === null) return noSuchUser(options);
    return reportRevocation(options.user, { ...revoked.value, reach });
  });
}

function noSuchUser(options: RevokeOptions): ExitCode {
  note(`no such user in ${options.tenant}: ${options.user}`);
  return 1;
}

async function resetTenant(options: ResetOptions): Promise<ExitCode> {
  const config = loadConfig();
  return withOperatorCore(config, 'cluster', async ({ core, bus }) => {
    if (!(await tenantExists(core, options.tenant))) return 1;
    if (!options.yes) {
      const live = await core.sessions.countLive(options.tenant);
      if (!live.ok) return failed();
      note(`would revoke every session of ${options.tenant} (${plural(live.value, 'live session')} now); nothing done: add --yes to do it`);
      return 1;
    }
    const reach = await joinCluster(bus, config);
    const reset = await core.sessions.resetTenant(options.tenant, OPERATOR);
    if (!reset.ok) return failed();
    return reportRevocation(options.tenant, { ...reset.value, reach });
  });
}

async function listAudit(options: AuditOptions): Promise<ExitCode> {
  return withOperatorCore(loadConfig(), 'local', async ({ core }) => {
    if (!(await tenantExists(core, options.tenant))) return 1;
    const listed = await core.auditTrail.list(options.tenant, { kind: options.kind, accountId: options.user, since: options.since, limit: options.limit });
    if (!listed.ok) return failed();
    const { records, nextBefore } = listed.value;
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

/** A typo in a client key would otherwise list nothing, or revoke nothing, without a word. A store failure says so and refuses too. */
async function tenantExists(core: Core, clientKey: string): Promise<boolean> {
  const known = await core.tenantKnown(clientKey);
  if (!known.ok) failed();
  else if (!known.value) note(`no such tenant: ${clientKey}`);
  return known.ok && known.value;
}

/** The core answered store_unavailable; the log line above (on stderr) has the detail. */
function failed(): ExitCode {
  note('failed: the store is unavailable');
  return 1;
}

/**
 * One line for what was revoked and who heard it. A count of confirmations is printed only when running nodes
 * could hear this process: on the in-process bus it would count this process alone and read "1/1".
 */
async function reportRevocation(
  whose: string,
  { count, confirmation, reach }: { count: number; confirmation: Confirmation; reach: NodeReach },
): Promise<ExitCode> {
  const revoked = `revoked ${plural(count, 'session')} of ${whose}`;
  if (reach === 'not_told') {
    await print(`${revoked} (running nodes not told)\n`);
    return 3;
  }
  await print(`${revoked} (confirmed ${confirmation.confirmed}/${confirmation.expected} nodes)\n`);
  return confirmation.confirmed < confirmation.expected ? 3 : 0;
}

/** Resolves once the text is handed to stdout, so exiting right after loses none of it. */
function print(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}

function run(command: OperatorCommand): Promise<ExitCode> {
  switch (command.name) {
    case 'sessions list':
      return listSessions(command.options);
    case 'sessions revoke':
      return revokeUser(command.options);
    case 'sessions reset':
      return resetTenant(command.options);
    case 'audit':
      return listAudit(command.options);
    case 'intel ingest':
      return ingestLeaks(loadConfig(), command.options);
  }
}

async function main(args: string[]): Promise<ExitCode> {
  try {
    const parsed = parseCommandLine(args);
    if (!parsed.ok) return parsed.exitCode;
    return await run(parsed.command);
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`panelguard: configuration error: ${problem}\n`);
      return 2;
    }
    note(`failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

// Exits explicitly: a cluster bus's reconnecting client would otherwise keep the process alive.
void main(process.argv.slice(2)).then((code) => process.exit(code));
