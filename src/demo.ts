/** The local demo: a simulated Jira site with three users, PanelGuard installed on it, and a short guide to revoking a user live. */
import { Writable } from 'node:stream';
import { startApp, type RunningApp } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { startHostSimulator, type HostSimulator } from './host-simulator';
import { DEMO_ISSUES, DEMO_USERS, hostPageLinks, sessionPageLinks } from './host-simulator/demo-site';
import { createLogger } from './logger';
import { compactLogLine } from './log-lines';
import { isAddressInUse, PortInUse } from './port-in-use';

/** A stable site name, so the demo's URLs and logs read the same on every run. */
const DEMO_CLIENT_KEY = 'panelguard-demo-site';





function demoConfig(env: NodeJS.ProcessEnv, keysUrl: string): Config {
  return loadConfig({
    ...env,
    // the demo is a development setup whatever the shell says, with data apart from `npm start`'s
    NODE_ENV: 'development',
    PORT: env.PORT || '3000',
    DATA_DIR: env.DATA_DIR || 'data/demo',
    // The simulator forgets its users and issues when it stops; an in-memory store forgets with it,
    // so a user removed in one run is not still tombstoned in the next.
    DATABASE_URL: env.DATABASE_URL || 'sqlite::memory:',
    LOG_LEVEL: env.LOG_LEVEL || 'info',
    CONNECT_KEYS_CDN_URL: keysUrl,
  });
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

function guide(sim: HostSimulator, app: RunningApp, config: Config): string {
  const issue = DEMO_ISSUES[0];
  const links = hostPageLinks(sim, issue);
  return [
    '',
    'PanelGuard demo is running.',
    '',
    `  Simulated Jira  ${sim.baseUrl}/   (users and issues)`,
    `  PanelGuard      ${app.baseUrl}   (store: ${config.databaseUrl === 'sqlite::memory:' ? 'in memory, fresh each run' : config.databaseUrl.split(':')[0]})`,
    '',
    `Open ${issue.issueKey} as each user (one browser tab each):`,
    ...links,
    '',
    'See a removed user lose access in a page that is already open:',
    '  1. In Bob\'s tab, add a note in the PanelGuard panel on the right.',
    '  2. In Bob\'s tab, click "Remove user" (or "Deactivate user"): Jira tells the app at once.',
    '  3. Still in Bob\'s tab, click Refresh in the panel: it says "Access revoked" and the notes are gone.',
    '     Carol\'s and Alice\'s panels keep working.',
    '  4. "Reactivate user" lets Bob back in with a fresh page (reload the tab); the old page stays revoked.',
    '',
    'Sessions, as admins and users see them:',
    ...sessionPageLinks(sim),
    '  The admin page lists live sessions, revokes a user or the whole site, sets the idle timeout',
    '  and lifetime, and shows the audit log. Bob can end his other sessions from his own page.',
    '',
    'Stop with Ctrl-C (closes the app and the simulator).',
    '',
  ].join('\n');
}


async function main(): Promise<void> {
  const simPort = process.env.SIM_PORT || '3100';
  const sim = await startHostSimulator({ port: Number(simPort), users: DEMO_USERS, clientKey: DEMO_CLIENT_KEY }).catch((error: unknown) => {
    throw isAddressInUse(error) ? new PortInUse('SIM_PORT', simPort) : error;
  });
  let app: RunningApp;
  let config: Config;
  try {
    config = demoConfig(process.env, sim.keysUrl);
    app = await startApp(config, { logger: createLogger(config.logLevel, compactLog()) }).catch((error: unknown) => {
      throw isAddressInUse(error) ? new PortInUse('PORT', String(config.port)) : error;
    });
  } catch (error) {
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
    Promise.all([app.close(), sim.close()]).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`demo: could not stop cleanly: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const installed = await sim.install(app.baseUrl);
  if (installed.status !== 204) {
    await Promise.all([app.close(), sim.close()]);
    throw new Error(`the simulated Jira could not install the app: ${installed.status} ${await installed.text()}`);
  }
  for (const issue of DEMO_ISSUES) sim.issues.put(issue);
  process.stdout.write(guide(sim, app, config));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    for (const problem of error.problems) process.stderr.write(`demo: configuration error: ${problem}\n`);
  } else {
    process.stderr.write(`demo: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
