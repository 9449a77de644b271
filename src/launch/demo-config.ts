/** The demo's settings: a development app on a SQLite file of its own that the operator CLI can open beside it. */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, type Config } from '../app/config';

/** Where the demo keeps its sessions unless DATABASE_URL says otherwise: a file, so `npm run cli` sees the same site. */
export const DEMO_DATABASE_URL = 'sqlite:data/demo/demo.sqlite';

/** What of the simulators the app's settings point at. */
export interface DemoHosts {
  keysUrl: string;
  reportAccountsUrl: string;
  /** The Forge side's FIT audience and keys, when the demo runs as a Forge app. */
  forge?: { appId: string; jwksUrl: string };
}

export function demoConfig(env: NodeJS.ProcessEnv, hosts: DemoHosts, operatorToken: string): Config {
  return loadConfig({
    ...env,
    // the demo is a development setup whatever the shell says, with data apart from `npm start`'s
    NODE_ENV: 'development',
    PORT: env.PORT || '3000',
    DATA_DIR: env.DATA_DIR || 'data/demo',
    DATABASE_URL: env.DATABASE_URL || DEMO_DATABASE_URL,
    LOG_LEVEL: env.LOG_LEVEL || 'info',
    CONNECT_KEYS_CDN_URL: hosts.keysUrl,
    OPERATOR_TOKEN: [env.OPERATOR_TOKEN, operatorToken].filter(Boolean).join(','),
    // Personal data is reported to the simulator, never to Atlassian, from a demo.
    PERSONAL_DATA_REPORT_URL: hosts.reportAccountsUrl,
    ...(hosts.forge === undefined ? {} : { FORGE_APP_ID: hosts.forge.appId, FORGE_JWKS_URL: hosts.forge.jwksUrl }),
  });
}

/**
 * The demo's own store file, which each start deletes: the simulator forgets its users and issues when it stops, so a
 * user removed in one run must not still be tombstoned in the next. Null when DATABASE_URL named a store of the user's.
 */
export function demoStoreFile(config: Pick<Config, 'databaseUrl'>): string | null {
  return config.databaseUrl === DEMO_DATABASE_URL ? path.resolve(DEMO_DATABASE_URL.slice('sqlite:'.length)) : null;
}

/** Deletes the demo's store file and SQLite's companions (journal, WAL, shared memory), if any. */
export async function deleteDemoStore(file: string): Promise<void> {
  await Promise.all(['', '-journal', '-wal', '-shm'].map((suffix) => rm(file + suffix, { force: true })));
}

/** The command that points the operator CLI at the demo's store and site. */
export function cliCommand(config: Pick<Config, 'databaseUrl'>, clientKey: string): string {
  return `DATABASE_URL=${config.databaseUrl} npm run cli -- sessions list --tenant ${clientKey}`;
}
