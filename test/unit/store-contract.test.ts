/** The behaviour every store promises in each of its roles, run against each implementation, plus what only a SQLite file or PostgreSQL adds. */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import pg from 'pg';
import { QueryTypes, Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import type {
  AllowlistEntry,
  AuditQuery,
  AuditRecord,
  ChainPosition,
  EntryQuery,
  EntryStore,
  Policy,
  RevocationNotice,
  SignalDetail,
  StoredAuditRecord,
  Tenant,
  TokenAdvance,
  Tombstone,
} from '../../src/allowlist/types';
import type { Note } from '../../src/notes/notes';
import type { SsfStream } from '../../src/signals/ssf-receiver/streams';
import type { ClaimedSet, QueuedSet, Receiver } from '../../src/signals/ssf-transmitter/outbox';
import type { AppStore } from '../../src/store/app-store';
import { DuplicateKeyError, StoreClosedError } from '../../src/store/errors';
import { MemoryStore } from '../../src/store/memory-store';
import { migrations, PANELGUARD_TABLES } from '../../src/store/migrations';
import { openSequelizeStore } from '../../src/store/sequelize-store';
import { findByTokenHashes } from '../../src/store/sequelize/statements';
import { createTestDatabase, servicesOrSkip, type TestDatabase } from '../support/services';

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;
const TENANT = 'tenant-a';
const OTHER_TENANT = 'tenant-b';
const ISSUE = 'jira:issue:10001';
const PROJECT = 'jira:project:10000';

/** A realistic id hash: PostgreSQL pads CHAR(64), so anything shorter would not round-trip there. */
function idHash(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

function anEntry(label: string, fields: Partial<AllowlistEntry> = {}): AllowlistEntry {
  return {
    idHash: idHash(label),
    clientKey: TENANT,
    accountId: 'user-1',
    resource: ISSUE,
    parent: PROJECT,
    createdAt: T0,
    expiresAt: T0 + 15 * MINUTE,
    lastSeenAt: T0,
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
    revokedAt: null,
    revokeReason: null,
    chain: null,
    boundKey: null,
    ...fields,
  };
}

function aTombstone(fields: Partial<Tombstone> = {}): Tombstone {
  return {
    clientKey: TENANT,
    kind: 'user',
    subject: 'user-1',
    removedAt: T0 + MINUTE,
    removedEventAt: T0 + MINUTE - 500,
    liftedAt: null,
    lastEventAt: T0 + MINUTE - 500,
    ...fields,
  };
}

function aTenant(fields: Partial<Tenant> = {}): Tenant {
  return { clientKey: TENANT, baseUrl: 'https://acme.atlassian.net', status: 'enabled', updatedAt: T0, ...fields };
}

function aNote(id: string, fields: Partial<Note> = {}): Note {
  return { id, clientKey: TENANT, issueId: '10001', accountId: 'user-1', text: `note ${id}`, createdAt: T0, ...fields };
}

function aStream(id: string, fields: Partial<SsfStream> = {}): SsfStream {
  return {
    id,
    clientKey: TENANT,
    issuer: 'https://idp.example.com',
    audience: `https://panelguard.example.com/ssf/streams/${id}`,
    subjects: 'email',
    createdAt: T0,
    verifiedAt: null,
    ...fields,
  };
}

function aPolicy(fields: Partial<Policy> = {}): Policy {
  return {
    idleTimeoutSeconds: 30 * 60,
    absoluteLifetimeSeconds: 8 * 60 * 60,
    theftResponse: 'revoke',
    agentChangeResponse: 'report',
    keyBinding: false,
    ...fields,
  };
}

function anAuditRecord(fields: Partial<AuditRecord> = {}): AuditRecord {
  return {
    at: T0,
    kind: 'revoke',
    clientKey: TENANT,
    accountId: 'user-1',
    actor: 'webhook:user_deleted',
    reason: 'user_deleted',
    resource: null,
    count: 2,
    confirmation: null,
    ...fields,
  };
}

/** A key's RFC 7638 thumbprint: 43 base64url characters. */
function thumbprint(label: string): string {
  return createHash('sha256').update(label).digest('base64url');
}

/** The rotation to a session's `seq`th successor token, first used a minute after the one before it. */
function anAdvance(label: string, seq: number, fields: Partial<TokenAdvance> = {}): TokenAdvance {
  return {
    seq,
    tokenHash: idHash(`${label}-successor-${seq}`),
    at: T0 + seq * MINUTE,
    ip: '198.51.100.23',
    userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)',
    ...fields,
  };
}

function aSignalDetail(fields: Partial<SignalDetail> = {}): SignalDetail {
  return {
    kind: 'fork',
    session: idHash('t1'),
    action: 'revoked',
    presented: { ip: '198.51.100.23', userAgent: 'curl/8.5.0', network: '198.51.100.0/24', agent: null, at: T0 + 2 * MINUTE },
    holder: { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', network: '203.0.113.0/24', agent: 'Chrome on Linux', at: T0 + MINUTE },
    ...fields,
  };
}

function aSignal(detail: SignalDetail = aSignalDetail()): AuditRecord {
  return anAuditRecord({ kind: 'signal', actor: null, reason: detail.kind, resource: ISSUE, count: null, detail });
}

/**
 * Takes a database only as far as the first migration and writes an audit record there, as a node from
 * before confirmations did; closes `sequelize`.
 */
async function writeAuditBeforeConfirmations(sequelize: Sequelize): Promise<void> {
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
async function writeBeforeTheftDetection(sequelize: Sequelize): Promise<void> {
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
async function expectReadAsBeforeTheftDetection(store: EntryStore): Promise<void> {
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
async function expectIndexedLeakLookup(sequelize: Sequelize): Promise<void> {
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

/** Audit records as appended, without the ids the store gave them (which differ between stores and runs). */
function withoutIds(records: StoredAuditRecord[]): AuditRecord[] {
  return records.map(({ id, ...record }) => record);
}

/** The error a promise rejects with; fails the test if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to reject, but it resolved');
    },
    (err: unknown) => err,
  );
}

function describeStoreContract(name: string, makeStore: () => Promise<AppStore>): void {
  describe(`${name} keeps the Store contract`, () => {
    let store: AppStore;

    beforeEach(async () => {
      store = await makeStore();
    });

    afterEach(async () => {
      await store.close();
    });

    async function revokedAtOf(label: string): Promise<number | null> {
      const state = await store.loadEntryState(idHash(label));
      if (!state) throw new Error(`entry ${label} is missing`);
      return state.entry.revokedAt;
    }

    describe('allowlist entries', () => {
      it('reads back an inserted entry field for field', async () => {
        const entry = anEntry('t1');
        await store.insertEntry(entry);
        const state = await store.loadEntryState(entry.idHash);
        expect(state?.entry).to.deep.equal(entry);
      });

      it('keeps a missing parent, IP and user agent as null', async () => {
        const entry = anEntry('t1', { resource: 'app:admin', parent: null, ip: null, userAgent: null });
        await store.insertEntry(entry);
        expect((await store.loadEntryState(entry.idHash))?.entry).to.deep.equal(entry);
      });

      it('answers null for an id hash it has never seen', async () => {
        expect(await store.loadEntryState(idHash('never-minted'))).to.equal(null);
      });

      it('refuses a second entry with the same id hash', async () => {
        await store.insertEntry(anEntry('t1'));
        const err = await rejectionOf(store.insertEntry(anEntry('t1', { accountId: 'user-2' })));
        expect(err).to.be.instanceOf(DuplicateKeyError);
        expect((await store.loadEntryState(idHash('t1')))?.entry.accountId).to.equal('user-1');
      });

      it('inserts many entries handed over at once, each answered alone: one duplicate fails only itself', async () => {
        await store.insertEntry(anEntry('taken'));
        const labels = Array.from({ length: 450 }, (_, i) => `e${i}`);
        const outcomes = await Promise.allSettled([
          ...labels.slice(0, 200).map((label) => store.insertEntry(anEntry(label))),
          store.insertEntry(anEntry('taken', { accountId: 'user-2' })),
          ...labels.slice(200).map((label) => store.insertEntry(anEntry(label))),
        ]);
        const rejected = outcomes.filter((o) => o.status === 'rejected');
        expect(rejected).to.have.length(1);
        expect((rejected[0] as PromiseRejectedResult).reason).to.be.instanceOf(DuplicateKeyError);
        for (const label of labels) expect((await store.loadEntryState(idHash(label)))?.entry.idHash).to.equal(idHash(label));
        expect((await store.loadEntryState(idHash('taken')))?.entry.accountId).to.equal('user-1');
      });

      it('is not changed when the caller mutates the object it inserted', async () => {
        const entry = anEntry('t1');
        await store.insertEntry(entry);
        entry.revokedAt = T0;
        expect(await revokedAtOf('t1')).to.equal(null);
      });

      it('is not changed when the caller mutates an entry it read', async () => {
        await store.insertEntry(anEntry('t1'));
        const state = await store.loadEntryState(idHash('t1'));
        if (state) state.entry.revokedAt = T0;
        expect(await revokedAtOf('t1')).to.equal(null);
      });

      it('reads back the chain position and bound key it was given, by id and in a listing', async () => {
        const chain: ChainPosition = { seq: 3, tokenHash: idHash('t1-3'), previousHash: idHash('t1-2'), rotatedAt: T0 + 3, ip: null, userAgent: null };
        const entry = anEntry('t1', { chain, boundKey: thumbprint('page-key') });
        await store.insertEntry(entry);
        expect((await store.loadEntryState(entry.idHash))?.entry).to.deep.equal(entry);
        expect((await store.listEntries({ clientKey: TENANT, now: T0, limit: 10 })).entries).to.deep.equal([entry]);
      });

      it("is not changed when the caller mutates the chain position of an entry it inserted or read", async () => {
        const entry = anEntry('t1', { chain: { seq: 1, tokenHash: idHash('t1-1'), previousHash: idHash('t1'), rotatedAt: T0, ip: null, userAgent: null } });
        await store.insertEntry(entry);
        if (entry.chain) entry.chain.seq = 7;
        const read = (await store.loadEntryState(entry.idHash))?.entry;
        if (read?.chain) read.chain.tokenHash = idHash('tampered');
        const listed = (await store.listEntries({ clientKey: TENANT, now: T0, limit: 10 })).entries[0];
        if (listed?.chain) listed.chain.rotatedAt = 0;
        expect((await store.loadEntryState(entry.idHash))?.entry.chain).to.deep.equal({ seq: 1, tokenHash: idHash('t1-1'), previousHash: idHash('t1'), rotatedAt: T0, ip: null, userAgent: null });
      });
    });

    describe('advancing a session\'s token', () => {
      async function chainOf(label: string): Promise<ChainPosition | null | undefined> {
        return (await store.loadEntryState(idHash(label)))?.entry.chain;
      }

      it('advances from the first token, which becomes the previous one, and changes nothing else', async () => {
        await store.insertEntry(anEntry('t1'));
        const next = anAdvance('t1', 1);
        expect(await store.advanceToken(idHash('t1'), 0, next)).to.equal(true);
        const chain = { seq: 1, tokenHash: next.tokenHash, previousHash: idHash('t1'), rotatedAt: next.at, ip: next.ip, userAgent: next.userAgent };
        expect((await store.loadEntryState(idHash('t1')))?.entry).to.deep.equal(anEntry('t1', { chain }));
      });

      it('advances again from where it stands, recording the token it replaces as the previous one', async () => {
        await store.insertEntry(anEntry('t1'));
        await store.advanceToken(idHash('t1'), 0, anAdvance('t1', 1));
        const next = anAdvance('t1', 2, { ip: null, userAgent: null });
        expect(await store.advanceToken(idHash('t1'), 1, next)).to.equal(true);
        expect(await chainOf('t1')).to.deep.equal({
          seq: 2,
          tokenHash: next.tokenHash,
          previousHash: anAdvance('t1', 1).tokenHash,
          rotatedAt: next.at,
          ip: null,
          userAgent: null,
        });
      });

      it('refuses to advance from a position the session has left, or not reached, and changes nothing', async () => {
        await store.insertEntry(anEntry('t1'));
        await store.advanceToken(idHash('t1'), 0, anAdvance('t1', 1));
        const standing = await chainOf('t1');
        expect(await store.advanceToken(idHash('t1'), 0, anAdvance('t1', 1, { tokenHash: idHash('thief') }))).to.equal(false);
        expect(await store.advanceToken(idHash('t1'), 2, anAdvance('t1', 3))).to.equal(false);
        expect(await chainOf('t1')).to.deep.equal(standing);
      });

      it('refuses to advance a revoked session', async () => {
        await store.insertEntry(anEntry('t1', { revokedAt: T0, revokeReason: 'token_forked' }));
        expect(await store.advanceToken(idHash('t1'), 0, anAdvance('t1', 1))).to.equal(false);
        expect(await chainOf('t1')).to.equal(null);
      });

      it('refuses to advance a session it has never seen, and does not create one', async () => {
        expect(await store.advanceToken(idHash('never-minted'), 0, anAdvance('never-minted', 1))).to.equal(false);
        expect(await store.loadEntryState(idHash('never-minted'))).to.equal(null);
      });

      it('lets exactly one of two racing advances from the same position win, and keeps the winner\'s token', async () => {
        await store.insertEntry(anEntry('t1'));
        const rivals = [anAdvance('t1', 1, { tokenHash: idHash('first') }), anAdvance('t1', 1, { tokenHash: idHash('second') })];
        const won = await Promise.all(rivals.map((next) => store.advanceToken(idHash('t1'), 0, next)));
        expect(won.filter(Boolean)).to.have.length(1);
        const winner = rivals[won.indexOf(true)];
        expect((await chainOf('t1'))?.tokenHash).to.equal(winner?.tokenHash);
      });
    });

    describe('binding a session to a key', () => {
      async function boundKeyOf(label: string): Promise<string | null | undefined> {
        return (await store.loadEntryState(idHash(label)))?.entry.boundKey;
      }

      it('binds an unbound session to the key it is given', async () => {
        await store.insertEntry(anEntry('t1'));
        expect(await store.bindKey(idHash('t1'), thumbprint('page-key'))).to.equal(true);
        expect((await store.loadEntryState(idHash('t1')))?.entry).to.deep.equal(anEntry('t1', { boundKey: thumbprint('page-key') }));
      });

      it('answers true again for the key the session is bound to', async () => {
        await store.insertEntry(anEntry('t1'));
        await store.bindKey(idHash('t1'), thumbprint('page-key'));
        expect(await store.bindKey(idHash('t1'), thumbprint('page-key'))).to.equal(true);
        expect(await boundKeyOf('t1')).to.equal(thumbprint('page-key'));
      });

      it('refuses another key once bound, and keeps the first', async () => {
        await store.insertEntry(anEntry('t1'));
        await store.bindKey(idHash('t1'), thumbprint('page-key'));
        expect(await store.bindKey(idHash('t1'), thumbprint('thief-key'))).to.equal(false);
        expect(await boundKeyOf('t1')).to.equal(thumbprint('page-key'));
      });

      it('refuses to bind a revoked session, even to the key it is bound to', async () => {
        await store.insertEntry(anEntry('unbound', { revokedAt: T0, revokeReason: 'user_ended' }));
        await store.insertEntry(anEntry('bound', { boundKey: thumbprint('page-key'), revokedAt: T0, revokeReason: 'user_ended' }));
        expect(await store.bindKey(idHash('unbound'), thumbprint('page-key'))).to.equal(false);
        expect(await store.bindKey(idHash('bound'), thumbprint('page-key'))).to.equal(false);
        expect(await boundKeyOf('unbound')).to.equal(null);
      });

      it('refuses a session it has never seen, and does not create one', async () => {
        expect(await store.bindKey(idHash('never-minted'), thumbprint('page-key'))).to.equal(false);
        expect(await store.loadEntryState(idHash('never-minted'))).to.equal(null);
      });

      it('binds exactly one of two keys racing for one session', async () => {
        await store.insertEntry(anEntry('t1'));
        const keys = [thumbprint('first'), thumbprint('second')];
        const bound = await Promise.all(keys.map((key) => store.bindKey(idHash('t1'), key)));
        expect(bound.filter(Boolean)).to.have.length(1);
        expect(await boundKeyOf('t1')).to.equal(keys[bound.indexOf(true)]);
      });
    });

    describe('mint state', () => {
      const mintState = (accountId = 'user-1', resource = ISSUE, parent: string | null = PROJECT) => store.loadMintState(TENANT, accountId, resource, parent);

      it('knows nothing of a tenant without a record', async () => {
        expect(await mintState()).to.deep.equal({ tenantStatus: null, userRemoval: null, resourceRemoved: false, policy: null });
      });

      it("reports the tenant's status and policy, not another tenant's", async () => {
        await store.putTenant(aTenant({ status: 'disabled' }));
        await store.putTenant(aTenant({ clientKey: OTHER_TENANT, status: 'enabled' }));
        await store.putPolicy(OTHER_TENANT, aPolicy({ idleTimeoutSeconds: 60 }), T0);
        expect(await mintState()).to.include({ tenantStatus: 'disabled', policy: null });
        await store.putPolicy(TENANT, aPolicy(), T0);
        expect((await mintState()).policy).to.deep.equal(aPolicy());
      });

      it("carries the policy's theft detection settings", async () => {
        const guarded = aPolicy({ theftResponse: 'report', agentChangeResponse: 'revoke', keyBinding: true });
        await store.putPolicy(TENANT, guarded, T0);
        expect((await mintState()).policy).to.deep.equal(guarded);
      });

      it("reports the user's removal, and when it was lifted, for that user only", async () => {
        await store.putTombstone(aTombstone());
        expect((await mintState()).userRemoval).to.deep.equal({ removedEventAt: T0 + MINUTE - 500, liftedAt: null });
        expect((await mintState('user-2')).userRemoval).to.equal(null);
        await store.putTombstone(aTombstone({ liftedAt: T0 + 2 * MINUTE, lastEventAt: T0 + 2 * MINUTE }));
        expect((await mintState()).userRemoval).to.deep.equal({ removedEventAt: T0 + MINUTE - 500, liftedAt: T0 + 2 * MINUTE });
      });

      it('reports a deleted resource, or a deleted parent, and nothing for a resource without a parent', async () => {
        expect((await mintState()).resourceRemoved).to.equal(false);
        await store.putTombstone(aTombstone({ kind: 'resource', subject: PROJECT }));
        expect((await mintState()).resourceRemoved).to.equal(true);
        expect((await mintState('user-1', 'jira:issue:99999', null)).resourceRemoved).to.equal(false);
        await store.putTombstone(aTombstone({ kind: 'resource', subject: 'jira:issue:99999' }));
        expect((await mintState('user-1', 'jira:issue:99999', null)).resourceRemoved).to.equal(true);
        expect((await mintState('user-1', 'jira:issue:99999', null)).userRemoval).to.equal(null);
      });
    });

    describe('entry state: tenant status', () => {
      it('reports no tenant status when the tenant has no record', async () => {
        await store.insertEntry(anEntry('t1'));
        expect((await store.loadEntryState(idHash('t1')))?.tenantStatus).to.equal(null);
      });

      it("reports the tenant's current status", async () => {
        await store.insertEntry(anEntry('t1'));
        await store.putTenant(aTenant({ status: 'enabled' }));
        expect((await store.loadEntryState(idHash('t1')))?.tenantStatus).to.equal('enabled');
        await store.putTenant(aTenant({ status: 'uninstalled', updatedAt: T0 + MINUTE }));
        expect((await store.loadEntryState(idHash('t1')))?.tenantStatus).to.equal('uninstalled');
      });

      it("reports its own tenant's status, not another tenant's", async () => {
        await store.insertEntry(anEntry('t1'));
        await store.putTenant(aTenant({ status: 'disabled' }));
        await store.putTenant(aTenant({ clientKey: OTHER_TENANT, status: 'enabled' }));
        expect((await store.loadEntryState(idHash('t1')))?.tenantStatus).to.equal('disabled');
      });
    });

    describe('entry state: policy', () => {
      it('carries no policy while the tenant has none', async () => {
        await store.insertEntry(anEntry('t1'));
        expect((await store.loadEntryState(idHash('t1')))?.policy).to.equal(null);
      });

      it("carries the tenant's current policy, not another tenant's", async () => {
        await store.insertEntry(anEntry('t1'));
        await store.putPolicy(OTHER_TENANT, aPolicy({ idleTimeoutSeconds: 60 }), T0);
        await store.putPolicy(TENANT, aPolicy(), T0);
        expect((await store.loadEntryState(idHash('t1')))?.policy).to.deep.equal(aPolicy());
        await store.putPolicy(TENANT, aPolicy({ absoluteLifetimeSeconds: 3600 }), T0 + MINUTE);
        expect((await store.loadEntryState(idHash('t1')))?.policy).to.deep.equal(aPolicy({ absoluteLifetimeSeconds: 3600 }));
      });

      it("carries the policy's theft detection settings", async () => {
        await store.insertEntry(anEntry('t1'));
        const guarded = aPolicy({ theftResponse: 'report', agentChangeResponse: 'revoke', keyBinding: true });
        await store.putPolicy(TENANT, guarded, T0);
        expect((await store.loadEntryState(idHash('t1')))?.policy).to.deep.equal(guarded);
      });
    });

    describe('entry state: newest removal', () => {
      async function newestRemovalOf(label: string): Promise<number | null | undefined> {
        return (await store.loadEntryState(idHash(label)))?.newestRemovalAt;
      }

      beforeEach(async () => {
        await store.insertEntry(anEntry('t1'));
      });

      it('reports no removal when no tombstone applies', async () => {
        expect(await newestRemovalOf('t1')).to.equal(null);
      });

      it("reports the removal of the entry's user", async () => {
        await store.putTombstone(aTombstone({ kind: 'user', subject: 'user-1', removedAt: T0 + 5 }));
        expect(await newestRemovalOf('t1')).to.equal(T0 + 5);
      });

      it("reports the removal of the entry's own resource", async () => {
        await store.putTombstone(aTombstone({ kind: 'resource', subject: ISSUE, removedAt: T0 + 6 }));
        expect(await newestRemovalOf('t1')).to.equal(T0 + 6);
      });

      it("reports the removal of the entry's parent project", async () => {
        await store.putTombstone(aTombstone({ kind: 'resource', subject: PROJECT, removedAt: T0 + 7 }));
        expect(await newestRemovalOf('t1')).to.equal(T0 + 7);
      });

      it('reports the newest of several applicable removals', async () => {
        await store.putTombstone(aTombstone({ kind: 'user', subject: 'user-1', removedAt: T0 + 3 }));
        await store.putTombstone(aTombstone({ kind: 'resource', subject: PROJECT, removedAt: T0 + 9 }));
        await store.putTombstone(aTombstone({ kind: 'resource', subject: ISSUE, removedAt: T0 + 4 }));
        expect(await newestRemovalOf('t1')).to.equal(T0 + 9);
      });

      it('still counts a tombstone that has been lifted', async () => {
        await store.putTombstone(aTombstone({ removedAt: T0 + 5, liftedAt: T0 + 10 * MINUTE }));
        expect(await newestRemovalOf('t1')).to.equal(T0 + 5);
      });

      it("ignores another tenant's tombstones for the same user, resource and parent", async () => {
        await store.putTombstone(aTombstone({ clientKey: OTHER_TENANT, kind: 'user', subject: 'user-1' }));
        await store.putTombstone(aTombstone({ clientKey: OTHER_TENANT, kind: 'resource', subject: ISSUE }));
        await store.putTombstone(aTombstone({ clientKey: OTHER_TENANT, kind: 'resource', subject: PROJECT }));
        expect(await newestRemovalOf('t1')).to.equal(null);
      });

      it('ignores tombstones of other users and other resources', async () => {
        await store.putTombstone(aTombstone({ kind: 'user', subject: 'user-2' }));
        await store.putTombstone(aTombstone({ kind: 'resource', subject: 'jira:issue:10002' }));
        await store.putTombstone(aTombstone({ kind: 'resource', subject: 'jira:project:20000' }));
        expect(await newestRemovalOf('t1')).to.equal(null);
      });

      it('matches a tombstone only under its own kind', async () => {
        await store.putTombstone(aTombstone({ kind: 'user', subject: ISSUE }));
        await store.putTombstone(aTombstone({ kind: 'resource', subject: 'user-1' }));
        expect(await newestRemovalOf('t1')).to.equal(null);
      });

      it('lets only its own resource remove an entry that has no parent', async () => {
        await store.insertEntry(anEntry('admin', { resource: 'app:admin', parent: null }));
        await store.putTombstone(aTombstone({ kind: 'resource', subject: PROJECT }));
        expect(await newestRemovalOf('admin')).to.equal(null);
        await store.putTombstone(aTombstone({ kind: 'resource', subject: 'app:admin', removedAt: T0 + 8 }));
        expect(await newestRemovalOf('admin')).to.equal(T0 + 8);
      });
    });

    describe('revoking entries', () => {
      it('revokes one entry by its id hash, recording when and why', async () => {
        await store.insertEntry(anEntry('t1'));
        await store.insertEntry(anEntry('t2'));
        const count = await store.revokeEntries({ kind: 'token', idHash: idHash('t1') }, T0 + MINUTE, 'user_ended');
        expect(count).to.equal(1);
        const state = await store.loadEntryState(idHash('t1'));
        expect(state?.entry.revokedAt).to.equal(T0 + MINUTE);
        expect(state?.entry.revokeReason).to.equal('user_ended');
        expect(await revokedAtOf('t2')).to.equal(null);
      });

      it("revokes every live entry of the user in the tenant and no one else's", async () => {
        await store.insertEntry(anEntry('mine-1'));
        await store.insertEntry(anEntry('mine-2', { resource: 'app:self', parent: null }));
        await store.insertEntry(anEntry('someone-else', { accountId: 'user-2' }));
        await store.insertEntry(anEntry('same-user-other-tenant', { clientKey: OTHER_TENANT }));
        const count = await store.revokeEntries({ kind: 'user', clientKey: TENANT, accountId: 'user-1' }, T0 + 1, 'user_deleted');
        expect(count).to.equal(2);
        expect(await revokedAtOf('mine-1')).to.equal(T0 + 1);
        expect(await revokedAtOf('mine-2')).to.equal(T0 + 1);
        expect(await revokedAtOf('someone-else')).to.equal(null);
        expect(await revokedAtOf('same-user-other-tenant')).to.equal(null);
      });

      it('revokes every entry for the deleted issue itself', async () => {
        await store.insertEntry(anEntry('issue-user-1'));
        await store.insertEntry(anEntry('issue-user-2', { accountId: 'user-2' }));
        await store.insertEntry(anEntry('sibling-issue', { resource: 'jira:issue:10002' }));
        const count = await store.revokeEntries({ kind: 'resource', clientKey: TENANT, resource: ISSUE }, T0 + 1, 'issue_deleted');
        expect(count).to.equal(2);
        expect(await revokedAtOf('issue-user-1')).to.equal(T0 + 1);
        expect(await revokedAtOf('issue-user-2')).to.equal(T0 + 1);
        expect(await revokedAtOf('sibling-issue')).to.equal(null);
      });

      it('revokes every entry whose parent is the deleted project', async () => {
        await store.insertEntry(anEntry('issue-a', { resource: 'jira:issue:10001' }));
        await store.insertEntry(anEntry('issue-b', { resource: 'jira:issue:10002' }));
        await store.insertEntry(anEntry('project-page', { resource: PROJECT, parent: null }));
        await store.insertEntry(anEntry('other-project', { resource: 'jira:issue:20001', parent: 'jira:project:20000' }));
        await store.insertEntry(anEntry('admin', { resource: 'app:admin', parent: null }));
        const count = await store.revokeEntries({ kind: 'resource', clientKey: TENANT, resource: PROJECT }, T0 + 1, 'project_deleted');
        expect(count).to.equal(3);
        expect(await revokedAtOf('issue-a')).to.equal(T0 + 1);
        expect(await revokedAtOf('issue-b')).to.equal(T0 + 1);
        expect(await revokedAtOf('project-page')).to.equal(T0 + 1);
        expect(await revokedAtOf('other-project')).to.equal(null);
        expect(await revokedAtOf('admin')).to.equal(null);
      });

      it("does not revoke another tenant's entries for a resource of the same name", async () => {
        await store.insertEntry(anEntry('theirs', { clientKey: OTHER_TENANT }));
        const count = await store.revokeEntries({ kind: 'resource', clientKey: TENANT, resource: PROJECT }, T0 + 1, 'project_deleted');
        expect(count).to.equal(0);
        expect(await revokedAtOf('theirs')).to.equal(null);
      });

      it('revokes every entry of the tenant and none of another tenant', async () => {
        await store.insertEntry(anEntry('a-1'));
        await store.insertEntry(anEntry('a-2', { accountId: 'user-2', resource: 'app:admin', parent: null }));
        await store.insertEntry(anEntry('b-1', { clientKey: OTHER_TENANT }));
        const count = await store.revokeEntries({ kind: 'tenant', clientKey: TENANT }, T0 + 1, 'uninstalled');
        expect(count).to.equal(2);
        expect(await revokedAtOf('a-1')).to.equal(T0 + 1);
        expect(await revokedAtOf('a-2')).to.equal(T0 + 1);
        expect(await revokedAtOf('b-1')).to.equal(null);
      });

      it("ends one session of the user and none of the user's others", async () => {
        await store.insertEntry(anEntry('this-one'));
        await store.insertEntry(anEntry('another'));
        const scope = { kind: 'session', clientKey: TENANT, accountId: 'user-1', idHash: idHash('this-one') } as const;
        expect(await store.revokeEntries(scope, T0 + 1, 'user_ended')).to.equal(1);
        expect(await revokedAtOf('this-one')).to.equal(T0 + 1);
        expect(await revokedAtOf('another')).to.equal(null);
      });

      it("does not end another user's session named by its id hash", async () => {
        await store.insertEntry(anEntry('theirs', { accountId: 'user-2' }));
        const scope = { kind: 'session', clientKey: TENANT, accountId: 'user-1', idHash: idHash('theirs') } as const;
        expect(await store.revokeEntries(scope, T0 + 1, 'user_ended')).to.equal(0);
        expect(await revokedAtOf('theirs')).to.equal(null);
      });

      it("does not end a session of the same user id in another tenant", async () => {
        await store.insertEntry(anEntry('other-tenant', { clientKey: OTHER_TENANT }));
        const scope = { kind: 'session', clientKey: TENANT, accountId: 'user-1', idHash: idHash('other-tenant') } as const;
        expect(await store.revokeEntries(scope, T0 + 1, 'user_ended')).to.equal(0);
        expect(await revokedAtOf('other-tenant')).to.equal(null);
      });

      it('ends every other session of the user and keeps exactly the one excepted', async () => {
        await store.insertEntry(anEntry('kept'));
        await store.insertEntry(anEntry('other-1'));
        await store.insertEntry(anEntry('other-2', { resource: 'app:self', parent: null }));
        await store.insertEntry(anEntry('someone-else', { accountId: 'user-2' }));
        const scope = { kind: 'user', clientKey: TENANT, accountId: 'user-1', except: idHash('kept') } as const;
        expect(await store.revokeEntries(scope, T0 + 1, 'user_ended_others')).to.equal(2);
        expect(await revokedAtOf('kept')).to.equal(null);
        expect(await revokedAtOf('other-1')).to.equal(T0 + 1);
        expect(await revokedAtOf('other-2')).to.equal(T0 + 1);
        expect(await revokedAtOf('someone-else')).to.equal(null);
      });

      it('leaves entries already revoked untouched, keeping their first time and reason, and does not count them', async () => {
        await store.insertEntry(anEntry('early', { revokedAt: T0 + 1, revokeReason: 'user_ended' }));
        await store.insertEntry(anEntry('live'));
        const count = await store.revokeEntries({ kind: 'user', clientKey: TENANT, accountId: 'user-1' }, T0 + 2, 'user_deleted');
        expect(count).to.equal(1);
        const early = await store.loadEntryState(idHash('early'));
        expect(early?.entry.revokedAt).to.equal(T0 + 1);
        expect(early?.entry.revokeReason).to.equal('user_ended');
      });

      it('counts nothing when the same revocation is repeated', async () => {
        await store.insertEntry(anEntry('t1'));
        expect(await store.revokeEntries({ kind: 'token', idHash: idHash('t1') }, T0 + 1, 'admin')).to.equal(1);
        expect(await store.revokeEntries({ kind: 'token', idHash: idHash('t1') }, T0 + 2, 'admin')).to.equal(0);
        expect(await revokedAtOf('t1')).to.equal(T0 + 1);
      });

      it('counts nothing when no entry is in scope', async () => {
        expect(await store.revokeEntries({ kind: 'token', idHash: idHash('never-minted') }, T0, 'admin')).to.equal(0);
        expect(await store.revokeEntries({ kind: 'tenant', clientKey: 'nobody' }, T0, 'uninstalled')).to.equal(0);
      });
    });

    describe('finding sessions by leaked token hashes', () => {
      /** A session rotated `seq` times: its current token is its `seq`th successor, the one before its previous. */
      function aRotatedEntry(label: string, seq: number, fields: Partial<AllowlistEntry> = {}): AllowlistEntry {
        const previousHash = seq === 1 ? idHash(label) : anAdvance(label, seq - 1).tokenHash;
        const chain: ChainPosition = { seq, tokenHash: anAdvance(label, seq).tokenHash, previousHash, rotatedAt: T0 + seq * MINUTE, ip: null, userAgent: null };
        return anEntry(label, { chain, ...fields });
      }

      const idsOf = (entries: AllowlistEntry[]) => entries.map((entry) => entry.idHash).sort();

      it('finds a session by the hash of its first token, field for field', async () => {
        await store.insertEntry(anEntry('t1'));
        await store.insertEntry(anEntry('t2'));
        expect(await store.findByTokenHashes([idHash('t1')])).to.deep.equal([anEntry('t1')]);
      });

      it("finds a rotated session by its current token's hash and by the previous one's", async () => {
        await store.insertEntry(aRotatedEntry('t1', 3));
        expect(await store.findByTokenHashes([anAdvance('t1', 3).tokenHash])).to.deep.equal([aRotatedEntry('t1', 3)]);
        expect(await store.findByTokenHashes([anAdvance('t1', 2).tokenHash])).to.deep.equal([aRotatedEntry('t1', 3)]);
      });

      it('does not find a session by a token older than the one before its current', async () => {
        await store.insertEntry(aRotatedEntry('t1', 3));
        expect(await store.findByTokenHashes([anAdvance('t1', 1).tokenHash])).to.deep.equal([]);
      });

      it('finds revoked and expired sessions, and those of every tenant', async () => {
        await store.insertEntry(anEntry('revoked', { revokedAt: T0 + 1, revokeReason: 'user_ended' }));
        await store.insertEntry(anEntry('expired', { expiresAt: T0 - 1 }));
        await store.insertEntry(anEntry('elsewhere', { clientKey: OTHER_TENANT }));
        const found = await store.findByTokenHashes([idHash('revoked'), idHash('expired'), idHash('elsewhere')]);
        expect(idsOf(found)).to.deep.equal([idHash('revoked'), idHash('expired'), idHash('elsewhere')].sort());
        expect(found.find((entry) => entry.idHash === idHash('revoked'))).to.deep.equal(anEntry('revoked', { revokedAt: T0 + 1, revokeReason: 'user_ended' }));
      });

      it('lists a session named by several of its tokens once', async () => {
        await store.insertEntry(aRotatedEntry('t1', 1));
        const found = await store.findByTokenHashes([idHash('t1'), anAdvance('t1', 1).tokenHash]);
        expect(idsOf(found)).to.deep.equal([idHash('t1')]);
      });

      it('finds nothing for hashes no session has, nor for no hashes at all', async () => {
        await store.insertEntry(aRotatedEntry('t1', 2));
        expect(await store.findByTokenHashes([idHash('never-minted'), idHash('nor-this')])).to.deep.equal([]);
        expect(await store.findByTokenHashes([])).to.deep.equal([]);
      });

      it('finds every session among more hashes than one statement binds', async () => {
        const labels = Array.from({ length: 30 }, (_, i) => `s${i}`);
        for (const [i, label] of labels.entries()) await store.insertEntry(i % 2 === 0 ? anEntry(label) : aRotatedEntry(label, 2));
        const named = labels.map((label, i) => (i % 2 === 0 ? idHash(label) : anAdvance(label, 2).tokenHash));
        const unknown = Array.from({ length: 1200 }, (_, i) => idHash(`unknown-${i}`));
        // The sessions' hashes spread over the batch: first, middle and last place included.
        const hashes = [named[0], ...unknown.slice(0, 600), ...named.slice(1, -1), ...unknown.slice(600), named[named.length - 1]];
        expect(idsOf(await store.findByTokenHashes(hashes))).to.deep.equal(labels.map(idHash).sort());
      });

      it('is not changed when the caller mutates a session it found', async () => {
        await store.insertEntry(aRotatedEntry('t1', 1));
        const [found] = await store.findByTokenHashes([idHash('t1')]);
        if (found?.chain) found.chain.tokenHash = idHash('tampered');
        if (found) found.revokedAt = T0;
        expect((await store.loadEntryState(idHash('t1')))?.entry).to.deep.equal(aRotatedEntry('t1', 1));
      });
    });

    describe('touching entries', () => {
      async function lastSeenOf(label: string): Promise<number | undefined> {
        return (await store.loadEntryState(idHash(label)))?.entry.lastSeenAt;
      }

      it("raises each entry's last seen time and changes nothing else", async () => {
        await store.insertEntry(anEntry('a'));
        await store.insertEntry(anEntry('b'));
        await store.touchEntries([
          { idHash: idHash('a'), lastSeenAt: T0 + MINUTE },
          { idHash: idHash('b'), lastSeenAt: T0 + 2 * MINUTE },
        ]);
        expect((await store.loadEntryState(idHash('a')))?.entry).to.deep.equal(anEntry('a', { lastSeenAt: T0 + MINUTE }));
        expect(await lastSeenOf('b')).to.equal(T0 + 2 * MINUTE);
      });

      it('never lowers a last seen time', async () => {
        await store.insertEntry(anEntry('recent', { lastSeenAt: T0 + 5 * MINUTE }));
        await store.touchEntries([{ idHash: idHash('recent'), lastSeenAt: T0 + MINUTE }]);
        expect(await lastSeenOf('recent')).to.equal(T0 + 5 * MINUTE);
      });

      it('takes the newest time when a batch names an entry twice', async () => {
        await store.insertEntry(anEntry('twice'));
        await store.touchEntries([
          { idHash: idHash('twice'), lastSeenAt: T0 + 3 * MINUTE },
          { idHash: idHash('twice'), lastSeenAt: T0 + MINUTE },
        ]);
        expect(await lastSeenOf('twice')).to.equal(T0 + 3 * MINUTE);
      });

      it('ignores id hashes it does not know, and an empty batch', async () => {
        await store.insertEntry(anEntry('known'));
        await store.touchEntries([
          { idHash: idHash('swept-meanwhile'), lastSeenAt: T0 + MINUTE },
          { idHash: idHash('known'), lastSeenAt: T0 + MINUTE },
        ]);
        await store.touchEntries([]);
        expect(await lastSeenOf('known')).to.equal(T0 + MINUTE);
        expect(await store.loadEntryState(idHash('swept-meanwhile'))).to.equal(null);
      });

      it('touches every entry of a batch larger than one statement takes (over 500)', async () => {
        const labels = Array.from({ length: 501 }, (_, i) => `bulk-${i}`);
        for (const label of labels) await store.insertEntry(anEntry(label));
        await store.touchEntries(labels.map((label, i) => ({ idHash: idHash(label), lastSeenAt: T0 + i + 1 })));
        for (const i of [0, 499, 500]) expect(await lastSeenOf(`bulk-${i}`), `bulk-${i}`).to.equal(T0 + i + 1);
      });
    });

    describe('listing entries', () => {
      const NOW = T0 + MINUTE;

      function aQuery(fields: Partial<EntryQuery> = {}): EntryQuery {
        return { clientKey: TENANT, now: NOW, limit: 100, ...fields };
      }

      async function listedIds(fields: Partial<EntryQuery> = {}): Promise<string[]> {
        return (await store.listEntries(aQuery(fields))).entries.map((entry) => entry.idHash);
      }

      it("lists the tenant's live entries newest first, field for field", async () => {
        const entries = [anEntry('old', { createdAt: T0 - 2 }), anEntry('new', { createdAt: T0 }), anEntry('mid', { createdAt: T0 - 1 })];
        for (const entry of entries) await store.insertEntry(entry);
        const page = await store.listEntries(aQuery());
        expect(page.entries).to.deep.equal([entries[1], entries[2], entries[0]]);
        expect(page.next).to.equal(null);
      });

      it("leaves out revoked and expired entries, an entry expiring right now, and other tenants' entries", async () => {
        await store.insertEntry(anEntry('live'));
        await store.insertEntry(anEntry('revoked', { revokedAt: T0, revokeReason: 'user_ended' }));
        await store.insertEntry(anEntry('expired', { expiresAt: NOW - 1 }));
        await store.insertEntry(anEntry('expiring-now', { expiresAt: NOW }));
        await store.insertEntry(anEntry('other-tenant', { clientKey: OTHER_TENANT }));
        expect(await listedIds()).to.deep.equal([idHash('live')]);
      });

      it('filters by user, by resource, and by both', async () => {
        await store.insertEntry(anEntry('u1-issue'));
        await store.insertEntry(anEntry('u1-admin', { resource: 'app:admin', parent: null, createdAt: T0 - 1 }));
        await store.insertEntry(anEntry('u2-issue', { accountId: 'user-2', createdAt: T0 - 2 }));
        expect(await listedIds({ accountId: 'user-1' })).to.deep.equal([idHash('u1-issue'), idHash('u1-admin')]);
        expect(await listedIds({ resource: ISSUE })).to.deep.equal([idHash('u1-issue'), idHash('u2-issue')]);
        expect(await listedIds({ accountId: 'user-2', resource: ISSUE })).to.deep.equal([idHash('u2-issue')]);
        expect(await listedIds({ accountId: 'user-2', resource: 'app:admin' })).to.deep.equal([]);
      });

      it('orders entries created in the same millisecond by id hash, descending', async () => {
        const labels = ['s1', 's2', 's3', 's4'];
        for (const label of labels) await store.insertEntry(anEntry(label));
        const expected = labels.map(idHash).sort().reverse();
        expect(await listedIds()).to.deep.equal(expected);
      });

      it('pages through five entries two at a time: 2, 2, then 1 and no next cursor', async () => {
        // Three share a millisecond, so a page boundary falls between entries that only the id hash orders.
        const createdAts = [T0 - 3, T0 - 2, T0 - 2, T0 - 2, T0 - 1];
        for (const [i, createdAt] of createdAts.entries()) await store.insertEntry(anEntry(`p${i}`, { createdAt }));
        const pages: string[][] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.listEntries(aQuery({ limit: 2, after }));
          pages.push(page.entries.map((entry) => entry.idHash));
          if (page.next === null) break;
          after = page.next;
        }
        expect(pages.map((page) => page.length)).to.deep.equal([2, 2, 1]);
        expect(pages.flat()).to.deep.equal(await listedIds());
      });

      it('gives no next cursor when the entries exactly fill the page', async () => {
        await store.insertEntry(anEntry('a'));
        await store.insertEntry(anEntry('b'));
        const page = await store.listEntries(aQuery({ limit: 2 }));
        expect(page.entries).to.have.length(2);
        expect(page.next).to.equal(null);
      });

      it('keeps paging from a cursor whose entry was revoked since', async () => {
        for (let i = 0; i < 3; i += 1) await store.insertEntry(anEntry(`e${i}`, { createdAt: T0 - i }));
        const first = await store.listEntries(aQuery({ limit: 1 }));
        await store.revokeEntries({ kind: 'token', idHash: idHash('e0') }, T0, 'user_ended');
        expect(await listedIds({ after: first.next ?? undefined })).to.deep.equal([idHash('e1'), idHash('e2')]);
      });

      it('refuses a cursor it did not hand out, or one changed in any way', async () => {
        await store.insertEntry(anEntry('a'));
        await store.insertEntry(anEntry('b'));
        const cursor = (await store.listEntries(aQuery({ limit: 1 }))).next;
        if (cursor === null) throw new Error('expected a next cursor');
        const encode = (text: string) => Buffer.from(text).toString('base64url');
        const forged = ['', 'not a cursor!', encode('no-colon'), encode(`-1:${idHash('a')}`), encode(`1.5:${idHash('a')}`), encode(`${T0}:abc`)];
        // Node's base64 decoder skips stray characters and tolerates a cut, so these would decode to something.
        const changed = [`${cursor}=`, `${cursor}!`, cursor.slice(0, -1), cursor.slice(0, -4)];
        for (const after of [...forged, ...changed]) {
          expect(await rejectionOf(store.listEntries(aQuery({ after }))), after).to.be.instanceOf(RangeError);
        }
      });

      it('refuses a limit that is not a positive integer', async () => {
        for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          expect(await rejectionOf(store.listEntries(aQuery({ limit }))), String(limit)).to.be.instanceOf(RangeError);
        }
      });
    });

    describe('counting live entries', () => {
      beforeEach(async () => {
        await store.insertEntry(anEntry('a-1'));
        await store.insertEntry(anEntry('a-2', { accountId: 'user-2' }));
        await store.insertEntry(anEntry('a-revoked', { revokedAt: T0, revokeReason: 'user_ended' }));
        await store.insertEntry(anEntry('a-expired', { expiresAt: T0 }));
        await store.insertEntry(anEntry('b-1', { clientKey: OTHER_TENANT }));
      });

      it("counts one tenant's live entries", async () => {
        expect(await store.countLiveEntries(T0, TENANT)).to.equal(2);
        expect(await store.countLiveEntries(T0, OTHER_TENANT)).to.equal(1);
        expect(await store.countLiveEntries(T0, 'nobody')).to.equal(0);
      });

      it('counts live entries over every tenant', async () => {
        expect(await store.countLiveEntries(T0)).to.equal(3);
      });

      it('stops counting an entry once now reaches its expiry', async () => {
        expect(await store.countLiveEntries(T0 + 15 * MINUTE)).to.equal(0);
      });
    });

    describe('known users', () => {
      it('knows a user who has only an entry, even a revoked and expired one', async () => {
        await store.insertEntry(anEntry('dead', { expiresAt: T0 - 1, revokedAt: T0 - 2, revokeReason: 'user_ended' }));
        expect(await store.isKnownUser(TENANT, 'user-1')).to.equal(true);
      });

      it('knows a user who has only a tombstone, even a lifted one', async () => {
        await store.putTombstone(aTombstone({ subject: 'user-9', liftedAt: T0 + 2 * MINUTE, lastEventAt: T0 + 2 * MINUTE }));
        expect(await store.isKnownUser(TENANT, 'user-9')).to.equal(true);
      });

      it('does not know a user seen only in another tenant, or only as a resource name, or never', async () => {
        await store.insertEntry(anEntry('elsewhere', { clientKey: OTHER_TENANT, accountId: 'user-3' }));
        await store.putTombstone(aTombstone({ kind: 'resource', subject: 'user-4' }));
        expect(await store.isKnownUser(TENANT, 'user-3')).to.equal(false);
        expect(await store.isKnownUser(TENANT, 'user-4')).to.equal(false);
        expect(await store.isKnownUser(TENANT, 'user-5')).to.equal(false);
      });
    });

    describe('policies', () => {
      it('answers null for a tenant that never set one', async () => {
        expect(await store.getPolicy(TENANT)).to.equal(null);
      });

      it('reads back a stored policy, and the newer one when set again', async () => {
        await store.putPolicy(TENANT, aPolicy(), T0);
        expect(await store.getPolicy(TENANT)).to.deep.equal(aPolicy());
        const stricter = aPolicy({ idleTimeoutSeconds: 300, absoluteLifetimeSeconds: 3600 });
        await store.putPolicy(TENANT, stricter, T0 + MINUTE);
        expect(await store.getPolicy(TENANT)).to.deep.equal(stricter);
      });

      it("reads back theft detection's settings, and their defaults when set again", async () => {
        const guarded = aPolicy({ theftResponse: 'report', agentChangeResponse: 'revoke', keyBinding: true });
        await store.putPolicy(TENANT, guarded, T0);
        expect(await store.getPolicy(TENANT)).to.deep.equal(guarded);
        await store.putPolicy(TENANT, aPolicy(), T0 + MINUTE);
        expect(await store.getPolicy(TENANT)).to.deep.equal(aPolicy());
      });

      it("keeps tenants' policies apart", async () => {
        await store.putPolicy(OTHER_TENANT, aPolicy({ idleTimeoutSeconds: 60 }), T0);
        expect(await store.getPolicy(TENANT)).to.equal(null);
        expect(await store.getPolicy(OTHER_TENANT)).to.deep.equal(aPolicy({ idleTimeoutSeconds: 60 }));
      });

      it('is not changed when the caller mutates a policy it stored or read', async () => {
        const policy = aPolicy();
        await store.putPolicy(TENANT, policy, T0);
        policy.idleTimeoutSeconds = 1;
        const read = await store.getPolicy(TENANT);
        if (read) read.absoluteLifetimeSeconds = 1;
        expect(await store.getPolicy(TENANT)).to.deep.equal(aPolicy());
      });
    });

    describe('tombstones', () => {
      it('answers null for a subject that was never removed', async () => {
        expect(await store.getTombstone(TENANT, 'user', 'user-1')).to.equal(null);
      });

      it('reads back a stored tombstone field for field', async () => {
        const tombstone = aTombstone();
        await store.putTombstone(tombstone);
        expect(await store.getTombstone(TENANT, 'user', 'user-1')).to.deep.equal(tombstone);
      });

      it('replaces the tombstone of the same tenant, kind and subject with one from a newer event', async () => {
        expect(await store.putTombstone(aTombstone())).to.equal(true);
        const lifted = aTombstone({ liftedAt: T0 + 2 * MINUTE, lastEventAt: T0 + 2 * MINUTE - 100 });
        expect(await store.putTombstone(lifted)).to.equal(true);
        expect(await store.getTombstone(TENANT, 'user', 'user-1')).to.deep.equal(lifted);
      });

      it('keeps the stored tombstone against one from an older or the same event, and says so', async () => {
        const newer = aTombstone({ liftedAt: T0 + 2 * MINUTE, lastEventAt: T0 + 2 * MINUTE });
        await store.putTombstone(newer);
        expect(await store.putTombstone(aTombstone({ lastEventAt: T0 + MINUTE }))).to.equal(false);
        expect(await store.putTombstone(aTombstone({ lastEventAt: T0 + 2 * MINUTE }))).to.equal(false);
        expect(await store.getTombstone(TENANT, 'user', 'user-1')).to.deep.equal(newer);
      });

      it('settles concurrent writes for one subject on the newest event', async () => {
        const events = [5, 1, 9, 3, 7].map((n) => aTombstone({ removedAt: T0 + n, lastEventAt: T0 + n * MINUTE }));
        await Promise.all(events.map((t) => store.putTombstone(t)));
        expect((await store.getTombstone(TENANT, 'user', 'user-1'))?.lastEventAt).to.equal(T0 + 9 * MINUTE);
      });

      it('keeps tombstones of different kinds and tenants apart', async () => {
        const user = aTombstone({ kind: 'user', subject: 'x', removedAt: T0 + 1 });
        const resource = aTombstone({ kind: 'resource', subject: 'x', removedAt: T0 + 2 });
        const otherTenant = aTombstone({ clientKey: OTHER_TENANT, kind: 'user', subject: 'x', removedAt: T0 + 3 });
        await store.putTombstone(user);
        await store.putTombstone(resource);
        await store.putTombstone(otherTenant);
        expect(await store.getTombstone(TENANT, 'user', 'x')).to.deep.equal(user);
        expect(await store.getTombstone(TENANT, 'resource', 'x')).to.deep.equal(resource);
        expect(await store.getTombstone(OTHER_TENANT, 'user', 'x')).to.deep.equal(otherTenant);
        expect(await store.getTombstone(OTHER_TENANT, 'resource', 'x')).to.equal(null);
      });
    });

    describe('tenants', () => {
      it('answers null for a tenant that never installed', async () => {
        expect(await store.getTenant('nobody')).to.equal(null);
      });

      it('reads back a stored tenant', async () => {
        await store.putTenant(aTenant());
        expect(await store.getTenant(TENANT)).to.deep.equal(aTenant());
      });

      it("replaces the tenant's record", async () => {
        await store.putTenant(aTenant());
        const moved = aTenant({ baseUrl: 'https://acme-new.atlassian.net', status: 'disabled', updatedAt: T0 + MINUTE });
        await store.putTenant(moved);
        expect(await store.getTenant(TENANT)).to.deep.equal(moved);
      });

      it('is not changed when the caller mutates a tenant it read', async () => {
        await store.putTenant(aTenant());
        const tenant = await store.getTenant(TENANT);
        if (tenant) tenant.status = 'uninstalled';
        expect((await store.getTenant(TENANT))?.status).to.equal('enabled');
      });
    });

    describe('replay ledger', () => {
      const KEY = 'a'.repeat(64);

      it('claims a key once until it expires', async () => {
        expect(await store.claimOnce('lifecycle_jwt', KEY, T0 + MINUTE, T0)).to.equal(true);
        expect(await store.claimOnce('lifecycle_jwt', KEY, T0 + 2 * MINUTE, T0 + 1)).to.equal(false);
        expect(await store.isClaimed('lifecycle_jwt', KEY, T0 + 1)).to.equal(true);
      });

      it('keeps kinds apart', async () => {
        expect(await store.claimOnce('lifecycle_jwt', KEY, T0 + MINUTE, T0)).to.equal(true);
        expect(await store.claimOnce('webhook', KEY, T0 + MINUTE, T0)).to.equal(true);
      });

      it('lets an expired claim be made again', async () => {
        await store.claimOnce('webhook', KEY, T0 + MINUTE, T0);
        expect(await store.isClaimed('webhook', KEY, T0 + MINUTE)).to.equal(false);
        expect(await store.claimOnce('webhook', KEY, T0 + 3 * MINUTE, T0 + MINUTE)).to.equal(true);
        expect(await store.claimOnce('webhook', KEY, T0 + 3 * MINUTE, T0 + 2 * MINUTE)).to.equal(false);
      });

      it('forgets a released claim', async () => {
        await store.claimOnce('webhook', KEY, T0 + MINUTE, T0);
        await store.releaseClaim('webhook', KEY);
        expect(await store.claimOnce('webhook', KEY, T0 + MINUTE, T0)).to.equal(true);
      });

      it('grants one of several concurrent claims of one key', async () => {
        const claims = await Promise.all([1, 2, 3, 4].map(() => store.claimOnce('webhook', KEY, T0 + MINUTE, T0)));
        expect(claims.filter(Boolean)).to.have.length(1);
      });

      it('raises a mark, never lowers it, and takes an equal one', async () => {
        expect(await store.advanceMark('lifecycle_signed', TENANT, T0 + 10)).to.equal(true);
        expect(await store.advanceMark('lifecycle_signed', TENANT, T0 + 10)).to.equal(true);
        expect(await store.advanceMark('lifecycle_signed', TENANT, T0 + 9)).to.equal(false);
        expect(await store.advanceMark('lifecycle_signed', TENANT, T0 + 11)).to.equal(true);
        expect(await store.advanceMark('lifecycle_signed', OTHER_TENANT, T0)).to.equal(true);
      });

      it('sweeps expired claims in batches, oldest first, and never a mark', async () => {
        for (let i = 0; i < 5; i += 1) await store.claimOnce('webhook', `k${i}`, T0 + i, T0 - MINUTE);
        await store.advanceMark('lifecycle_signed', TENANT, T0);
        expect(await store.sweepClaims(T0 + 3, 2)).to.equal(2);
        expect(await store.sweepClaims(T0 + 3, 2)).to.equal(1);
        expect(await store.sweepClaims(T0 + 1000 * MINUTE, 100)).to.equal(2);
        expect(await store.advanceMark('lifecycle_signed', TENANT, T0 - 1)).to.equal(false);
      });
    });

    describe('Forge installation links', () => {
      const INSTALLATION = 'ari:cloud:ecosystem::installation/0a3a7799-53ae-4a5b-9e7e-03338980abb5';

      it('answers null for an installation never linked', async () => {
        expect(await store.linkedTenant(INSTALLATION)).to.equal(null);
      });

      it('links an installation to a Connect tenant, and a later link replaces it', async () => {
        await store.linkInstallation(INSTALLATION, TENANT, T0);
        expect(await store.linkedTenant(INSTALLATION)).to.equal(TENANT);
        await store.linkInstallation(INSTALLATION, OTHER_TENANT, T0 + 1);
        expect(await store.linkedTenant(INSTALLATION)).to.equal(OTHER_TENANT);
      });
    });

    describe('Shared Signals streams', () => {
      it('reads back an inserted stream field for field, by site and by issuer', async () => {
        const stream = aStream('s1', { subjects: 'account_id' });
        expect(await store.insertStream(stream)).to.equal(true);
        expect(await store.listStreams(TENANT)).to.deep.equal([stream]);
        expect(await store.streamsOfIssuer('https://idp.example.com')).to.deep.equal([stream]);
      });

      it('lists a site\'s streams oldest first, and no other site\'s', async () => {
        await store.insertStream(aStream('s2', { createdAt: T0 + 2, audience: 'aud-2' }));
        await store.insertStream(aStream('s1', { createdAt: T0 + 1, audience: 'aud-1' }));
        await store.insertStream(aStream('s3', { clientKey: OTHER_TENANT, audience: 'aud-3' }));
        expect((await store.listStreams(TENANT)).map((stream) => stream.id)).to.deep.equal(['s1', 's2']);
        expect((await store.listStreams(OTHER_TENANT)).map((stream) => stream.id)).to.deep.equal(['s3']);
        expect(await store.listStreams('no-such-site')).to.deep.equal([]);
      });

      it('finds every site\'s streams of an issuer, and only that exact issuer', async () => {
        await store.insertStream(aStream('s1', { audience: 'aud-1', createdAt: T0 + 1 }));
        await store.insertStream(aStream('s2', { clientKey: OTHER_TENANT, audience: 'aud-2', createdAt: T0 + 2 }));
        await store.insertStream(aStream('s3', { issuer: 'https://idp.example.com/', audience: 'aud-3' }));
        expect((await store.streamsOfIssuer('https://idp.example.com')).map((stream) => stream.id)).to.deep.equal(['s1', 's2']);
        expect((await store.streamsOfIssuer('https://idp.example.com/')).map((stream) => stream.id)).to.deep.equal(['s3']);
        expect(await store.streamsOfIssuer('https://IDP.example.com')).to.deep.equal([]);
      });

      it('refuses a second stream with the same issuer and audience, on any site, and keeps the first', async () => {
        const first = aStream('s1');
        await store.insertStream(first);
        expect(await store.insertStream(aStream('s2', { clientKey: OTHER_TENANT, audience: first.audience }))).to.equal(false);
        expect(await store.streamsOfIssuer(first.issuer)).to.deep.equal([first]);
        expect(await store.insertStream(aStream('s3', { issuer: 'https://other-idp.example.com', audience: first.audience }))).to.equal(true);
      });

      it('deletes a stream only for its own site', async () => {
        await store.insertStream(aStream('s1'));
        expect(await store.deleteStream(OTHER_TENANT, 's1')).to.equal(false);
        expect(await store.listStreams(TENANT)).to.have.length(1);
        expect(await store.deleteStream(TENANT, 's1')).to.equal(true);
        expect(await store.deleteStream(TENANT, 's1')).to.equal(false);
        expect(await store.listStreams(TENANT)).to.deep.equal([]);
        // Its issuer and audience are free again.
        expect(await store.insertStream(aStream('s2', { audience: aStream('s1').audience }))).to.equal(true);
      });

      it('records when a stream was last verified', async () => {
        await store.insertStream(aStream('s1'));
        await store.markStreamVerified('s1', T0 + MINUTE);
        await store.markStreamVerified('no-such-stream', T0 + MINUTE);
        expect(await store.listStreams(TENANT)).to.deep.equal([aStream('s1', { verifiedAt: T0 + MINUTE })]);
      });

      it('hands out copies: changing one changes nothing stored', async () => {
        await store.insertStream(aStream('s1'));
        const [listed] = await store.listStreams(TENANT);
        listed.audience = 'changed';
        expect((await store.listStreams(TENANT))[0].audience).to.equal(aStream('s1').audience);
      });
    });

    describe('settings', () => {
      const clientInfo = {
        clientKey: TENANT,
        sharedSecret: 'not-a-real-secret',
        baseUrl: 'https://acme.atlassian.net',
        eventType: 'installed',
        nested: { list: [1, 'two', true, null], flag: false },
      };

      it('round-trips a JSON value', async () => {
        await store.setSetting(TENANT, 'clientInfo', clientInfo);
        expect(await store.getSetting(TENANT, 'clientInfo')).to.deep.equal(clientInfo);
      });

      it('round-trips plain strings and numbers', async () => {
        await store.setSetting(TENANT, 'greeting', 'hello');
        await store.setSetting(TENANT, 'limit', 42);
        expect(await store.getSetting(TENANT, 'greeting')).to.equal('hello');
        expect(await store.getSetting(TENANT, 'limit')).to.equal(42);
      });

      it('answers null for a setting never set', async () => {
        expect(await store.getSetting(TENANT, 'clientInfo')).to.equal(null);
      });

      it('replaces the value when set again', async () => {
        await store.setSetting(TENANT, 'clientInfo', clientInfo);
        await store.setSetting(TENANT, 'clientInfo', { ...clientInfo, sharedSecret: 'rotated' });
        expect(await store.getSetting(TENANT, 'clientInfo')).to.deep.equal({ ...clientInfo, sharedSecret: 'rotated' });
      });

      it("deletes one tenant's setting and leaves the others", async () => {
        await store.setSetting(TENANT, 'clientInfo', clientInfo);
        await store.setSetting(TENANT, 'other', 1);
        await store.setSetting(OTHER_TENANT, 'clientInfo', { clientKey: OTHER_TENANT });
        await store.deleteSetting(TENANT, 'clientInfo');
        expect(await store.getSetting(TENANT, 'clientInfo')).to.equal(null);
        expect(await store.getSetting(TENANT, 'other')).to.equal(1);
        expect(await store.getSetting(OTHER_TENANT, 'clientInfo')).to.deep.equal({ clientKey: OTHER_TENANT });
      });

      it('deletes a setting that does not exist without complaint', async () => {
        await store.deleteSetting(TENANT, 'never-set');
      });

      it("lists every tenant's value for a key, and only for that key", async () => {
        await store.setSetting(TENANT, 'clientInfo', { clientKey: TENANT });
        await store.setSetting(OTHER_TENANT, 'clientInfo', { clientKey: OTHER_TENANT });
        await store.setSetting(TENANT, 'policy', { idleSeconds: 600 });
        const values = await store.listSettings('clientInfo');
        expect(values).to.have.deep.members([{ clientKey: TENANT }, { clientKey: OTHER_TENANT }]);
        expect(values).to.have.length(2);
        expect(await store.listSettings('nothing')).to.deep.equal([]);
      });

      it('hands back a copy: changing a value read does not change the stored one', async () => {
        await store.setSetting(TENANT, 'clientInfo', clientInfo);
        const read = await store.getSetting(TENANT, 'clientInfo');
        if (typeof read === 'object' && read !== null) Object.assign(read, { sharedSecret: 'tampered' });
        expect(await store.getSetting(TENANT, 'clientInfo')).to.deep.equal(clientInfo);
      });

      it('refuses a value that JSON cannot represent', async () => {
        const err = await rejectionOf(store.setSetting(TENANT, 'broken', undefined));
        expect(err).to.be.instanceOf(TypeError);
      });
    });

    describe('notes', () => {
      it("lists the notes of one tenant's issue, oldest first", async () => {
        await store.addNote(aNote('n2', { createdAt: T0 + 2 }));
        await store.addNote(aNote('n1', { createdAt: T0 + 1 }));
        await store.addNote(aNote('n3', { createdAt: T0 + 3, accountId: 'user-2' }));
        expect(await store.listNotes(TENANT, '10001')).to.deep.equal([
          aNote('n1', { createdAt: T0 + 1 }),
          aNote('n2', { createdAt: T0 + 2 }),
          aNote('n3', { createdAt: T0 + 3, accountId: 'user-2' }),
        ]);
      });

      it("keeps other issues' and other tenants' notes out", async () => {
        await store.addNote(aNote('mine'));
        await store.addNote(aNote('other-issue', { issueId: '10002' }));
        await store.addNote(aNote('other-tenant', { clientKey: OTHER_TENANT }));
        const notes = await store.listNotes(TENANT, '10001');
        expect(notes.map((note) => note.id)).to.deep.equal(['mine']);
      });

      it('answers an empty list for an issue without notes', async () => {
        expect(await store.listNotes(TENANT, '99999')).to.deep.equal([]);
      });

      it('refuses a second note with the same id', async () => {
        await store.addNote(aNote('n1'));
        expect(await rejectionOf(store.addNote(aNote('n1', { text: 'again' })))).to.be.instanceOf(DuplicateKeyError);
      });
    });

    describe('audit log', () => {
      async function listed(fields: Partial<AuditQuery> = {}): Promise<AuditRecord[]> {
        return withoutIds((await store.listAudit({ clientKey: TENANT, limit: 100, ...fields })).records);
      }

      it("lists a tenant's records last appended first", async () => {
        await store.appendAudit([anAuditRecord({ at: T0 + 1, kind: 'mint' })]);
        await store.appendAudit([anAuditRecord({ at: T0 + 2, kind: 'deny' })]);
        await store.appendAudit([anAuditRecord({ at: T0 + 3, kind: 'revoke' })]);
        expect((await listed()).map((record) => record.kind)).to.deep.equal(['revoke', 'deny', 'mint']);
      });

      it('appends a batch in one call, in its order, every field kept', async () => {
        const batch = Array.from({ length: 600 }, (_, i) => anAuditRecord({ at: T0 + i, kind: i % 2 === 0 ? 'mint' : 'deny', reason: `r${i}`, count: i }));
        await store.appendAudit(batch);
        expect(await listed({ limit: 1000 })).to.deep.equal([...batch].reverse());
      });

      it('does nothing for an empty batch', async () => {
        await store.appendAudit([]);
        expect(await listed()).to.deep.equal([]);
      });

      it('orders by append, even a record that carries an earlier time (another node, another clock)', async () => {
        await store.appendAudit([anAuditRecord({ at: T0 + 3, reason: 'first' })]);
        await store.appendAudit([anAuditRecord({ at: T0 + 1, reason: 'second' })]);
        expect((await listed()).map((record) => record.reason)).to.deep.equal(['second', 'first']);
      });

      it('gives every record an id that grows with each append', async () => {
        for (let i = 0; i < 3; i += 1) await store.appendAudit([anAuditRecord({ clientKey: i === 1 ? OTHER_TENANT : TENANT })]);
        const ids = (await store.listAudit({ clientKey: TENANT, limit: 10 })).records.map((record) => record.id);
        expect(ids).to.have.length(2);
        expect(ids[0]).to.be.greaterThan(ids[1]);
        for (const id of ids) expect(Number.isSafeInteger(id), String(id)).to.equal(true);
      });

      it('returns at most limit records, the newest ones', async () => {
        for (let i = 1; i <= 5; i += 1) await store.appendAudit([anAuditRecord({ at: T0 + i })]);
        expect((await listed({ limit: 2 })).map((record) => record.at)).to.deep.equal([T0 + 5, T0 + 4]);
      });

      it("keeps other tenants' records and tenantless ones out", async () => {
        await store.appendAudit([anAuditRecord({ clientKey: OTHER_TENANT })]);
        await store.appendAudit([anAuditRecord({ clientKey: null, kind: 'lifecycle' })]);
        expect(await listed()).to.deep.equal([]);
      });

      it('reads back every field, nulls included', async () => {
        const revoke = anAuditRecord();
        const deny: AuditRecord = {
          at: T0 + 1,
          kind: 'deny',
          clientKey: TENANT,
          accountId: null,
          actor: null,
          reason: 'token_revoked',
          resource: ISSUE,
          count: null,
          confirmation: null,
        };
        await store.appendAudit([revoke]);
        await store.appendAudit([deny]);
        expect(await listed()).to.deep.equal([deny, revoke]);
      });

      it('reads back a policy change', async () => {
        const change = anAuditRecord({ kind: 'policy', actor: 'user:admin-1', accountId: null, reason: 'policy_set', count: null });
        await store.appendAudit([change]);
        expect(await listed()).to.deep.equal([change]);
      });

      it("reads back a revocation's confirmation, and null where there is none", async () => {
        const confirmed = anAuditRecord({ at: T0 + 1, confirmation: { confirmed: 2, expected: 3 } });
        const unconfirmed = anAuditRecord({ at: T0, confirmation: null });
        await store.appendAudit([unconfirmed]);
        await store.appendAudit([confirmed]);
        expect(await listed()).to.deep.equal([confirmed, unconfirmed]);
      });

      it("reads back a theft signal's detail", async () => {
        const signal = aSignal();
        await store.appendAudit([anAuditRecord({ kind: 'mint' }), signal]);
        expect(await listed()).to.deep.equal([signal, anAuditRecord({ kind: 'mint' })]);
      });

      it('lists signals by their kind', async () => {
        const fork = aSignal();
        const agentChanged = aSignal(aSignalDetail({ kind: 'agent_changed', action: 'reported' }));
        await store.appendAudit([fork, anAuditRecord(), agentChanged]);
        expect(await listed({ kind: 'signal' })).to.deep.equal([agentChanged, fork]);
      });

      it('gives a record without a detail none back', async () => {
        await store.appendAudit([anAuditRecord({ reason: 'absent' })]);
        for (const record of await listed()) expect(record, String(record.reason)).not.to.have.property('detail');
      });

      it('is not changed when the caller mutates a detail it appended or read', async () => {
        const signal = aSignal();
        await store.appendAudit([signal]);
        if (signal.detail) signal.detail.presented.ip = null;
        const [read] = await listed({ limit: 1 });
        if (read?.detail) read.detail.holder.agent = 'tampered';
        expect((await listed({ limit: 1 }))[0]?.detail).to.deep.equal(aSignalDetail());
      });

      it('is not changed when the caller mutates a confirmation it appended or read', async () => {
        const record = anAuditRecord({ confirmation: { confirmed: 2, expected: 3 } });
        await store.appendAudit([record]);
        if (record.confirmation) record.confirmation.confirmed = 0;
        const [read] = await listed({ limit: 1 });
        if (read?.confirmation) read.confirmation.expected = 0;
        expect((await listed({ limit: 1 }))[0]?.confirmation).to.deep.equal({ confirmed: 2, expected: 3 });
      });

      describe('filtered', () => {
        beforeEach(async () => {
          await store.appendAudit([anAuditRecord({ at: T0 + 1, kind: 'mint', accountId: 'user-1', reason: 'm1' })]);
          await store.appendAudit([anAuditRecord({ at: T0 + 2, kind: 'deny', accountId: 'user-2', reason: 'd2' })]);
          await store.appendAudit([anAuditRecord({ at: T0 + 3, kind: 'mint', accountId: 'user-2', reason: 'm2' })]);
          await store.appendAudit([anAuditRecord({ at: T0 + 4, kind: 'revoke', accountId: 'user-1', reason: 'r1' })]);
          await store.appendAudit([anAuditRecord({ at: T0 + 5, kind: 'mint', accountId: 'user-1', reason: 'm1b' })]);
          await store.appendAudit([anAuditRecord({ at: T0 + 6, kind: 'mint', clientKey: OTHER_TENANT, reason: 'other' })]);
        });

        async function reasons(fields: Partial<AuditQuery>): Promise<Array<string | null>> {
          return (await listed(fields)).map((record) => record.reason);
        }

        it('by kind', async () => {
          expect(await reasons({ kind: 'mint' })).to.deep.equal(['m1b', 'm2', 'm1']);
        });

        it('by user', async () => {
          expect(await reasons({ accountId: 'user-2' })).to.deep.equal(['m2', 'd2']);
        });

        it('from a time on, that time included', async () => {
          expect(await reasons({ since: T0 + 4 })).to.deep.equal(['m1b', 'r1']);
        });

        it('up to a time, that time excluded', async () => {
          expect(await reasons({ until: T0 + 2 })).to.deep.equal(['m1']);
        });

        it('before an id', async () => {
          const [, second] = (await store.listAudit({ clientKey: TENANT, limit: 10 })).records;
          expect(await reasons({ before: second?.id })).to.deep.equal(['m2', 'd2', 'm1']);
        });

        it('by every filter at once', async () => {
          expect(await reasons({ kind: 'mint', accountId: 'user-1', since: T0 + 1, until: T0 + 5 })).to.deep.equal(['m1']);
          expect(await reasons({ kind: 'mint', accountId: 'user-2', since: T0 + 4 })).to.deep.equal([]);
        });

        it('pages within a filter, skipping the records it leaves out', async () => {
          const first = await store.listAudit({ clientKey: TENANT, kind: 'mint', limit: 2 });
          expect(withoutIds(first.records).map((record) => record.reason)).to.deep.equal(['m1b', 'm2']);
          expect(first.nextBefore).to.equal(first.records[1]?.id);
          const second = await store.listAudit({ clientKey: TENANT, kind: 'mint', limit: 2, before: first.nextBefore ?? undefined });
          expect(withoutIds(second.records).map((record) => record.reason)).to.deep.equal(['m1']);
          expect(second.nextBefore).to.equal(null);
        });
      });

      it('pages through five records two at a time: 2, 2, then 1 and no nextBefore', async () => {
        for (let i = 1; i <= 5; i += 1) await store.appendAudit([anAuditRecord({ at: T0 + i })]);
        const pages: number[][] = [];
        let before: number | undefined;
        for (;;) {
          const page = await store.listAudit({ clientKey: TENANT, limit: 2, before });
          pages.push(page.records.map((record) => record.at));
          if (page.nextBefore === null) break;
          before = page.nextBefore;
        }
        expect(pages).to.deep.equal([[T0 + 5, T0 + 4], [T0 + 3, T0 + 2], [T0 + 1]]);
      });

      it('gives no nextBefore when the records exactly fill the page', async () => {
        await store.appendAudit([anAuditRecord()]);
        await store.appendAudit([anAuditRecord()]);
        const page = await store.listAudit({ clientKey: TENANT, limit: 2 });
        expect(page.records).to.have.length(2);
        expect(page.nextBefore).to.equal(null);
      });

      it('refuses a limit that is not a positive integer', async () => {
        for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          expect(await rejectionOf(store.listAudit({ clientKey: TENANT, limit })), String(limit)).to.be.instanceOf(RangeError);
        }
      });
    });

    describe('audit retention', () => {
      async function remainingAts(): Promise<number[]> {
        return (await store.listAudit({ clientKey: TENANT, limit: 100 })).records.map((record) => record.at);
      }

      it('deletes the records older than the cutoff, of every tenant and none, and keeps the rest', async () => {
        await store.appendAudit([anAuditRecord({ at: T0 - 2 })]);
        await store.appendAudit([anAuditRecord({ at: T0 - 1, clientKey: OTHER_TENANT })]);
        await store.appendAudit([anAuditRecord({ at: T0 - 1, clientKey: null, kind: 'lifecycle' })]);
        await store.appendAudit([anAuditRecord({ at: T0 })]);
        await store.appendAudit([anAuditRecord({ at: T0 + 1 })]);
        expect(await store.deleteAuditBefore(T0, 100)).to.equal(3);
        expect(await remainingAts()).to.deep.equal([T0 + 1, T0]);
        expect((await store.listAudit({ clientKey: OTHER_TENANT, limit: 10 })).records).to.deep.equal([]);
      });

      it('deletes at most limit records per call, oldest first, until none is left', async () => {
        for (const at of [T0 - 3, T0 - 5, T0 - 1, T0 - 4, T0 - 2, T0]) await store.appendAudit([anAuditRecord({ at })]);
        expect(await store.deleteAuditBefore(T0, 2)).to.equal(2);
        expect(await remainingAts()).to.deep.equal([T0, T0 - 2, T0 - 1, T0 - 3]);
        expect(await store.deleteAuditBefore(T0, 2)).to.equal(2);
        expect(await store.deleteAuditBefore(T0, 2)).to.equal(1);
        expect(await store.deleteAuditBefore(T0, 2)).to.equal(0);
        expect(await remainingAts()).to.deep.equal([T0]);
      });

      it('refuses a limit that is not a positive integer', async () => {
        for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          expect(await rejectionOf(store.deleteAuditBefore(T0, limit)), String(limit)).to.be.instanceOf(RangeError);
        }
      });
    });

    describe('sweeping expired entries', () => {
      it('deletes the entries that expired before the cutoff and leaves the others loadable', async () => {
        const live = [anEntry('expires-at-cutoff', { expiresAt: T0 }), anEntry('live', { expiresAt: T0 + MINUTE })];
        await store.insertEntry(anEntry('expired-long-ago', { expiresAt: T0 - 2 * MINUTE }));
        await store.insertEntry(anEntry('expired-just-now', { expiresAt: T0 - 1 }));
        for (const entry of live) await store.insertEntry(entry);
        expect(await store.sweepExpired(T0, 100)).to.equal(2);
        expect(await store.loadEntryState(idHash('expired-long-ago'))).to.equal(null);
        expect(await store.loadEntryState(idHash('expired-just-now'))).to.equal(null);
        for (const entry of live) expect((await store.loadEntryState(entry.idHash))?.entry).to.deep.equal(entry);
      });

      it('deletes expired entries whether or not they were revoked, and keeps revoked ones that have not expired', async () => {
        await store.insertEntry(anEntry('revoked-expired', { expiresAt: T0 - 1, revokedAt: T0 - 2, revokeReason: 'user_deleted' }));
        await store.insertEntry(anEntry('revoked-live', { expiresAt: T0 + 1, revokedAt: T0 - 2, revokeReason: 'user_deleted' }));
        expect(await store.sweepExpired(T0, 100)).to.equal(1);
        expect(await store.loadEntryState(idHash('revoked-expired'))).to.equal(null);
        expect(await revokedAtOf('revoked-live')).to.equal(T0 - 2);
      });

      it('deletes at most limit entries per call, oldest first, until none is left', async () => {
        for (let i = 1; i <= 5; i += 1) await store.insertEntry(anEntry(`expired-${i}`, { expiresAt: T0 - i * MINUTE }));
        expect(await store.sweepExpired(T0, 2)).to.equal(2);
        expect(await store.loadEntryState(idHash('expired-5'))).to.equal(null);
        expect(await store.loadEntryState(idHash('expired-4'))).to.equal(null);
        expect(await store.loadEntryState(idHash('expired-3'))).not.to.equal(null);
        expect(await store.sweepExpired(T0, 2)).to.equal(2);
        expect(await store.sweepExpired(T0, 2)).to.equal(1);
        expect(await store.sweepExpired(T0, 2)).to.equal(0);
      });

      it('counts nothing when nothing has expired', async () => {
        await store.insertEntry(anEntry('live', { expiresAt: T0 + MINUTE }));
        expect(await store.sweepExpired(T0, 100)).to.equal(0);
        expect(await store.loadEntryState(idHash('live'))).not.to.equal(null);
      });

      it('refuses a limit that is not a positive integer', async () => {
        for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          expect(await rejectionOf(store.sweepExpired(T0, limit)), String(limit)).to.be.instanceOf(RangeError);
        }
      });
    });

    describe('reconciliation listings', () => {
      it('lists the tenants of one status in clientKey order, a page at a time', async () => {
        for (const clientKey of ['site-c', 'site-a', 'site-d', 'site-b']) await store.putTenant(aTenant({ clientKey }));
        await store.putTenant(aTenant({ clientKey: 'site-off', status: 'disabled' }));
        expect(await store.listTenants('enabled', '', 3)).to.deep.equal(['site-a', 'site-b', 'site-c']);
        expect(await store.listTenants('enabled', 'site-c', 3)).to.deep.equal(['site-d']);
        expect(await store.listTenants('disabled', '', 3)).to.deep.equal(['site-off']);
        expect(await store.listTenants('uninstalled', '', 3)).to.deep.equal([]);
      });

      it("lists each user with a live entry in the tenant once, in accountId order, a page at a time", async () => {
        await store.insertEntry(anEntry('c-1', { accountId: 'user-c' }));
        await store.insertEntry(anEntry('a-1', { accountId: 'user-a' }));
        await store.insertEntry(anEntry('a-2', { accountId: 'user-a', resource: 'jira:issue:10002' }));
        await store.insertEntry(anEntry('b-1', { accountId: 'user-b' }));
        await store.insertEntry(anEntry('d-1', { accountId: 'user-d' }));
        expect(await store.listLiveUsers(TENANT, T0, '', 2)).to.deep.equal(['user-a', 'user-b']);
        expect(await store.listLiveUsers(TENANT, T0, 'user-b', 2)).to.deep.equal(['user-c', 'user-d']);
        expect(await store.listLiveUsers(TENANT, T0, 'user-d', 2)).to.deep.equal([]);
      });

      it('leaves out users whose entries are all revoked or expired, and users of other tenants', async () => {
        await store.insertEntry(anEntry('revoked', { accountId: 'user-revoked', revokedAt: T0, revokeReason: 'user_removed' }));
        await store.insertEntry(anEntry('expired', { accountId: 'user-expired', expiresAt: T0 }));
        await store.insertEntry(anEntry('mixed-dead', { accountId: 'user-mixed', revokedAt: T0, revokeReason: 'user_ended' }));
        await store.insertEntry(anEntry('mixed-live', { accountId: 'user-mixed' }));
        await store.insertEntry(anEntry('elsewhere', { clientKey: OTHER_TENANT, accountId: 'user-elsewhere' }));
        expect(await store.listLiveUsers(TENANT, T0, '', 10)).to.deep.equal(['user-mixed']);
      });

      it('lists the users a tenant holds entries or notes for, with the newest time any was written', async () => {
        await store.insertEntry(anEntry('old', { accountId: 'user-a', lastSeenAt: T0 + MINUTE }));
        await store.insertEntry(anEntry('dead', { accountId: 'user-a', lastSeenAt: T0 + 3 * MINUTE, revokedAt: T0, revokeReason: 'user_ended', expiresAt: T0 }));
        await store.addNote(aNote('n-1', { accountId: 'user-a', createdAt: T0 + 2 * MINUTE }));
        await store.addNote(aNote('n-2', { accountId: 'user-b', createdAt: T0 + 4 * MINUTE }));
        await store.insertEntry(anEntry('c', { accountId: 'user-c', lastSeenAt: T0 + 5 * MINUTE }));
        await store.addNote(aNote('n-3', { accountId: 'user-c', createdAt: T0 + 6 * MINUTE }));
        await store.addNote(aNote('n-4', { clientKey: OTHER_TENANT, accountId: 'user-elsewhere' }));
        expect(await store.listDataHolders(TENANT, '', 2)).to.deep.equal([
          { accountId: 'user-a', updatedAt: T0 + 3 * MINUTE },
          { accountId: 'user-b', updatedAt: T0 + 4 * MINUTE },
        ]);
        expect(await store.listDataHolders(TENANT, 'user-b', 2)).to.deep.equal([{ accountId: 'user-c', updatedAt: T0 + 6 * MINUTE }]);
      });

      it('refuses a page size that is not a positive integer', async () => {
        expect(await rejectionOf(store.listTenants('enabled', '', 0))).to.be.instanceOf(RangeError);
        expect(await rejectionOf(store.listLiveUsers(TENANT, T0, '', 0))).to.be.instanceOf(RangeError);
        expect(await rejectionOf(store.listDataHolders(TENANT, '', 0))).to.be.instanceOf(RangeError);
      });
    });

    describe('availability', () => {
      it('answers a ping while open', async () => {
        await store.ping();
      });

      it('rejects every call once closed', async () => {
        await store.insertEntry(anEntry('t1'));
        await store.close();
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['insertEntry', () => store.insertEntry(anEntry('t2'))],
          ['loadEntryState', () => store.loadEntryState(idHash('t1'))],
          ['revokeEntries', () => store.revokeEntries({ kind: 'tenant', clientKey: TENANT }, T0, 'uninstalled')],
          ['sweepExpired', () => store.sweepExpired(T0, 100)],
          ['getTombstone', () => store.getTombstone(TENANT, 'user', 'user-1')],
          ['putTombstone', () => store.putTombstone(aTombstone())],
          ['getTenant', () => store.getTenant(TENANT)],
          ['putTenant', () => store.putTenant(aTenant())],
          ['getSetting', () => store.getSetting(TENANT, 'clientInfo')],
          ['setSetting', () => store.setSetting(TENANT, 'clientInfo', {})],
          ['deleteSetting', () => store.deleteSetting(TENANT, 'clientInfo')],
          ['listSettings', () => store.listSettings('clientInfo')],
          ['listNotes', () => store.listNotes(TENANT, '10001')],
          ['addNote', () => store.addNote(aNote('n1'))],
          ['appendAudit', () => store.appendAudit([anAuditRecord()])],
          ['listAudit', () => store.listAudit({ clientKey: TENANT, limit: 10 })],
          ['deleteAuditBefore', () => store.deleteAuditBefore(T0, 100)],
          ['touchEntries', () => store.touchEntries([{ idHash: idHash('t1'), lastSeenAt: T0 + 1 }])],
          ['listEntries', () => store.listEntries({ clientKey: TENANT, now: T0, limit: 10 })],
          ['countLiveEntries', () => store.countLiveEntries(T0)],
          ['isKnownUser', () => store.isKnownUser(TENANT, 'user-1')],
          ['getPolicy', () => store.getPolicy(TENANT)],
          ['putPolicy', () => store.putPolicy(TENANT, aPolicy(), T0)],
          ['advanceToken', () => store.advanceToken(idHash('t1'), 0, anAdvance('t1', 1))],
          ['bindKey', () => store.bindKey(idHash('t1'), thumbprint('page-key'))],
          ['insertStream', () => store.insertStream(aStream('s1'))],
          ['listStreams', () => store.listStreams(TENANT)],
          ['streamsOfIssuer', () => store.streamsOfIssuer('https://idp.example.com')],
          ['deleteStream', () => store.deleteStream(TENANT, 's1')],
          ['markStreamVerified', () => store.markStreamVerified('s1', T0)],
          ['findByTokenHashes', () => store.findByTokenHashes([idHash('t1')])],
          ['ping', () => store.ping()],
        ];
        for (const [method, call] of calls) {
          const err = await rejectionOf(call());
          expect(err, method).to.be.instanceOf(StoreClosedError);
        }
      });

      it('may be closed twice', async () => {
        await store.close();
        await store.close();
      });
    });

    describe('signal receivers and the outbox', () => {
      const NOTICE: RevocationNotice = { id: 'notice-1', accountId: 'user-1', session: null, actor: 'admin:admin-1' };

      function aReceiver(id: string, fields: Partial<Receiver> = {}): Receiver {
        return {
          id,
          clientKey: TENANT,
          endpointUrl: `https://receiver.example.com/events/${id}`,
          audience: `https://receiver.example.com/${id}`,
          authorization: `Bearer secret-of-${id}`,
          createdAt: T0,
          updatedAt: T0,
          ...fields,
        };
      }

      /** The SET `revokeUser()` queues for `receiverId`, as it stands before any attempt. */
      function aQueuedSet(receiverId: string, fields: Partial<QueuedSet> = {}): QueuedSet {
        return {
          noticeId: NOTICE.id,
          receiverId,
          clientKey: TENANT,
          baseUrl: aTenant().baseUrl,
          accountId: 'user-1',
          session: null,
          actor: 'admin:admin-1',
          reason: 'admin_revoked_user',
          eventAt: T0 + MINUTE,
          state: 'pending',
          attempts: 0,
          nextAttemptAt: T0 + MINUTE,
          lastAttemptAt: null,
          lastError: null,
          ...fields,
        };
      }

      /** Gives the user a live entry, then revokes every entry of theirs at `at` with a notice; resolves how many it ended. */
      async function revokeUser(accountId = 'user-1', noticeId = NOTICE.id, at = T0 + MINUTE): Promise<number> {
        await store.insertEntry(anEntry(`${noticeId}:${accountId}:${at}`, { accountId }));
        return store.revokeEntries({ kind: 'user', clientKey: TENANT, accountId }, at, 'admin_revoked_user', { ...NOTICE, id: noticeId, accountId });
      }

      const keyOf = (set: QueuedSet) => `${set.noticeId}/${set.receiverId}`;
      const byReceiver = (claimed: ClaimedSet[]) => [...claimed].sort((a, b) => (a.set.receiverId < b.set.receiverId ? -1 : 1));

      beforeEach(async () => {
        await store.putTenant(aTenant());
      });

      it("adds receivers and lists a site's own, oldest first, field for field", async () => {
        const later = aReceiver('r2', { createdAt: T0 + 1, updatedAt: T0 + 1 });
        expect(await store.putReceiver(later)).to.deep.equal({ receiver: later, created: true });
        await store.putReceiver(aReceiver('r1', { authorization: null }));
        await store.putReceiver(aReceiver('theirs', { clientKey: OTHER_TENANT }));
        expect(await store.listReceivers(TENANT)).to.deep.equal([aReceiver('r1', { authorization: null }), later]);
      });

      it('gives a receiver added again at the same endpoint the new audience and authorization, and keeps its id', async () => {
        await store.putReceiver(aReceiver('r1'));
        const again = aReceiver('r9', { endpointUrl: aReceiver('r1').endpointUrl, audience: 'new-audience', authorization: null, createdAt: T0 + 5, updatedAt: T0 + 5 });
        const replaced = aReceiver('r1', { audience: 'new-audience', authorization: null, updatedAt: T0 + 5 });
        expect(await store.putReceiver(again)).to.deep.equal({ receiver: replaced, created: false });
        expect(await store.listReceivers(TENANT)).to.deep.equal([replaced]);
      });

      it("deletes only its own site's receiver, with every SET queued for it", async () => {
        await store.putReceiver(aReceiver('r1'));
        await store.putReceiver(aReceiver('r2'));
        await revokeUser();
        expect(await store.deleteReceiver(OTHER_TENANT, 'r1')).to.equal(false);
        expect(await store.deleteReceiver(TENANT, 'nobody')).to.equal(false);
        expect(await store.deleteReceiver(TENANT, 'r1')).to.equal(true);
        expect((await store.listReceivers(TENANT)).map((receiver) => receiver.id)).to.deep.equal(['r2']);
        expect((await store.listSets({ clientKey: TENANT, limit: 10 })).map((set) => set.receiverId)).to.deep.equal(['r2']);
      });

      it("queues a revocation that ended something once for each receiver of its site, due at once, with the site's address", async () => {
        await store.putReceiver(aReceiver('r1'));
        await store.putReceiver(aReceiver('r2'));
        await store.putReceiver(aReceiver('theirs', { clientKey: OTHER_TENANT }));
        expect(await revokeUser()).to.equal(1);
        expect(await store.listSets({ clientKey: TENANT, limit: 10 })).to.deep.equal([aQueuedSet('r1'), aQueuedSet('r2')]);
        expect(await store.listSets({ clientKey: OTHER_TENANT, limit: 10 })).to.deep.equal([]);
        expect(await store.countSets(TENANT)).to.deep.equal({ pending: 2, failed: 0 });
      });

      it("queues the one session a revocation ended, and a whole site's revocation with no user", async () => {
        await store.putReceiver(aReceiver('r1'));
        await store.insertEntry(anEntry('s1'));
        await store.insertEntry(anEntry('s2', { accountId: 'user-2' }));
        const session = { kind: 'session', clientKey: TENANT, accountId: 'user-1', idHash: idHash('s1') } as const;
        await store.revokeEntries(session, T0 + 1, 'theft_suspected', { id: 'n-session', accountId: 'user-1', session: idHash('s1'), actor: 'theft-detection' });
        await store.revokeEntries({ kind: 'tenant', clientKey: TENANT }, T0 + 2, 'admin_reset_site', { id: 'n-site', accountId: null, session: null, actor: 'operator' });
        expect(await store.listSets({ clientKey: TENANT, limit: 10 })).to.deep.equal([
          aQueuedSet('r1', { noticeId: 'n-site', accountId: null, actor: 'operator', reason: 'admin_reset_site', eventAt: T0 + 2, nextAttemptAt: T0 + 2 }),
          aQueuedSet('r1', { noticeId: 'n-session', session: idHash('s1'), actor: 'theft-detection', reason: 'theft_suspected', eventAt: T0 + 1, nextAttemptAt: T0 + 1 }),
        ]);
      });

      it('queues nothing for a revocation that ended nothing, one repeated, one without a notice, or one on a site without receivers', async () => {
        await store.putReceiver(aReceiver('r1'));
        const userScope = { kind: 'user', clientKey: TENANT, accountId: 'user-1' } as const;
        expect(await store.revokeEntries(userScope, T0 + MINUTE, 'admin_revoked_user', NOTICE)).to.equal(0);
        expect(await revokeUser('user-1', 'first')).to.equal(1);
        expect(await store.revokeEntries(userScope, T0 + 2 * MINUTE, 'admin_revoked_user', { ...NOTICE, id: 'repeated' })).to.equal(0);
        await store.insertEntry(anEntry('on-issue', { accountId: 'user-2' }));
        expect(await store.revokeEntries({ kind: 'resource', clientKey: TENANT, resource: ISSUE }, T0 + 1, 'issue_deleted')).to.equal(1);
        await store.insertEntry(anEntry('elsewhere', { clientKey: OTHER_TENANT }));
        expect(await store.revokeEntries({ kind: 'tenant', clientKey: OTHER_TENANT }, T0 + 1, 'uninstalled', { ...NOTICE, id: 'no-receivers' })).to.equal(1);
        expect((await store.listSets({ clientKey: TENANT, limit: 10 })).map((set) => set.noticeId)).to.deep.equal(['first']);
        expect(await store.countSets()).to.deep.equal({ pending: 1, failed: 0 });
      });

      it('leases due SETs with their receivers, and none it holds to anyone else until the lease ends', async () => {
        await store.putReceiver(aReceiver('r1'));
        await store.putReceiver(aReceiver('r2'));
        await revokeUser();
        expect(byReceiver(await store.claimSets('lease-a', T0 + MINUTE, T0 + 2 * MINUTE, 10))).to.deep.equal([
          { set: aQueuedSet('r1'), receiver: aReceiver('r1') },
          { set: aQueuedSet('r2'), receiver: aReceiver('r2') },
        ]);
        expect(await store.claimSets('lease-b', T0 + 2 * MINUTE - 1, T0 + 3 * MINUTE, 10)).to.deep.equal([]);
        expect(await store.claimSets('lease-b', T0 + 2 * MINUTE, T0 + 3 * MINUTE, 10)).to.have.length(2);
      });

      it('leases nothing before it is due, the soonest due first, and no more than the limit', async () => {
        await store.putReceiver(aReceiver('r1'));
        await revokeUser('user-2', 'later', T0 + 2 * MINUTE);
        await revokeUser('user-1', 'sooner', T0 + MINUTE);
        expect(await store.claimSets('lease-a', T0 + MINUTE - 1, T0 + 5 * MINUTE, 10)).to.deep.equal([]);
        const [first, ...others] = await store.claimSets('lease-a', T0 + 3 * MINUTE, T0 + 5 * MINUTE, 1);
        expect([first?.set.noticeId, others]).to.deep.equal(['sooner', []]);
      });

      it('never hands one SET to two claimers racing for it', async () => {
        for (const id of ['r1', 'r2', 'r3', 'r4']) await store.putReceiver(aReceiver(id));
        for (const user of ['user-1', 'user-2', 'user-3', 'user-4', 'user-5']) await revokeUser(user, `notice-${user}`);
        // Twenty SETs (five revocations, four receivers), five claimers of at most six each.
        const claims = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((lease) => store.claimSets(`lease-${lease}`, T0 + MINUTE, T0 + 2 * MINUTE, 6)));
        const keys = claims.flat().map((claimed) => keyOf(claimed.set));
        expect(new Set(keys).size, 'a SET claimed twice').to.equal(keys.length);
        const rest = await store.claimSets('lease-late', T0 + MINUTE, T0 + 2 * MINUTE, 100);
        expect(keys.length + rest.length).to.equal(20);
      });

      it('never offers a delivered SET again', async () => {
        await store.putReceiver(aReceiver('r1'));
        await revokeUser();
        await store.claimSets('lease-a', T0 + MINUTE, T0 + 2 * MINUTE, 10);
        await store.deliveredSet({ noticeId: NOTICE.id, receiverId: 'r1' });
        expect(await store.claimSets('lease-b', T0 + 10 * MINUTE, T0 + 11 * MINUTE, 10)).to.deep.equal([]);
        expect(await store.countSets()).to.deep.equal({ pending: 0, failed: 0 });
      });

      it('counts a failed push, releases the SET and offers it again once due; only while the lease holds it', async () => {
        await store.putReceiver(aReceiver('r1'));
        await revokeUser();
        const key = { noticeId: NOTICE.id, receiverId: 'r1' };
        await store.claimSets('lease-a', T0 + MINUTE, T0 + 2 * MINUTE, 10);
        const failure = { error: '503', at: T0 + MINUTE + 10 };
        expect(await store.retrySet(key, 'lease-other', T0 + 5 * MINUTE, failure)).to.equal(false);
        expect(await store.retrySet(key, 'lease-a', T0 + 5 * MINUTE, failure)).to.equal(true);
        expect(await store.retrySet(key, 'lease-a', T0 + 6 * MINUTE, failure)).to.equal(false);
        const retried = aQueuedSet('r1', { attempts: 1, nextAttemptAt: T0 + 5 * MINUTE, lastAttemptAt: T0 + MINUTE + 10, lastError: '503' });
        expect(await store.listSets({ clientKey: TENANT, limit: 10 })).to.deep.equal([retried]);
        expect(await store.claimSets('lease-b', T0 + 5 * MINUTE - 1, T0 + 6 * MINUTE, 10)).to.deep.equal([]);
        expect(await store.claimSets('lease-b', T0 + 5 * MINUTE, T0 + 6 * MINUTE, 10)).to.deep.equal([{ set: retried, receiver: aReceiver('r1') }]);
      });

      it('takes a whole SET as its key, as the push worker hands it over', async () => {
        await store.putReceiver(aReceiver('r1'));
        await store.putReceiver(aReceiver('r2'));
        await store.putReceiver(aReceiver('r3'));
        await revokeUser();
        const claimed = byReceiver(await store.claimSets('lease-a', T0 + MINUTE, T0 + 2 * MINUTE, 10));
        const [delivered, retried, failed] = claimed.map((c) => c.set) as [QueuedSet, QueuedSet, QueuedSet];
        await store.deliveredSet(delivered);
        expect(await store.retrySet(retried, 'lease-a', T0 + 3 * MINUTE, { error: '503', at: T0 + MINUTE })).to.equal(true);
        expect(await store.failSet(failed, 'lease-a', { error: '400', at: T0 + MINUTE })).to.equal(true);
        expect(await store.countSets(TENANT)).to.deep.equal({ pending: 1, failed: 1 });
      });

      it('postpones a SET untried without counting an attempt', async () => {
        await store.putReceiver(aReceiver('r1'));
        await revokeUser();
        await store.claimSets('lease-a', T0 + MINUTE, T0 + 2 * MINUTE, 10);
        expect(await store.retrySet({ noticeId: NOTICE.id, receiverId: 'r1' }, 'lease-a', T0 + 3 * MINUTE, null)).to.equal(true);
        expect(await store.listSets({ clientKey: TENANT, limit: 10 })).to.deep.equal([aQueuedSet('r1', { nextAttemptAt: T0 + 3 * MINUTE })]);
      });

      it('keeps a SET given up on for admins to see, and never offers it again', async () => {
        await store.putReceiver(aReceiver('r1'));
        await store.putReceiver(aReceiver('r2'));
        await revokeUser();
        await store.claimSets('lease-a', T0 + MINUTE, T0 + 2 * MINUTE, 10);
        const key = { noticeId: NOTICE.id, receiverId: 'r1' };
        const failure = { error: '400 invalid_key: unknown kid', at: T0 + MINUTE + 10 };
        expect(await store.failSet(key, 'lease-other', failure)).to.equal(false);
        expect(await store.failSet(key, 'lease-a', failure)).to.equal(true);
        await store.releaseSets('lease-a');
        const failed = aQueuedSet('r1', { state: 'failed', attempts: 1, lastAttemptAt: T0 + MINUTE + 10, lastError: failure.error });
        expect(await store.listSets({ clientKey: TENANT, state: 'failed', limit: 10 })).to.deep.equal([failed]);
        expect(await store.listSets({ clientKey: TENANT, state: 'pending', limit: 10 })).to.deep.equal([aQueuedSet('r2')]);
        expect(await store.countSets(TENANT)).to.deep.equal({ pending: 1, failed: 1 });
        const later = await store.claimSets('lease-b', T0 + 60 * MINUTE, T0 + 61 * MINUTE, 10);
        expect(later.map((claimed) => claimed.set.receiverId)).to.deep.equal(['r2']);
      });

      it('releases every SET a lease holds, untried, to be claimed again at once', async () => {
        await store.putReceiver(aReceiver('r1'));
        await store.putReceiver(aReceiver('r2'));
        await revokeUser();
        await store.claimSets('lease-a', T0 + MINUTE, T0 + 2 * MINUTE, 10);
        expect(await store.releaseSets('lease-other')).to.equal(0);
        expect(await store.releaseSets('lease-a')).to.equal(2);
        expect(await store.claimSets('lease-b', T0 + MINUTE, T0 + 2 * MINUTE, 10)).to.have.length(2);
      });

      it('lists newest revocation first, up to the limit, and refuses a limit that is not a positive integer', async () => {
        await store.putReceiver(aReceiver('r1'));
        await revokeUser('user-1', 'older', T0 + MINUTE);
        await revokeUser('user-1', 'newer', T0 + 2 * MINUTE);
        expect((await store.listSets({ clientKey: TENANT, limit: 10 })).map((set) => set.noticeId)).to.deep.equal(['newer', 'older']);
        expect((await store.listSets({ clientKey: TENANT, limit: 1 })).map((set) => set.noticeId)).to.deep.equal(['newer']);
        expect(await rejectionOf(store.listSets({ clientKey: TENANT, limit: 0 }))).to.be.instanceOf(RangeError);
      });

      it('rejects every call once closed', async () => {
        await store.close();
        const key = { noticeId: NOTICE.id, receiverId: 'r1' };
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['putReceiver', () => store.putReceiver(aReceiver('r1'))],
          ['listReceivers', () => store.listReceivers(TENANT)],
          ['deleteReceiver', () => store.deleteReceiver(TENANT, 'r1')],
          ['revokeEntries with a notice', () => store.revokeEntries({ kind: 'tenant', clientKey: TENANT }, T0, 'uninstalled', NOTICE)],
          ['claimSets', () => store.claimSets('lease', T0, T0 + 1, 10)],
          ['deliveredSet', () => store.deliveredSet(key)],
          ['retrySet', () => store.retrySet(key, 'lease', T0, null)],
          ['failSet', () => store.failSet(key, 'lease', { error: '400', at: T0 })],
          ['releaseSets', () => store.releaseSets('lease')],
          ['listSets', () => store.listSets({ clientKey: TENANT, limit: 10 })],
          ['countSets', () => store.countSets()],
        ];
        for (const [method, call] of calls) expect(await rejectionOf(call()), method).to.be.instanceOf(StoreClosedError);
      });
    });

    describe("a removal's tombstone and revocation, written together", () => {
      const USER = { kind: 'user', clientKey: TENANT, accountId: 'user-1' } as const;
      const REMOVED_AT = T0 + MINUTE;
      const NOTICE: RevocationNotice = { id: 'removal-notice', accountId: 'user-1', session: null, actor: 'webhook:user_deleted' };

      it("writes the tombstone and ends the user's live entries at its time, saying how many", async () => {
        await store.insertEntry(anEntry('mine-1'));
        await store.insertEntry(anEntry('mine-2', { resource: 'app:self', parent: null }));
        await store.insertEntry(anEntry('early', { revokedAt: T0 + 1, revokeReason: 'user_ended' }));
        await store.insertEntry(anEntry('someone-else', { accountId: 'user-2' }));
        const tombstone = aTombstone({ removedAt: REMOVED_AT });
        expect(await store.putTombstoneAndRevoke(tombstone, USER, 'user_removed')).to.deep.equal({ written: true, ended: 2 });
        expect(await store.getTombstone(TENANT, 'user', 'user-1')).to.deep.equal(tombstone);
        for (const label of ['mine-1', 'mine-2']) expect(await revokedAtOf(label), label).to.equal(REMOVED_AT);
        expect((await store.loadEntryState(idHash('mine-1')))?.entry.revokeReason).to.equal('user_removed');
        expect(await revokedAtOf('early')).to.equal(T0 + 1);
        expect(await revokedAtOf('someone-else')).to.equal(null);
      });

      it('is seen at once by every reader: the check, the listings, the counts', async () => {
        await store.putTenant(aTenant());
        await store.insertEntry(anEntry('mine'));
        await store.insertEntry(anEntry('theirs', { accountId: 'user-2' }));
        await store.putTombstoneAndRevoke(aTombstone({ removedAt: REMOVED_AT }), USER, 'user_removed');
        const state = await store.loadEntryState(idHash('mine'));
        expect(state?.entry.revokedAt).to.equal(REMOVED_AT);
        expect(state?.newestRemovalAt).to.equal(REMOVED_AT);
        const listed = await store.listEntries({ clientKey: TENANT, now: T0, limit: 10 });
        expect(listed.entries.map((entry) => entry.idHash)).to.deep.equal([idHash('theirs')]);
        expect(await store.countLiveEntries(T0, TENANT)).to.equal(1);
        expect(await store.listLiveUsers(TENANT, T0, '', 10)).to.deep.equal(['user-2']);
        const mint = await store.loadMintState(TENANT, 'user-1', ISSUE, PROJECT);
        expect(mint.userRemoval).to.deep.equal({ removedEventAt: aTombstone().removedEventAt, liftedAt: null });
      });

      it('ends the entries of a deleted project and of its issues, and no others', async () => {
        await store.insertEntry(anEntry('issue-a'));
        await store.insertEntry(anEntry('project-page', { resource: PROJECT, parent: null }));
        await store.insertEntry(anEntry('other-project', { resource: 'jira:issue:20001', parent: 'jira:project:20000' }));
        const tombstone = aTombstone({ kind: 'resource', subject: PROJECT, removedAt: REMOVED_AT });
        const scope = { kind: 'resource', clientKey: TENANT, resource: PROJECT } as const;
        expect(await store.putTombstoneAndRevoke(tombstone, scope, 'project_deleted')).to.deep.equal({ written: true, ended: 2 });
        expect(await revokedAtOf('issue-a')).to.equal(REMOVED_AT);
        expect(await revokedAtOf('project-page')).to.equal(REMOVED_AT);
        expect(await revokedAtOf('other-project')).to.equal(null);
      });

      it('writes and ends nothing for an event no newer than the one applied, and says so', async () => {
        const newer = aTombstone({ lastEventAt: T0 + 2 * MINUTE });
        await store.putTombstone(newer);
        await store.insertEntry(anEntry('live', { createdAt: T0 + 3 * MINUTE }));
        for (const lastEventAt of [T0 + MINUTE, T0 + 2 * MINUTE]) {
          const stale = aTombstone({ removedAt: T0 + 4 * MINUTE, lastEventAt });
          expect(await store.putTombstoneAndRevoke(stale, USER, 'user_removed', NOTICE)).to.deep.equal({ written: false, ended: 0 });
        }
        expect(await store.getTombstone(TENANT, 'user', 'user-1')).to.deep.equal(newer);
        expect(await revokedAtOf('live')).to.equal(null);
      });

      it('writes the tombstone of a user with no entries, ending nothing', async () => {
        expect(await store.putTombstoneAndRevoke(aTombstone(), USER, 'user_removed', NOTICE)).to.deep.equal({ written: true, ended: 0 });
        expect(await store.getTombstone(TENANT, 'user', 'user-1')).to.deep.equal(aTombstone());
        expect(await store.countSets()).to.deep.equal({ pending: 0, failed: 0 });
      });

      it("queues the notice for each of the site's receivers with the revocation", async () => {
        await store.putTenant(aTenant());
        for (const id of ['r1', 'r2']) {
          await store.putReceiver({ id, clientKey: TENANT, endpointUrl: `https://receiver.example.com/${id}`, audience: id, authorization: null, createdAt: T0, updatedAt: T0 });
        }
        await store.insertEntry(anEntry('mine'));
        await store.putTombstoneAndRevoke(aTombstone({ removedAt: REMOVED_AT }), USER, 'user_removed', NOTICE);
        const sets = await store.listSets({ clientKey: TENANT, limit: 10 });
        expect(sets.map((set) => [set.receiverId, set.noticeId, set.accountId, set.reason, set.eventAt]).sort()).to.deep.equal([
          ['r1', NOTICE.id, 'user-1', 'user_removed', REMOVED_AT],
          ['r2', NOTICE.id, 'user-1', 'user_removed', REMOVED_AT],
        ]);
      });

      it('settles concurrent removals of one user on the newest event, each ending what was live when it ran', async () => {
        for (const label of ['a', 'b', 'c']) await store.insertEntry(anEntry(label));
        const events = [5, 1, 9, 3].map((n) => aTombstone({ removedAt: T0 + n, lastEventAt: T0 + n * MINUTE }));
        const written = await Promise.all(events.map((t) => store.putTombstoneAndRevoke(t, USER, 'user_removed')));
        expect((await store.getTombstone(TENANT, 'user', 'user-1'))?.lastEventAt).to.equal(T0 + 9 * MINUTE);
        expect(written.reduce((sum, w) => sum + w.ended, 0)).to.equal(3);
        for (const w of written) if (!w.written) expect(w.ended).to.equal(0);
      });

      it('rejects once closed', async () => {
        await store.close();
        expect(await rejectionOf(store.putTombstoneAndRevoke(aTombstone(), USER, 'user_removed'))).to.be.instanceOf(StoreClosedError);
      });
    });
  });
}

describeStoreContract('MemoryStore', async () => new MemoryStore());

describeStoreContract('SequelizeStore on sqlite::memory:', () => openSequelizeStore('sqlite::memory:'));

describe('SequelizeStore on a SQLite file', () => {
  let dir: string;
  let files = 0;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'panelguard-store-'));
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  // Each store gets a fresh file in a directory that does not exist yet, so every run also proves the directory is made.
  function freshUrl(): string {
    files += 1;
    return `sqlite:${path.join(dir, `run-${files}`, 'panelguard.db')}`;
  }

  describeStoreContract('each fresh file', () => openSequelizeStore(freshUrl()));

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

describe('openSequelizeStore', () => {
  it('refuses a URL that is neither sqlite: nor postgres://, without echoing it', async () => {
    const err = await rejectionOf(openSequelizeStore('mysql://user:secret@localhost/db'));
    expect(err).to.be.instanceOf(Error);
    expect(String(err)).not.to.contain('secret');
  });

  it('refuses a sqlite: URL without a path', async () => {
    expect(await rejectionOf(openSequelizeStore('sqlite:'))).to.be.instanceOf(Error);
  });

  it('opens a SQLite store that says so and refuses to notify, which needs PostgreSQL', async () => {
    const store = await openSequelizeStore('sqlite::memory:');
    try {
      expect(store.dialect).to.equal('sqlite');
      const err = await rejectionOf(store.notify('panelguard', 'hello'));
      expect(err).to.be.instanceOf(Error);
      expect(String(err)).to.contain('PostgreSQL');
    } finally {
      await store.close();
    }
  });
});


/** Runs one statement on its own connection to `url`. */
async function queryOnce<Row extends pg.QueryResultRow>(url: string, sql: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('SequelizeStore on PostgreSQL', () => {
  let database: TestDatabase | undefined;

  before(async function () {
    await servicesOrSkip(this, 'postgres');
    database = await createTestDatabase();
  });

  after(async () => {
    await database?.drop();
  });

  function databaseUrl(): string {
    if (database === undefined) throw new Error('the test database was not created');
    return database.url;
  }

  // One database for the whole contract, emptied after each open, so every test starts as on a fresh file.
  describeStoreContract('one database, emptied before each test', async () => {
    const store = await openSequelizeStore(databaseUrl());
    await queryOnce(databaseUrl(), `TRUNCATE ${PANELGUARD_TABLES.join(', ')}`);
    return store;
  });

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
