/** What only a SQLite file adds to the store contract: data kept across a reopen, relative paths, upgrades of old files, indexes, WAL. */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Sequelize } from 'sequelize';
import { openSequelizeStore } from '../../../src/store/sequelize-store';
import { T0, MINUTE, TENANT, PROJECT, idHash, anEntry, aTombstone, aTenant, aNote, aPolicy, anAuditRecord, withoutIds } from './fixtures';
import { writeAuditBeforeConfirmations, writeBeforeTheftDetection, expectReadAsBeforeTheftDetection, expectIndexedLeakLookup } from './old-schemas';
import { sqliteFiles } from './stores';

describe('SequelizeStore on a SQLite file', () => {
  const files = sqliteFiles();
  const freshUrl = files.freshUrl;
  let dir: string;

  before(() => {
    dir = files.dir();
  });

  it('keeps its data when the file is closed and opened again', async () => {
    const url = freshUrl();
    const first = await openSequelizeStore(url);
    await first.insertEntry(anEntry('t1'));
    await first.insertEntry(anEntry('t2'));
    await first.revokeEntries({ kind: 'token', idHash: idHash('t2') }, T0 + 1, 'user_ended');
    await first.putTenant(aTenant());
    await first.putTombstone(aTombstone({ kind: 'resource', subject: PROJECT }));
    await first.setSetting(TENANT, 'clientInfo', { clientKey: TENANT });
    await first.addNote(aNote('n1'));
    await first.appendAudit([anAuditRecord()]);
    await first.putPolicy(TENANT, aPolicy(), T0);
    await first.close();

    const second = await openSequelizeStore(url);
    try {
      expect(await second.loadEntryState(idHash('t1'))).to.deep.equal({
        entry: anEntry('t1'),
        tenantStatus: 'enabled',
        policy: aPolicy(),
        newestRemovalAt: T0 + MINUTE,
      });
      expect((await second.loadEntryState(idHash('t2')))?.entry.revokedAt).to.equal(T0 + 1);
      expect(await second.getSetting(TENANT, 'clientInfo')).to.deep.equal({ clientKey: TENANT });
      expect(await second.listNotes(TENANT, '10001')).to.deep.equal([aNote('n1')]);
      expect(withoutIds((await second.listAudit({ clientKey: TENANT, limit: 10 })).records)).to.deep.equal([anAuditRecord()]);
    } finally {
      await second.close();
    }
  });

  it('accepts a relative path, resolved against the working directory', async () => {
    const relative = path.relative(process.cwd(), path.join(dir, 'relative', 'panelguard.db'));
    const store = await openSequelizeStore(`sqlite:${relative}`);
    await store.ping();
    await store.close();
    expect(existsSync(path.join(dir, 'relative', 'panelguard.db'))).to.equal(true);
  });

  it('upgrades a file from before confirmations, reading its old audit records as unconfirmed', async () => {
    const file = path.join(dir, 'before-confirmations.db');
    await writeAuditBeforeConfirmations(new Sequelize({ dialect: 'sqlite', storage: file, logging: false }));
    const store = await openSequelizeStore(`sqlite:${file}`);
    try {
      expect(withoutIds((await store.listAudit({ clientKey: TENANT, limit: 10 })).records)).to.deep.equal([
        anAuditRecord({ confirmation: null }),
      ]);
    } finally {
      await store.close();
    }
  });

  it('upgrades a file from before theft detection: sessions without chain or key, policies with its defaults', async () => {
    const file = path.join(dir, 'before-theft-detection.db');
    await writeBeforeTheftDetection(new Sequelize({ dialect: 'sqlite', storage: file, logging: false }));
    const store = await openSequelizeStore(`sqlite:${file}`);
    try {
      await expectReadAsBeforeTheftDetection(store);
    } finally {
      await store.close();
    }
  });

  it('matches a batch of leaked token hashes through an index on each column a hash may be in', async () => {
    const url = freshUrl();
    await (await openSequelizeStore(url)).close();
    const sequelize = new Sequelize({ dialect: 'sqlite', storage: url.slice('sqlite:'.length), logging: false });
    try {
      await expectIndexedLeakLookup(sequelize);
    } finally {
      await sequelize.close();
    }
  });

  it('queues signals with revocations while renders write entries on the same file, losing neither', async () => {
    const store = await openSequelizeStore(freshUrl());
    try {
      await store.putTenant({ clientKey: TENANT, baseUrl: 'https://acme.atlassian.net', status: 'enabled', updatedAt: T0 });
      await store.putReceiver({ id: 'r1', clientKey: TENANT, endpointUrl: 'https://receiver.example.com/events', audience: 'a', authorization: null, createdAt: T0, updatedAt: T0 });
      const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
      for (const user of users) await store.insertEntry(anEntry(`${user}-old`, { accountId: user }));
      // Each revocation's transaction runs on a connection of its own, while the renders keep the main one busy.
      const ended = await Promise.all([
        ...users.map((user, i) =>
          store.revokeEntries({ kind: 'user', clientKey: TENANT, accountId: user }, T0 + i, 'admin_revoked_user', { id: `n-${user}`, accountId: user, session: null, actor: 'operator' }),
        ),
        ...users.map((user) => store.insertEntry(anEntry(`${user}-new`, { accountId: `${user}-other` })).then(() => 0)),
      ]);
      expect(ended.reduce((sum, count) => sum + count, 0)).to.equal(users.length);
      expect(await store.countSets(TENANT)).to.deep.equal({ pending: users.length, failed: 0 });
      expect(await store.countLiveEntries(T0)).to.equal(users.length);
    } finally {
      await store.close();
    }
  });

  it('journals in WAL mode, so readers do not wait for a revocation to finish', async () => {
    const url = freshUrl();
    const store = await openSequelizeStore(url);
    try {
      await store.insertEntry(anEntry('t1'));
      expect(existsSync(`${url.slice('sqlite:'.length)}-wal`)).to.equal(true);
    } finally {
      await store.close();
    }
  });
});
