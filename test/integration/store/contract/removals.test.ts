/** The store contract for a removal written at once: the tombstone, the revocation it makes and its Shared Signals notices in one store write, over every store. */
import { expect } from 'chai';
import type { RevocationNotice } from '../../../../src/allowlist/types';
import type { AppStore } from '../../../../src/store/app-store';
import { StoreClosedError } from '../../../../src/store/errors';
import { T0, MINUTE, TENANT, ISSUE, PROJECT, aTenant, aTombstone, anEntry, idHash, rejectionOf, revokedAtOf } from '../fixtures';
import { describeStoreContract } from '../stores';

describeStoreContract((current) => {
  let store: AppStore;

  beforeEach(() => {
    store = current();
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
      for (const label of ['mine-1', 'mine-2']) expect(await revokedAtOf(store, label), label).to.equal(REMOVED_AT);
      expect((await store.loadEntryState(idHash('mine-1')))?.entry.revokeReason).to.equal('user_removed');
      expect(await revokedAtOf(store, 'early')).to.equal(T0 + 1);
      expect(await revokedAtOf(store, 'someone-else')).to.equal(null);
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
      expect(await revokedAtOf(store, 'issue-a')).to.equal(REMOVED_AT);
      expect(await revokedAtOf(store, 'project-page')).to.equal(REMOVED_AT);
      expect(await revokedAtOf(store, 'other-project')).to.equal(null);
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
      expect(await revokedAtOf(store, 'live')).to.equal(null);
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
