/**
 * Opening the durable store: a URL to a dialect and a connection, SQLite's tuning and its second, read-only
 * connection, and the migrations (one node at a time on PostgreSQL, under an advisory lock).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ConnectionError, QueryTypes, Sequelize } from 'sequelize';
import sqlite3 from 'sqlite3';
import { SequelizeStorage, Umzug } from 'umzug';
import { migrations } from '../migrations';
import { SequelizeStore } from './store';

/** The store named by DATABASE_URL could not be opened: unreachable, refused or unreadable. */
export class StoreOpenError extends Error {
  readonly code = 'store_unreachable';
  constructor(
    /** The URL with any password replaced, safe to print. */
    readonly where: string,
    reason: string,
  ) {
    super(`cannot open the store at DATABASE_URL ${where}: ${reason}`);
    this.name = 'StoreOpenError';
  }
}

export interface SequelizeStoreOptions {
  /** Print every SQL statement (never its bound values). */
  logging?: boolean;
}

/**
 * Opens `sqlite:<path>`, `sqlite::memory:` or a `postgres://` URL, brings the
 * schema up to date and returns the store.
 */
export async function openSequelizeStore(url: string, options: SequelizeStoreOptions = {}): Promise<SequelizeStore> {
  const logging = options.logging ? (sql: string) => console.log(sql) : false;
  const storage = sqliteStorage(url);
  let sequelize: Sequelize;
  if (storage !== null) {
    if (storage !== ':memory:') mkdirSync(path.dirname(storage), { recursive: true });
    sequelize = new Sequelize({ dialect: 'sqlite', storage, logging });
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    // The driver is handed over rather than left to sequelize's require(), so a bundler or a pruned install cannot lose it.
    // Five connections per node: a cluster's nodes share one server's connection limit.
    sequelize = new Sequelize(url, { dialect: 'postgres', dialectModule: pg, logging, pool: { max: 5 } });
  } else {
    // The URL is not echoed: it may carry a password.
    throw new Error('DATABASE_URL must start with sqlite: or postgres://');
  }
  let reader: Sequelize | null = null;
  let transactor: Sequelize | null = null;
  try {
    if (storage !== null) {
      await tuneSqlite(sequelize, storage === ':memory:');
      await migrate(sequelize, options.logging === true);
      if (storage !== ':memory:') {
        reader = await openSqliteReader(storage, logging);
        transactor = await openSqliteTransactor(storage, logging);
      }
    } else {
      await withMigrationLock(url, () => migrate(sequelize, options.logging === true));
    }
  } catch (err) {
    await reader?.close();
    await sequelize.close();
    throw connectionFailure(err, url) ?? err;
  }
  return new SequelizeStore(sequelize, reader, transactor);
}

/**
 * A read-only connection of its own for SQLite's reads. Sequelize runs every statement outside a transaction on
 * one connection, so a check would otherwise queue behind any write, a sweep's delete of a thousand rows
 * included; with WAL, a reader on another connection sees every committed write and is never blocked by one.
 */
async function openSqliteReader(storage: string, logging: false | ((sql: string) => void)): Promise<Sequelize> {
  const reader = new Sequelize({ dialect: 'sqlite', storage, logging, dialectOptions: { mode: sqlite3.OPEN_READONLY } });
  try {
    await reader.query('PRAGMA busy_timeout=5000', { type: QueryTypes.SELECT });
    await reader.query(`PRAGMA cache_size=${SQLITE_READER_CACHE_KIB}`, { type: QueryTypes.SELECT });
  } catch (err) {
    await reader.close();
    throw err;
  }
  return reader;
}

/**
 * A connection of its own for SQLite's transactions (a removal's tombstone and revocation), opened once: only they use
 * it, so nothing else can slip into one, and none pays for opening a connection.
 */
async function openSqliteTransactor(storage: string, logging: false | ((sql: string) => void)): Promise<Sequelize> {
  const transactor = new Sequelize({ dialect: 'sqlite', storage, logging });
  try {
    await transactor.query('PRAGMA busy_timeout=5000', { type: QueryTypes.SELECT });
  } catch (err) {
    await transactor.close();
    throw err;
  }
  return transactor;
}

/**
 * A failure to reach the database (ECONNREFUSED, an unknown host, a refused login, a file SQLite cannot open),
 * as an error that names DATABASE_URL without its password; null for anything else (a failed migration).
 */
function connectionFailure(err: unknown, url: string): StoreOpenError | null {
  const code = codeOf(err) ?? codeOf(err instanceof Error ? err.cause : undefined);
  const reason = code === null ? undefined : CONNECTION_FAILURES[code];
  if (reason !== undefined) return new StoreOpenError(withoutPassword(url), `${reason} (${code})`);
  if (!(err instanceof ConnectionError)) return null;
  const where = withoutPassword(url);
  return new StoreOpenError(where, err.message.split(url).join(where));
}

/** What each code a failed connection carries means to the person who set DATABASE_URL. */
const CONNECTION_FAILURES: Record<string, string> = {
  ECONNREFUSED: 'nothing accepts connections there',
  ECONNRESET: 'the server closed the connection',
  ETIMEDOUT: 'the server did not answer in time',
  EHOSTUNREACH: 'the host cannot be reached',
  ENETUNREACH: 'the network cannot be reached',
  ENOTFOUND: 'the host name is unknown',
  EAI_AGAIN: 'the host name could not be looked up',
  SQLITE_CANTOPEN: 'SQLite cannot open the file',
  SQLITE_PERM: 'SQLite may not open the file',
  SQLITE_READONLY: 'the file is read-only',
  '3D000': 'the database does not exist',
  '28P01': 'the login was refused',
  '28000': 'the login was refused',
  '53300': 'the server has too many connections',
};

function codeOf(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const code = (value as { code?: unknown }).code;
  return typeof code === 'string' ? code : null;
}

/** The URL to print: a password, if any, becomes ***. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  }
}

/** The file path (absolute) or `:memory:` named by a `sqlite:` URL; null for any other URL. */
function sqliteStorage(url: string): string | null {
  if (!url.startsWith('sqlite:')) return null;
  // `sqlite:///abs/file.db` is the common spelling of an absolute path; `sqlite:data/file.db` a relative one.
  const rest = url.slice('sqlite:'.length).replace(/^\/\//, '');
  if (rest === ':memory:') return rest;
  if (rest === '') throw new Error('a sqlite: URL needs a file path or :memory:');
  return path.resolve(rest);
}

async function tuneSqlite(sequelize: Sequelize, inMemory: boolean): Promise<void> {
  // WAL lets readers carry on while a revocation writes; it is meaningless (and refused) for :memory:.
  if (!inMemory) await sequelize.query('PRAGMA journal_mode=WAL', { type: QueryTypes.SELECT });
  // Another process on the same file waits for its lock instead of failing at once.
  await sequelize.query('PRAGMA busy_timeout=5000', { type: QueryTypes.SELECT });
  await sequelize.query(`PRAGMA cache_size=${SQLITE_WRITER_CACHE_KIB}`, { type: QueryTypes.SELECT });
}

// SQLite keeps 2 MiB of pages per connection by default. A million entries and their six indexes are hundreds
// of MiB, and each insert touches leaf pages all over them: at a million entries on a 2 MiB cache, renders ran at
// 441/s; with 64 MiB on each connection, 830/s, but the process then outgrew its 512 MB budget. The writer, whose
// inserts and revocations spread widest, gets 32 MiB; the reader, whose lookups mostly revisit the upper levels
// of the same indexes, 16 MiB. Negative sizes are in KiB.
const SQLITE_WRITER_CACHE_KIB = -32_768;
const SQLITE_READER_CACHE_KIB = -16_384;

async function migrate(sequelize: Sequelize, logging: boolean): Promise<void> {
  const umzug = new Umzug({
    migrations,
    context: sequelize.getQueryInterface(),
    storage: new SequelizeStorage({ sequelize, modelName: 'SchemaMigration', tableName: 'schema_migrations' }),
    logger: logging ? console : undefined,
  });
  await umzug.up();
}

// Any bigint works as long as nothing else locks it; this one is "PanelGrd" in ASCII. A string, because it exceeds 2^53.
const MIGRATION_LOCK_KEY = '5792031977662542436';

/**
 * Runs `apply` under a PostgreSQL advisory lock, so that nodes starting together migrate one after another:
 * the first applies the migrations, the others wait and then find them recorded.
 */
async function withMigrationLock(url: string, apply: () => Promise<void>): Promise<void> {
  // A dedicated connection, because the lock belongs to a session and sequelize's pool may hand out a different one per query.
  const client = new pg.Client({ connectionString: url });
  // A connection lost while migrating would otherwise be an unhandled 'error' event; the unlock then rejects instead.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await apply();
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  } finally {
    // Ending the session releases the lock too, which is what frees it when a migration failed.
    await client.end();
  }
}
