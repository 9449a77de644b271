/** The store contract for tombstones: the host's removals, newest first, over every store. */
import { expect } from 'chai';
import type { AppStore } from '../../../../src/store/app-store';
import { T0, MINUTE, TENANT, OTHER_TENANT, aTombstone } from '../fixtures';
import { describeStoreContract } from '../stores';

describeStoreContract((current) => {
  let store: AppStore;

  beforeEach(() => {
    store = current();
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
});
