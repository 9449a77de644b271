/** What only PostgreSQL adds to the store contract: concurrent migration, upgrades of old databases, indexes, leases across nodes, NOTIFY. */
import { expect } from 'chai';
import { inspect } from 'node:util';
import pg from 'pg';
import { Sequelize } from 'sequelize';
import { migrations, PANELGUARD_TABLES } from '../../../src/store/migrations';
import { openSequelizeStore } from '../../../src/store/sequelize-store';
import { createTestDatabase } from '../../support/services';
import { T0, MINUTE, TENANT, anEntry, anAuditRecord, withoutIds, rejectionOf } from './fixtures';
import { writeAuditBeforeConfirmations, writeBeforeTheftDetection, expectReadAsBeforeTheftDetection, expectIndexedLeakLookup } from './old-schemas';
import { postgresDatabase, queryOnce } from './stores';

describe('SequelizeStore on PostgreSQL', () => {
  const database = postgresDatabase();

  function databaseUrl(): string {
    return database.url();
  }

  it('lets several nodes open one fresh database at once, and migrates it once', async () => {
    const fresh = await createTestDatabase();
    try {
      const opened = await Promise.allSettled([1, 2, 3].map(() => openSequelizeStore(fresh.url)));
      for (const result of opened) if (result.status === 'fulfilled') await result.value.close();
      const failures = opened.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
      expect(failures).to.deep.equal([]);
      const recorded = await queryOnce<{ name: string }>(fresh.url, 'SELECT name FROM schema_migrations ORDER BY name');
      expect(recorded.map((row) => row.name)).to.deep.equal(migrations.map((migration) => migration.name));
    } finally {
      await fresh.drop();
    }
  });

  it('upgrades a database from before confirmations, reading its old audit records as unconfirmed', async () => {
    const fresh = await createTestDatabase();
    try {
      await writeAuditBeforeConfirmations(new Sequelize(fresh.url, { dialect: 'postgres', dialectModule: pg, logging: false }));
      const store = await openSequelizeStore(fresh.url);
      try {
        expect(withoutIds((await store.listAudit({ clientKey: TENANT, limit: 10 })).records)).to.deep.equal([
        anAuditRecord({ confirmation: null }),
      ]);
      } finally {
        await store.close();
      }
    } finally {
      await fresh.drop();
    }
  });

  it('upgrades a database from before theft detection: sessions without chain or key, policies with its defaults', async () => {
    const fresh = await createTestDatabase();
    try {
      await writeBeforeTheftDetection(new Sequelize(fresh.url, { dialect: 'postgres', dialectModule: pg, logging: false }));
      const store = await openSequelizeStore(fresh.url);
      try {
        await expectReadAsBeforeTheftDetection(store);
      } finally {
        await store.close();
      }
    } finally {
      await fresh.drop();
    }
  });

  it('matches a batch of leaked token hashes through an index on each column a hash may be in', async () => {
    await (await openSequelizeStore(databaseUrl())).close();
    const sequelize = new Sequelize(databaseUrl(), { dialect: 'postgres', dialectModule: pg, logging: false });
    try {
      await expectIndexedLeakLookup(sequelize);
    } finally {
      await sequelize.close();
    }
  });

  it('says it runs on PostgreSQL', async () => {
    const store = await openSequelizeStore(databaseUrl());
    try {
      expect(store.dialect).to.equal('postgres');
    } finally {
      await store.close();
    }
  });

  it('lets two nodes on one database lease the outbox at once without ever both holding one SET', async () => {
    const nodes = await Promise.all([openSequelizeStore(databaseUrl()), openSequelizeStore(databaseUrl())]);
    try {
      await queryOnce(databaseUrl(), `TRUNCATE ${PANELGUARD_TABLES.join(', ')}`);
      const [first] = nodes;
      await first.putReceiver({ id: 'r1', clientKey: TENANT, endpointUrl: 'https://one.example.com/events', audience: 'one', authorization: null, createdAt: T0, updatedAt: T0 });
      await first.putReceiver({ id: 'r2', clientKey: TENANT, endpointUrl: 'https://two.example.com/events', audience: 'two', authorization: null, createdAt: T0, updatedAt: T0 });
      for (let i = 0; i < 30; i += 1) {
        await first.insertEntry(anEntry(`e${i}`, { accountId: `user-${i}` }));
        await first.revokeEntries({ kind: 'user', clientKey: TENANT, accountId: `user-${i}` }, T0, 'admin_revoked_user', { id: `n${i}`, accountId: `user-${i}`, session: null, actor: 'operator' });
      }
      // Each node's pool runs its claims on several connections: twelve claimers of five over sixty SETs.
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, i) => nodes[i % 2]!.claimSets(`lease-${i}`, T0, T0 + MINUTE, 5)),
      );
      const keys = claims.flat().map(({ set }) => `${set.noticeId}/${set.receiverId}`);
      expect(new Set(keys).size, 'a SET leased twice').to.equal(keys.length);
      const rest = await nodes[1]!.claimSets('late', T0, T0 + MINUTE, 100);
      expect(keys.length + rest.length).to.equal(60);
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
    }
  });

  it("keeps a receiver's authorization out of the error when it cannot be stored", async () => {
    const store = await openSequelizeStore(databaseUrl());
    try {
      const secret = 'Bearer do-not-log-this-credential';
      // PostgreSQL refuses an audience longer than its column; sequelize would keep every bound value on the error.
      const err = await rejectionOf(
        store.putReceiver({ id: 'r1', clientKey: TENANT, endpointUrl: 'https://receiver.example.com/e', audience: 'a'.repeat(600), authorization: secret, createdAt: T0, updatedAt: T0 }),
      );
      expect(err).to.be.instanceOf(Error);
      expect(inspect(err, { depth: 10 })).not.to.contain('do-not-log-this-credential');
    } finally {
      await store.close();
    }
  });

  it('delivers a notification to a listener on the same database', async () => {
    const listener = new pg.Client({ connectionString: databaseUrl() });
    await listener.connect();
    const store = await openSequelizeStore(databaseUrl());
    try {
      await listener.query('LISTEN panelguard_test');
      const received = new Promise<pg.Notification>((resolve) => listener.once('notification', resolve));
      await store.notify('panelguard_test', 'revoked 42');
      const notification = await received;
      expect([notification.channel, notification.payload]).to.deep.equal(['panelguard_test', 'revoked 42']);
    } finally {
      await store.close();
      await listener.end();
    }
  });
});
