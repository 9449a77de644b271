/** Databases as nodes from before a migration left them, and what a store opened on them must read; for the SQLite-file and PostgreSQL tests. */
import { expect } from 'chai';
import { QueryTypes, Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import type { EntryStore } from '../../../src/allowlist/types';
import { migrations } from '../../../src/store/migrations';
import { findByTokenHashes } from '../../../src/store/sequelize/statements';
import { T0, TENANT, idHash, anEntry, aPolicy, anAuditRecord } from './fixtures';

/**
 * Takes a database only as far as the first migration and writes an audit record there, as a node from
 * before confirmations did; closes `sequelize`.
 */
export async function writeAuditBeforeConfirmations(sequelize: Sequelize): Promise<void> {
  try {
    const storage = new SequelizeStorage({ sequelize, modelName: 'SchemaMigration', tableName: 'schema_migrations' });
    await new Umzug({ migrations: migrations.slice(0, 1), context: sequelize.getQueryInterface(), storage, logger: undefined }).up();
    // The first schema has no columns for a confirmation.
    const { confirmation, ...columns } = anAuditRecord();
    await sequelize.query(
      `INSERT INTO audit_log (at, kind, client_key, account_id, actor, reason, resource, count)
       VALUES ($at, $kind, $clientKey, $accountId, $actor, $reason, $resource, $count)`,
      { bind: columns },
    );
  } finally {
    await sequelize.close();
  }
}

/**
 * Takes a database as far as the migration before theft detection and writes an entry and a policy there, as a
 * node from before it did; closes `sequelize`.
 */
export async function writeBeforeTheftDetection(sequelize: Sequelize): Promise<void> {
  try {
    const storage = new SequelizeStorage({ sequelize, modelName: 'SchemaMigration', tableName: 'schema_migrations' });
    const before = migrations.findIndex((migration) => migration.name === '0007-theft-detection');
    await new Umzug({ migrations: migrations.slice(0, before), context: sequelize.getQueryInterface(), storage, logger: undefined }).up();
    const { chain, boundKey, ...columns } = anEntry('t1');
    await sequelize.query(
      `INSERT INTO allowlist_entries (id_hash, client_key, account_id, resource, parent, created_at, expires_at, last_seen_at, ip, user_agent, revoked_at, revoke_reason)
       VALUES ($idHash, $clientKey, $accountId, $resource, $parent, $createdAt, $expiresAt, $lastSeenAt, $ip, $userAgent, $revokedAt, $revokeReason)`,
      { bind: columns },
    );
    const { idleTimeoutSeconds, absoluteLifetimeSeconds } = aPolicy({ idleTimeoutSeconds: 600 });
    await sequelize.query(
      `INSERT INTO policies (client_key, idle_timeout_seconds, absolute_lifetime_seconds, updated_at)
       VALUES ($clientKey, $idleTimeoutSeconds, $absoluteLifetimeSeconds, $updatedAt)`,
      { bind: { clientKey: TENANT, idleTimeoutSeconds, absoluteLifetimeSeconds, updatedAt: T0 } },
    );
  } finally {
    await sequelize.close();
  }
}

/** What a store opened on a database from before theft detection must read: no chain, no key, the theft policy's defaults. */
export async function expectReadAsBeforeTheftDetection(store: EntryStore): Promise<void> {
  expect(await store.loadEntryState(idHash('t1'))).to.deep.equal({
    entry: anEntry('t1'),
    tenantStatus: null,
    policy: aPolicy({ idleTimeoutSeconds: 600, theftResponse: 'revoke', agentChangeResponse: 'report', keyBinding: false }),
    newestRemovalAt: null,
  });
}

/**
 * The plan of matching a batch of leaked token hashes on a migrated database: each of the three columns a hash may
 * be in searched through its own index, none by reading the table. PostgreSQL is told to avoid a sequential scan,
 * which it prefers on a table this small; it still scans when no index serves the condition.
 */
export async function expectIndexedLeakLookup(sequelize: Sequelize): Promise<void> {
  const { sql, bind } = findByTokenHashes([idHash('leaked-1'), idHash('leaked-2')]);
  let plan: string;
  if (sequelize.getDialect() === 'sqlite') {
    const rows = await sequelize.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, { bind, type: QueryTypes.SELECT });
    plan = rows.map((row) => row.detail).join('\n');
  } else {
    const rows = await sequelize.transaction(async (transaction) => {
      await sequelize.query('SET LOCAL enable_seqscan = off', { transaction });
      return sequelize.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, { bind, type: QueryTypes.SELECT, transaction });
    });
    plan = rows.map((row) => row['QUERY PLAN']).join('\n');
  }
  expect(plan).not.to.match(/SCAN allowlist_entries|Seq Scan/);
  for (const index of [sequelize.getDialect() === 'sqlite' ? 'sqlite_autoindex_allowlist_entries_1' : 'allowlist_entries_pkey', 'allowlist_entries_chain_token_hash', 'allowlist_entries_chain_previous_hash']) {
    expect(plan).to.contain(index);
  }
}
