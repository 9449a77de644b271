/** Finds the real services some tests need (PostgreSQL, Redis), or skips those tests (fails them under REQUIRE_SERVICES=1). */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';

/** A database the tests may create other databases from; the probe connects to it. */
export const postgresAdminUrl = process.env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const redisUrl = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

export type Service = 'postgres' | 'redis';

/** Long enough for a loaded CI machine, short enough that a missing service costs one second, not a mocha timeout. */
const PROBE_TIMEOUT_MS = 1000;

/**
 * Resolves when every service answers. When one does not, fails the hook under REQUIRE_SERVICES=1 (so CI
 * cannot pass by skipping); otherwise prints one line saying why and skips the calling suite or test.
 */
export async function servicesOrSkip(ctx: Mocha.Context, ...services: Service[]): Promise<void> {
  const problems = (await Promise.all(services.map(probe))).filter((problem) => problem !== null);
  if (problems.length === 0) return;
  const reason = problems.join('; ');
  if (process.env.REQUIRE_SERVICES === '1') throw new Error(`REQUIRE_SERVICES=1 but ${reason}`);
  console.log(`    skipped: ${reason} (REQUIRE_SERVICES=1 makes this a failure)`);
  ctx.skip();
}

export interface TestDatabase {
  /** postgres:// URL of the new, empty database. */
  url: string;
  /** Drops the database, ending any connection still open on it; a second call does nothing. */
  drop(): Promise<void>;
}

/** Creates a uniquely named, empty database next to the admin one, so that runs never see each other's rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  // Database names cannot be bound parameters; this one is made of hex digits only, so interpolating it is safe.
  const name = `panelguard_t_${randomBytes(6).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

async function withAdminClient(use: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: postgresAdminUrl });
  await client.connect();
  try {
    await use(client);
  } finally {
    await client.end();
  }
}

// One probe per service and process: every suite asking again gets the first answer at no cost.
const probes = new Map<Service, Promise<string | null>>();

/** null when the service answers; otherwise one sentence naming it, its address and what went wrong. */
export function probe(service: Service): Promise<string | null> {
  let result = probes.get(service);
  if (result === undefined) {
    result = service === 'postgres' ? probePostgres() : probeRedis();
    probes.set(service, result);
  }
  return result;
}

async function probePostgres(): Promise<string | null> {
  const url = new URL(postgresAdminUrl);
  // Host and port only: the URL may carry a password.
  const where = `PostgreSQL at ${url.hostname}:${url.port || '5432'}`;
  const client = new pg.Client({
    connectionString: postgresAdminUrl,
    connectionTimeoutMillis: PROBE_TIMEOUT_MS,
    query_timeout: PROBE_TIMEOUT_MS,
  });
  // A connection that fails after connect() resolved is reported through the query instead.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return `${where} is not reachable: ${describeError(err)}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function probeRedis(): Promise<string | null> {
  const url = new URL(redisUrl);
  const host = url.hostname;
  const port = Number(url.port || '6379');
  const where = `Redis at ${host}:${port}`;
  try {
    await ping(host, port);
    return null;
  } catch (err) {
    return `${where} is not reachable: ${describeError(err)}`;
  }
}

/** One inline PING over a bare socket: enough to know a Redis answers, without a client library. */
function ping(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let reply = '';
    const finish = (err?: Error): void => {
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => finish(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    socket.on('error', finish);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (!reply.includes('\r\n')) return;
      // A Redis that wants a password answers -NOAUTH: it is up, and the client under test brings the password.
      if (reply.startsWith('+PONG') || reply.startsWith('-NOAUTH')) finish();
      else finish(new Error(`unexpected answer to PING: ${JSON.stringify(reply.trim().slice(0, 40))}`));
    });
  });
}

// Node's AggregateError for a refused connection (one per address tried) has an empty message but a code.
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.message !== '') return err.message;
  return 'code' in err && typeof err.code === 'string' ? err.code : err.name;
}
