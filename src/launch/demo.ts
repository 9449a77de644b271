/**
 * The local demo: a simulated Jira site with three users, PanelGuard installed on it, and a short guide to revoking
 * a user live. `npm run demo -- --forge` installs PanelGuard as a Forge app instead: its Custom UI from the
 * simulated Forge CDN, every call a Forge Remote call with a FIT, Jira events as Forge triggers.
 */
import { Writable } from 'node:stream';
import { startApp, type RunningApp } from '../app/app';
import { ConfigError, type Config } from '../app/config';
import { cliCommand, deleteDemoStore, demoConfig, demoStoreFile } from './demo-config';
import { startHostSimulator, type HostSimulator } from '../host-simulator';
import { DEMO_ISSUES, DEMO_USERS, forgeIssueLinks, forgeSessionPageLinks, hostPageLinks, sessionPageLinks } from '../host-simulator/demo-site';
import { startForgeSimulator, type ForgeSimulator } from '../host-simulator/forge';
import { startSsfTransmitter, type SsfTransmitter } from '../host-simulator/ssf-transmitter';
import { createLogger } from '../observability/logger';
import { compactLogLine } from './log-lines';
import { isAddressInUse, PortInUse } from './port-in-use';
import { randomSecret } from '../tokens/random';

/** A stable site name, so the demo's URLs and logs read the same on every run. */
const DEMO_CLIENT_KEY = 'panelguard-demo-site';
/** The demo's own operator token for its site: it sets up the identity provider's stream through the admin API. */
const DEMO_OPERATOR_SECRET = randomSecret();

type Mode = 'connect' | 'forge';

class UsageError extends Error {}

function modeOf(args: readonly string[]): Mode {
  if (args.length === 0) return 'connect';
  if (args.length === 1 && args[0] === '--forge') return 'forge';
  throw new UsageError(`unknown argument ${args.find((arg) => arg !== '--forge') ?? args[1]}; usage: npm run demo [-- --forge]`);
}

/** The app's log, one short line per record, beside the guide. */
function compactLog(): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') process.stdout.write(compactLogLine('app', line));
      done();
    },
  });
}

/** Where the store is, in the guide's words. */
function storeLine(config: Config): string {
  if (demoStoreFile(config) !== null) return `${config.databaseUrl}, fresh each run`;
  return config.databaseUrl.startsWith('sqlite:') ? config.databaseUrl : config.databaseUrl.split(':')[0];
}

/** How to run the operator CLI against this demo, from another terminal in the project. */
function operatorLines(config: Config): string[] {
  if (config.databaseUrl === 'sqlite::memory:') return ['The store is in memory: the operator CLI cannot see it (leave DATABASE_URL unset to use a file).', ''];
  if (!config.databaseUrl.startsWith('sqlite:')) return ['The operator CLI sees the same sessions with your DATABASE_URL: npm run cli -- sessions list --tenant ' + DEMO_CLIENT_KEY, ''];
  return ['The operator CLI sees the same sessions (from another terminal, in this folder):', `  ${cliCommand(config, DEMO_CLIENT_KEY)}`, ''];
}

function guide(sim: HostSimulator, app: RunningApp, config: Config, idp: SsfTransmitter | null): string {
  const issue = DEMO_ISSUES[0];
  const links = hostPageLinks(sim, issue);
  return [
    '',
    'PanelGuard demo is running.',
    '',
    `  Simulated Jira  ${sim.baseUrl}/   (users and issues)`,
    `  PanelGuard      ${app.baseUrl}   (store: ${storeLine(config)})`,
    '',
    `Open ${issue.issueKey} as each user (one browser tab each):`,
    ...links,
    '',
    'See a removed user lose access in a page that is already open:',
    '  1. In Bob\'s tab, add a note in the PanelGuard panel on the right.',
    '  2. In Bob\'s tab, click "Remove user" (or "Deactivate user"): Jira tells the app at once.',
    '  3. Still in Bob\'s tab, without touching the panel: within a second it says "Access revoked" and the notes are gone.',
    '     Carol\'s and Alice\'s panels keep working.',
    '  4. "Reactivate user" lets Bob back in with a fresh page (reload the tab); the old page stays revoked.',
    '',
    'Sessions, as admins and users see them:',
    ...sessionPageLinks(sim),
    '  The admin page lists live sessions, revokes a user or the whole site, sets the idle timeout',
    '  and lifetime, and shows the audit log. Bob can end his other sessions from his own page.',
    '',
    ...(idp === null
      ? []
      : [
          'The site\'s identity provider tells PanelGuard what happens to its accounts (Shared Signals, RFC 8935):',
          `    Identity provider  ${idp.consoleUrl}`,
          '  "Revoke sessions" or "Disable account" for Bob there: his open panel goes dark at once, his session has ended.',
          '  "Enable account" lets him back in with a fresh page. The admin page\'s audit shows each event (kind Shared Signals).',
          '',
        ]),
    ...operatorLines(config),
    'Stop with Ctrl-C (closes the app and the simulator).',
    '',
  ].join('\n');
}

function forgeGuide(sim: HostSimulator, forge: ForgeSimulator, app: RunningApp, config: Config): string {
  const issue = DEMO_ISSUES[0];
  const source = forge.layout.source.kind === 'manifest' ? 'forge/manifest.yml' : 'the docs/FORGE.md contract (no forge/manifest.yml)';
  return [
    '',
    'PanelGuard demo is running as a Forge app.',
    '',
    `  Simulated Jira  ${sim.baseUrl}/   (users and issues)`,
    `  Forge CDN       ${forge.cdnUrl}   (the Custom UI; FIT keys at ${forge.jwksUrl})`,
    `  PanelGuard      ${app.baseUrl}   (FORGE_APP_ID ${forge.appId}; store: ${storeLine(config)})`,
    `  App layout      ${source}`,
    '',
    `Open ${issue.issueKey} as each user (one browser tab each):`,
    ...forgeIssueLinks(forge, issue),
    '',
    'See a removed user lose access in a page that is already open:',
    '  1. In Bob\'s tab, add a note in the PanelGuard panel on the right (every call goes through Forge with a FIT).',
    '  2. In Bob\'s tab, click "Remove user" (or "Deactivate user"): Forge delivers avi:jira:deleted:user at once.',
    '  3. Still in Bob\'s tab, without touching the panel: within a second it says "Access revoked" and the notes are gone',
    '     (its long poll through invokeRemote heard of the removal).',
    '     Carol\'s and Alice\'s panels keep working.',
    '  4. "Reactivate user" lets Bob back in with a fresh page (reload the tab); the old page stays revoked.',
    '',
    'Sessions, as admins and users see them:',
    ...forgeSessionPageLinks(forge),
    '',
    'Stop with Ctrl-C (closes the app and the simulator).',
    '',
  ].join('\n');
}

/** Builds the Custom UI (the demo serves what the sources say now) and starts the Forge side on the CDN port. */
async function startForgeSide(sim: HostSimulator, simPort: string): Promise<ForgeSimulator> {
  const { buildForgeUi } = await import('../../forge/build');
  await buildForgeUi();
  const cdnPort = process.env.FORGE_CDN_PORT || String(Number(simPort) + 1);
  // Forge waits 60 s between retries of a refused event; the demo waits 5, so a refusal shows in the log while you watch
  return startForgeSimulator(sim, { cdnPort: Number(cdnPort), eventPolicy: { retryDelayMs: 5_000 } }).catch((error: unknown) => {
    throw isAddressInUse(error) ? new PortInUse('FORGE_CDN_PORT', cdnPort) : error;
  });
}

/**
 * The site's identity provider, an SSF transmitter on SSF_IDP_PORT (the simulator's port + 2), with a stream to the
 * demo site set up as an operator would: through the admin API. Null (and a note) when it cannot start.
 */
async function startIdentityProvider(sim: HostSimulator, app: RunningApp, simPort: string): Promise<SsfTransmitter | null> {
  const port = process.env.SSF_IDP_PORT || String(Number(simPort) + 2);
  let idp: SsfTransmitter;
  try {
    idp = await startSsfTransmitter({ port: Number(port) });
  } catch (error) {
    process.stdout.write(`demo: no identity provider (port ${port}: ${isAddressInUse(error) ? 'in use; set SSF_IDP_PORT' : String(error)})\n`);
    return null;
  }
  const response = await fetch(`${app.baseUrl}/api/admin/ssf/streams`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEMO_OPERATOR_SECRET}`, 'content-type': 'application/json' },
    body: JSON.stringify({ issuer: idp.issuer, subjects: 'email' }),
  });
  if (response.status !== 201) {
    process.stdout.write(`demo: the identity provider's stream was not set up: ${response.status} ${await response.text()}\n`);
    await idp.close();
    return null;
  }
  const { stream } = (await response.json()) as { stream: { audience: string; delivery: { endpoint_url: string } } };
  idp.consoleTarget = { endpoint: stream.delivery.endpoint_url, audience: stream.audience, users: () => sim.directory.list() };
  return idp;
}

async function main(): Promise<void> {
  const mode = modeOf(process.argv.slice(2));
  const simPort = process.env.SIM_PORT || '3100';
  const sim = await startHostSimulator({ port: Number(simPort), users: DEMO_USERS, clientKey: DEMO_CLIENT_KEY }).catch((error: unknown) => {
    throw isAddressInUse(error) ? new PortInUse('SIM_PORT', simPort) : error;
  });
  let app: RunningApp;
  let config: Config;
  let forge: ForgeSimulator | undefined;
  try {
    if (mode === 'forge') forge = await startForgeSide(sim, simPort);
    config = demoConfig(
      process.env,
      { keysUrl: sim.keysUrl, reportAccountsUrl: sim.reportAccountsUrl, forge: forge && { appId: forge.appId, jwksUrl: forge.jwksUrl } },
      `${DEMO_CLIENT_KEY}:${DEMO_OPERATOR_SECRET}`,
    );
    const storeFile = demoStoreFile(config);
    if (storeFile !== null) await deleteDemoStore(storeFile);
    app = await startApp(config, { logger: createLogger(config.logLevel, compactLog()) }).catch((error: unknown) => {
      throw isAddressInUse(error) ? new PortInUse('PORT', String(config.port)) : error;
    });
  } catch (error) {
    await forge?.close();
    await sim.close();
    throw error;
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stdout.write('\nForced stop.\n');
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the app and the simulator...\n`);
    Promise.all([app.close(), forge?.close(), sim.close()]).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`demo: could not stop cleanly: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  if (forge !== undefined) {
    const installed = await forge.install(app.baseUrl, { installerAccountId: DEMO_USERS[0].accountId });
    if (installed !== null && !installed.delivered) {
      await Promise.all([app.close(), forge.close(), sim.close()]);
      throw new Error(`Forge could not deliver avi:forge:installed:app to the app: it answered ${installed.status ?? 'nothing'}`);
    }
    for (const issue of DEMO_ISSUES) sim.issues.put(issue);
    process.stdout.write(forgeGuide(sim, forge, app, config));
    return;
  }
  const installed = await sim.install(app.baseUrl);
  if (installed.status !== 204) {
    await Promise.all([app.close(), sim.close()]);
    throw new Error(`the simulated Jira could not install the app: ${installed.status} ${await installed.text()}`);
  }
  for (const issue of DEMO_ISSUES) sim.issues.put(issue);
  const idp = await startIdentityProvider(sim, app, simPort);
  process.stdout.write(guide(sim, app, config, idp));
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`demo: ${error.message}\n`);
  } else if (error instanceof ConfigError) {
    for (const problem of error.problems) process.stderr.write(`demo: configuration error: ${problem}\n`);
  } else {
    process.stderr.write(`demo: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
