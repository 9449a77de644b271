/** The store contract for the replay ledger: claims taken once, marks that only advance, over every store. */
import { expect } from 'chai';
import type { AppStore } from '../../../../src/store/app-store';
import { T0, MINUTE, TENANT, OTHER_TENANT } from '../fixtures';
import { describeStoreContract } from '../stores';

describeStoreContract((current) => {
  let store: AppStore;

  beforeEach(() => {
    store = current();
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
});
