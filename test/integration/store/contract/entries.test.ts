/** The store contract for allowlist entries: inserting, reading an entry's state and a mint's, revoking, touching and sweeping, over every store. */
import { expect } from 'chai';
import type { ChainPosition } from '../../../../src/allowlist/types';
import type { AppStore } from '../../../../src/store/app-store';
import { DuplicateKeyError } from '../../../../src/store/errors';
import { T0, MINUTE, TENANT, OTHER_TENANT, ISSUE, PROJECT, idHash, anEntry, aTombstone, aTenant, aPolicy, thumbprint, rejectionOf, revokedAtOf } from '../fixtures';
import { describeStoreContract } from '../stores';

describeStoreContract((current) => {
  let store: AppStore;

  beforeEach(() => {
    store = current();
  });

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
      expect(await revokedAtOf(store, 't1')).to.equal(null);
    });

    it('is not changed when the caller mutates an entry it read', async () => {
      await store.insertEntry(anEntry('t1'));
      const state = await store.loadEntryState(idHash('t1'));
      if (state) state.entry.revokedAt = T0;
      expect(await revokedAtOf(store, 't1')).to.equal(null);
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
      expect(await revokedAtOf(store, 't2')).to.equal(null);
    });

    it("revokes every live entry of the user in the tenant and no one else's", async () => {
      await store.insertEntry(anEntry('mine-1'));
      await store.insertEntry(anEntry('mine-2', { resource: 'app:self', parent: null }));
      await store.insertEntry(anEntry('someone-else', { accountId: 'user-2' }));
      await store.insertEntry(anEntry('same-user-other-tenant', { clientKey: OTHER_TENANT }));
      const count = await store.revokeEntries({ kind: 'user', clientKey: TENANT, accountId: 'user-1' }, T0 + 1, 'user_deleted');
      expect(count).to.equal(2);
      expect(await revokedAtOf(store, 'mine-1')).to.equal(T0 + 1);
      expect(await revokedAtOf(store, 'mine-2')).to.equal(T0 + 1);
      expect(await revokedAtOf(store, 'someone-else')).to.equal(null);
      expect(await revokedAtOf(store, 'same-user-other-tenant')).to.equal(null);
    });

    it('revokes every entry for the deleted issue itself', async () => {
      await store.insertEntry(anEntry('issue-user-1'));
      await store.insertEntry(anEntry('issue-user-2', { accountId: 'user-2' }));
      await store.insertEntry(anEntry('sibling-issue', { resource: 'jira:issue:10002' }));
      const count = await store.revokeEntries({ kind: 'resource', clientKey: TENANT, resource: ISSUE }, T0 + 1, 'issue_deleted');
      expect(count).to.equal(2);
      expect(await revokedAtOf(store, 'issue-user-1')).to.equal(T0 + 1);
      expect(await revokedAtOf(store, 'issue-user-2')).to.equal(T0 + 1);
      expect(await revokedAtOf(store, 'sibling-issue')).to.equal(null);
    });

    it('revokes every entry whose parent is the deleted project', async () => {
      await store.insertEntry(anEntry('issue-a', { resource: 'jira:issue:10001' }));
      await store.insertEntry(anEntry('issue-b', { resource: 'jira:issue:10002' }));
      await store.insertEntry(anEntry('project-page', { resource: PROJECT, parent: null }));
      await store.insertEntry(anEntry('other-project', { resource: 'jira:issue:20001', parent: 'jira:project:20000' }));
      await store.insertEntry(anEntry('admin', { resource: 'app:admin', parent: null }));
      const count = await store.revokeEntries({ kind: 'resource', clientKey: TENANT, resource: PROJECT }, T0 + 1, 'project_deleted');
      expect(count).to.equal(3);
      expect(await revokedAtOf(store, 'issue-a')).to.equal(T0 + 1);
      expect(await revokedAtOf(store, 'issue-b')).to.equal(T0 + 1);
      expect(await revokedAtOf(store, 'project-page')).to.equal(T0 + 1);
      expect(await revokedAtOf(store, 'other-project')).to.equal(null);
      expect(await revokedAtOf(store, 'admin')).to.equal(null);
    });

    it("does not revoke another tenant's entries for a resource of the same name", async () => {
      await store.insertEntry(anEntry('theirs', { clientKey: OTHER_TENANT }));
      const count = await store.revokeEntries({ kind: 'resource', clientKey: TENANT, resource: PROJECT }, T0 + 1, 'project_deleted');
      expect(count).to.equal(0);
      expect(await revokedAtOf(store, 'theirs')).to.equal(null);
    });

    it('revokes every entry of the tenant and none of another tenant', async () => {
      await store.insertEntry(anEntry('a-1'));
      await store.insertEntry(anEntry('a-2', { accountId: 'user-2', resource: 'app:admin', parent: null }));
      await store.insertEntry(anEntry('b-1', { clientKey: OTHER_TENANT }));
      const count = await store.revokeEntries({ kind: 'tenant', clientKey: TENANT }, T0 + 1, 'uninstalled');
      expect(count).to.equal(2);
      expect(await revokedAtOf(store, 'a-1')).to.equal(T0 + 1);
      expect(await revokedAtOf(store, 'a-2')).to.equal(T0 + 1);
      expect(await revokedAtOf(store, 'b-1')).to.equal(null);
    });

    it("ends one session of the user and none of the user's others", async () => {
      await store.insertEntry(anEntry('this-one'));
      await store.insertEntry(anEntry('another'));
      const scope = { kind: 'session', clientKey: TENANT, accountId: 'user-1', idHash: idHash('this-one') } as const;
      expect(await store.revokeEntries(scope, T0 + 1, 'user_ended')).to.equal(1);
      expect(await revokedAtOf(store, 'this-one')).to.equal(T0 + 1);
      expect(await revokedAtOf(store, 'another')).to.equal(null);
    });

    it("does not end another user's session named by its id hash", async () => {
      await store.insertEntry(anEntry('theirs', { accountId: 'user-2' }));
      const scope = { kind: 'session', clientKey: TENANT, accountId: 'user-1', idHash: idHash('theirs') } as const;
      expect(await store.revokeEntries(scope, T0 + 1, 'user_ended')).to.equal(0);
      expect(await revokedAtOf(store, 'theirs')).to.equal(null);
    });

    it("does not end a session of the same user id in another tenant", async () => {
      await store.insertEntry(anEntry('other-tenant', { clientKey: OTHER_TENANT }));
      const scope = { kind: 'session', clientKey: TENANT, accountId: 'user-1', idHash: idHash('other-tenant') } as const;
      expect(await store.revokeEntries(scope, T0 + 1, 'user_ended')).to.equal(0);
      expect(await revokedAtOf(store, 'other-tenant')).to.equal(null);
    });

    it('ends every other session of the user and keeps exactly the one excepted', async () => {
      await store.insertEntry(anEntry('kept'));
      await store.insertEntry(anEntry('other-1'));
      await store.insertEntry(anEntry('other-2', { resource: 'app:self', parent: null }));
      await store.insertEntry(anEntry('someone-else', { accountId: 'user-2' }));
      const scope = { kind: 'user', clientKey: TENANT, accountId: 'user-1', except: idHash('kept') } as const;
      expect(await store.revokeEntries(scope, T0 + 1, 'user_ended_others')).to.equal(2);
      expect(await revokedAtOf(store, 'kept')).to.equal(null);
      expect(await revokedAtOf(store, 'other-1')).to.equal(T0 + 1);
      expect(await revokedAtOf(store, 'other-2')).to.equal(T0 + 1);
      expect(await revokedAtOf(store, 'someone-else')).to.equal(null);
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
      expect(await revokedAtOf(store, 't1')).to.equal(T0 + 1);
    });

    it('counts nothing when no entry is in scope', async () => {
      expect(await store.revokeEntries({ kind: 'token', idHash: idHash('never-minted') }, T0, 'admin')).to.equal(0);
      expect(await store.revokeEntries({ kind: 'tenant', clientKey: 'nobody' }, T0, 'uninstalled')).to.equal(0);
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
      expect(await revokedAtOf(store, 'revoked-live')).to.equal(T0 - 2);
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
});
