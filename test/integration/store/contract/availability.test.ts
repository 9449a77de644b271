/** The store contract for availability: a ping, and every role refusing once the store is closed, over every store. */
import { expect } from 'chai';
import type { AppStore } from '../../../../src/store/app-store';
import { StoreClosedError } from '../../../../src/store/errors';
import { T0, TENANT, idHash, anEntry, aTombstone, aTenant, aNote, aStream, aPolicy, anAuditRecord, thumbprint, anAdvance, rejectionOf } from '../fixtures';
import { describeStoreContract } from '../stores';

describeStoreContract((current) => {
  let store: AppStore;

  beforeEach(() => {
    store = current();
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
});
