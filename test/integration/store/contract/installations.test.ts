/** The store contract for Forge installation links, over every store. */
import { expect } from 'chai';
import type { AppStore } from '../../../../src/store/app-store';
import { T0, TENANT, OTHER_TENANT } from '../fixtures';
import { describeStoreContract } from '../stores';

describeStoreContract((current) => {
  let store: AppStore;

  beforeEach(() => {
    store = current();
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
});
