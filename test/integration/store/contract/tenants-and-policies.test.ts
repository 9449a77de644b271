/** The store contract for tenants and their policies, over every store. */
import { expect } from 'chai';
import type { AppStore } from '../../../../src/store/app-store';
import { T0, MINUTE, TENANT, OTHER_TENANT, aTenant, aPolicy } from '../fixtures';
import { describeStoreContract } from '../stores';

describeStoreContract((current) => {
  let store: AppStore;

  beforeEach(() => {
    store = current();
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
});
