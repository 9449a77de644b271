/**
 * The four stores the store contract runs over: memory, SQLite in memory, a fresh SQLite file and PostgreSQL.
 * A contract file describes its roles once; each runs on every store, opened for each test and closed after it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { AppStore } from '../../../src/store/app-store';
import { MemoryStore } from '../../../src/store/memory-store';
import { PANELGUARD_TABLES } from '../../../src/store/migrations';
import { openSequelizeStore } from '../../../src/store/sequelize-store';
import { createTestDatabase, servicesOrSkip, type TestDatabase } from '../../support/services';

/** Registers `roles` (its `describe` blocks) once per store; `current()` is the store the running test was given. */
export function describeStoreContract(roles: (current: () => AppStore) => void): void {
  contractOn('MemoryStore', async () => new MemoryStore(), roles);

  contractOn('SequelizeStore on sqlite::memory:', () => openSequelizeStore('sqlite::memory:'), roles);

  describe('SequelizeStore on a SQLite file', () => {
    const files = sqliteFiles();
    contractOn('each fresh file', () => openSequelizeStore(files.freshUrl()), roles);
  });

  describe('SequelizeStore on PostgreSQL', () => {
    const database = postgresDatabase();
    // One database for the whole contract, emptied after each open, so every test starts as on a fresh file.
    contractOn('one database, emptied before each test', async () => {
      const store = await openSequelizeStore(database.url());
      await queryOnce(database.url(), `TRUNCATE ${PANELGUARD_TABLES.join(', ')}`);
      return store;
    }, roles);
  });
}

function contractOn(name: string, makeStore: () => Promise<AppStore>, roles: (current: () => AppStore) => void): void {
  describe(`${name} keeps the Store contract`, () => {
    let store: AppStore | null = null;

    beforeEach(async () => {
      store = await makeStore();
    });

    afterEach(async () => {
      await store?.close();
      store = null;
    });

    roles(() => {
      if (store === null) throw new Error('no store is open: the contract asked for one outside a test');
      return store;
    });
  });
}

/**
 * A temporary folder for SQLite files, made before the calling suite and removed after it. Each `freshUrl()` is a
 * new file in a folder that does not exist yet, so every run also proves the folder is made.
 */
export function sqliteFiles(): { dir(): string; freshUrl(): string } {
  let folder: string | null = null;
  let files = 0;

  before(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'panelguard-store-'));
  });

  after(() => {
    if (folder !== null) rmSync(folder, { recursive: true, force: true });
  });

  function dir(): string {
    if (folder === null) throw new Error('the SQLite folder was not made');
    return folder;
  }

  return {
    dir,
    freshUrl() {
      files += 1;
      return `sqlite:${path.join(dir(), `run-${files}`, 'panelguard.db')}`;
    },
  };
}

/** A PostgreSQL database of the calling suite's own: created before it (or the suite skipped without PostgreSQL), dropped after. */
export function postgresDatabase(): { url(): string } {
  let database: TestDatabase | undefined;

  before(async function () {
    await servicesOrSkip(this, 'postgres');
    database = await createTestDatabase();
  });

  after(async () => {
    await database?.drop();
  });

  return {
    url() {
      if (database === undefined) throw new Error('the test database was not created');
      return database.url;
    },
  };
}

/** Runs one statement on its own connection to `url`. */
export async function queryOnce<Row extends pg.QueryResultRow>(url: string, sql: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end();
  }
}
