/** The store contract for the app's notes, over every store. */
import { expect } from 'chai';
import type { AppStore } from '../../../../src/store/app-store';
import { DuplicateKeyError } from '../../../../src/store/errors';
import { T0, TENANT, OTHER_TENANT, aNote, rejectionOf } from '../fixtures';
import { describeStoreContract } from '../stores';

describeStoreContract((current) => {
  let store: AppStore;

  beforeEach(() => {
    store = current();
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
});
