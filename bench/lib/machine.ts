/** What the numbers came from: the machine, the runtime, the services' versions and the commit. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import pg from 'pg';
import { postgresAdminUrl } from '../../test/support/services';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string | null;
  redis: string | null;
  commit: string | null;
  /** Uncommitted changes were present: the numbers are not exactly those of `commit`. */
  dirty: boolean;
  loadAverageAtStart: number[];
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

async function postgresVersion(): Promise<string | null> {
  const client = new pg.Client({ connectionString: postgresAdminUrl, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redisVersion(): string | null {
  try {
    const info = execFileSync('redis-cli', ['INFO', 'server'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 });
    return /redis_version:(\S+)/.exec(info)?.[1] ?? null;
  } catch {
    return null;
  }
}

export async function describeMachine(): Promise<Machine> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: await postgresVersion(),
    redis: redisVersion(),
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirty: (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '',
    loadAverageAtStart: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}
