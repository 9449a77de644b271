/** The store contract for ACE's tenant settings, over every store. */
import { expect } from 'chai';
import type { AppStore } from '../../../../src/store/app-store';
import { TENANT, OTHER_TENANT, rejectionOf } from '../fixtures';
import { describeStoreContract } from '../stores';

describeStoreContract((current) => {
  let store: AppStore;

  beforeEach(() => {
    store = current();
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
});
