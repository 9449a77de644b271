/**
 * What an operator command runs on: the core over the store and bus the server is configured with, so that
 * what it reads and ends goes through the same verbs as the admin API, audited and announced like the server's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { AppStore, OpenedCore } from '../app/app';
import { systemClock } from '../base/clock';
import type { Bus } from '../bus/types';
import type { Config } from '../app/config';
import { createLogger } from '../observability/logger';
import { PROJECT_ROOT } from '../app/paths';
import { openSequelizeStore } from '../store/sequelize-store';

/** Runs `work` on the configured store and closes it, whatever happens. */
export async function withStore<T>(config: Config, work: (store: AppStore) => Promise<T>): Promise<T> {
  const store = await openSequelizeStore(config.databaseUrl);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/**
 * Runs `work` on the core over the configured store, and closes both, whatever happens. Only a command that revokes
 * needs the configured bus (`cluster`); one that reads runs on an in-process bus, so running nodes never see it.
 */
export function withOperatorCore<T>(config: Config, bus: 'cluster' | 'local', work: (opened: OpenedCore) => Promise<T>): Promise<T> {
  const reach: Config = bus === 'cluster' ? config : { ...config, bus: 'memory' };
  return withStore(config, (store) => withCore(reach, store, work));
}

/** Runs `work` on the core over `store`, then leaves the bus and writes the audit before the caller closes the store. */
export async function withCore<T>(config: Config, store: AppStore, work: (opened: OpenedCore) => Promise<T>): Promise<T> {
  // The composition root loads the whole app (express, ACE, views), imported only once a command line parsed.
  const { openCore } = await import('../app/app');
  // Logs go to stderr, so stdout carries only the command's output.
  const logger = createLogger(config.logLevel, process.stderr);
  const opened = openCore(config, { store, clock: systemClock, logger, appKey: descriptorKey() });
  try {
    return await work(opened);
  } finally {
    await opened.close();
  }
}

/** The app key the page tokens are issued under, as the descriptor declares it. */
function descriptorKey(): string {
  const descriptor: unknown = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'atlassian-connect.json'), 'utf8'));
  return z.object({ key: z.string().min(1) }).parse(descriptor).key;
}

/**
 * Whether running nodes can hear what this process announces: on the in-process bus, or a cluster bus that
 * did not connect, they cannot, and a confirmation would count only this process (1/1).
 */
export type NodeReach = 'heard' | 'not_told';

/**
 * Called before revoking: a revocation expects confirmations from the nodes this process has heard, so it first
 * waits for the bus and then for everyone's heartbeats; otherwise it would count only itself and confirm 1/1.
 */
export async function joinCluster(bus: Bus, config: Config): Promise<NodeReach> {
  if (config.bus === 'memory') {
    note(
      `BUS=memory reaches no other process: running nodes were not told, and may serve their cached copies for up to CACHE_TTL_SECONDS (${config.cacheTtlSeconds} s); use a cluster bus (BUS=postgres or redis) to reach them`,
    );
    return 'not_told';
  }
  const timeoutMs = Math.max(5_000, 3 * config.heartbeatMs);
  if (!(await connected(bus, timeoutMs))) {
    // The store is what decides; nodes that cannot hear the bus either read it on every check or expire their cache.
    note(`the ${config.bus} bus did not connect within ${timeoutMs / 1000} s; revoking anyway: running nodes drop cached state within CACHE_TTL_SECONDS (${config.cacheTtlSeconds} s)`);
    return 'not_told';
  }
  await new Promise((resolve) => setTimeout(resolve, Math.ceil(1.5 * config.heartbeatMs)));
  return 'heard';
}

function connected(bus: Bus, timeoutMs: number): Promise<boolean> {
  if (bus.isConnected()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve(false);
    }, timeoutMs);
    const stop = bus.onConnectionChange((up) => {
      if (!up) return;
      clearTimeout(timer);
      stop();
      resolve(true);
    });
  });
}

/** One line for the operator on stderr, beside the command's output. */
export function note(line: string): void {
  process.stderr.write(`panelguard: ${line}\n`);
}
