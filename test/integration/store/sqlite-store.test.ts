import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import sqlite3 from 'sqlite3';
import type { AllowlistEntry } from '../../../src/allowlist/types';
import { PANELGUARD_TABLES } from '../../../src/store/migrations';
import { openSequelizeStore, type SequelizeStore } from '../../../src/store/sequelize-store';

const T0 = Date.UTC(2026, 10, 23, 12);

function anEntry(label: string): AllowlistEntry {
  return {
    idHash: createHash('sha256').update(label).digest('hex'),
    clientKey: 'site-a',
    accountId: 'user-1',
    resource: 'jira:issue:10001',
    parent: 'jira:project:10000',
    createdAt: T0,
    expiresAt: T0 + 15 * 60_000,
    lastSeenAt: T0,
    ip: null,
    userAgent: null,
    revokedAt: null,
    revokeReason: null,
    chain: null,
    boundKey: null,
  };
}

function exec(db: sqlite3.Database, sql: string): Promise<void> {
  return new Promise((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve())));
}

describe('SQLite store on a file', () => {
  let dir: string;
  let store: SequelizeStore;
  let other: sqlite3.Database;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'panelguard-sqlite-'));
    const file = path.join(dir, 'store.sqlite');
    store = await openSequelizeStore(`sqlite:${file}`);
    other = new sqlite3.Database(file);
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => other.close(() => resolve()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names every table the migrations create in PANELGUARD_TABLES, the list resets empty', async () => {
    const tables = await new Promise<string[]>((resolve, reject) =>
      other.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'", (err, rows: { name: string }[]) =>
        err ? reject(err) : resolve(rows.map((row) => row.name)),
      ),
    );
    expect([...PANELGUARD_TABLES].sort()).to.deep.equal(tables.sort());
  });

  it('answers a check while one of its own writes waits for the file: reads never queue behind writes', async () => {
    const live = anEntry('live');
    await store.insertEntry(live);
    // Another process holds the write lock, so the store's next write waits (busy_timeout) on its connection.
    await exec(other, "BEGIN IMMEDIATE; INSERT INTO settings (client_key, key, value) VALUES ('x', 'y', 'z');");
    let written = false;
    const writing = store.insertEntry(anEntry('waiting')).then(() => {
      written = true;
    });
    // Queued behind the waiting write, the read would only run once that write gave up, after the store's 5 s
    // busy timeout; half of it is a bound no working reader comes near, whatever the machine's load.
    const state = await Promise.race([
      store.loadEntryState(live.idHash),
      new Promise<'queued'>((resolve) => setTimeout(() => resolve('queued'), 2_500).unref()),
    ]);
    expect(state).to.not.equal('queued');
    expect(state === 'queued' ? null : state?.entry).to.deep.equal(live);
    expect(written).to.equal(false);
    await exec(other, 'ROLLBACK');
    await writing;
    expect((await store.loadEntryState(anEntry('waiting').idHash))?.entry.accountId).to.equal('user-1');
  });

  it('reads what it has just written, from its reading connection', async () => {
    for (let i = 0; i < 20; i += 1) {
      await store.insertEntry(anEntry(`e${i}`));
      expect(await store.loadEntryState(anEntry(`e${i}`).idHash)).to.not.equal(null);
      await store.revokeEntries({ kind: 'user', clientKey: 'site-a', accountId: 'user-1' }, T0 + i, 'test');
      expect((await store.loadEntryState(anEntry(`e${i}`).idHash))?.entry.revokedAt).to.equal(T0 + i);
    }
  });
});
