/** The store contract for listings: live entries listed and counted, known users, and the reconciliation's listings, over every store. */
import { expect } from 'chai';
import type { EntryQuery } from '../../../../src/allowlist/types';
import type { AppStore } from '../../../../src/store/app-store';
import { T0, MINUTE, TENANT, OTHER_TENANT, ISSUE, idHash, anEntry, aTombstone, aTenant, aNote, rejectionOf } from '../fixtures';
import { describeStoreContract } from '../stores';

describeStoreContract((current) => {
  let store: AppStore;

  beforeEach(() => {
    store = current();
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
});
