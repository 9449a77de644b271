/** The store contract for finding sessions by the hashes of leaked tokens, over every store. */
import { expect } from 'chai';
import type { AllowlistEntry, ChainPosition } from '../../../../src/allowlist/types';
import type { AppStore } from '../../../../src/store/app-store';
import { T0, MINUTE, OTHER_TENANT, idHash, anEntry, anAdvance } from '../fixtures';
import { describeStoreContract } from '../stores';

describeStoreContract((current) => {
  let store: AppStore;

  beforeEach(() => {
    store = current();
  });

  describe('finding sessions by leaked token hashes', () => {
    /** A session rotated `seq` times: its current token is its `seq`th successor, the one before its previous. */
    function aRotatedEntry(label: string, seq: number, fields: Partial<AllowlistEntry> = {}): AllowlistEntry {
      const previousHash = seq === 1 ? idHash(label) : anAdvance(label, seq - 1).tokenHash;
      const chain: ChainPosition = { seq, tokenHash: anAdvance(label, seq).tokenHash, previousHash, rotatedAt: T0 + seq * MINUTE, ip: null, userAgent: null };
      return anEntry(label, { chain, ...fields });
    }

    const idsOf = (entries: AllowlistEntry[]) => entries.map((entry) => entry.idHash).sort();

    it('finds a session by the hash of its first token, field for field', async () => {
      await store.insertEntry(anEntry('t1'));
      await store.insertEntry(anEntry('t2'));
      expect(await store.findByTokenHashes([idHash('t1')])).to.deep.equal([anEntry('t1')]);
    });

    it("finds a rotated session by its current token's hash and by the previous one's", async () => {
      await store.insertEntry(aRotatedEntry('t1', 3));
      expect(await store.findByTokenHashes([anAdvance('t1', 3).tokenHash])).to.deep.equal([aRotatedEntry('t1', 3)]);
      expect(await store.findByTokenHashes([anAdvance('t1', 2).tokenHash])).to.deep.equal([aRotatedEntry('t1', 3)]);
    });

    it('does not find a session by a token older than the one before its current', async () => {
      await store.insertEntry(aRotatedEntry('t1', 3));
      expect(await store.findByTokenHashes([anAdvance('t1', 1).tokenHash])).to.deep.equal([]);
    });

    it('finds revoked and expired sessions, and those of every tenant', async () => {
      await store.insertEntry(anEntry('revoked', { revokedAt: T0 + 1, revokeReason: 'user_ended' }));
      await store.insertEntry(anEntry('expired', { expiresAt: T0 - 1 }));
      await store.insertEntry(anEntry('elsewhere', { clientKey: OTHER_TENANT }));
      const found = await store.findByTokenHashes([idHash('revoked'), idHash('expired'), idHash('elsewhere')]);
      expect(idsOf(found)).to.deep.equal([idHash('revoked'), idHash('expired'), idHash('elsewhere')].sort());
      expect(found.find((entry) => entry.idHash === idHash('revoked'))).to.deep.equal(anEntry('revoked', { revokedAt: T0 + 1, revokeReason: 'user_ended' }));
    });

    it('lists a session named by several of its tokens once', async () => {
      await store.insertEntry(aRotatedEntry('t1', 1));
      const found = await store.findByTokenHashes([idHash('t1'), anAdvance('t1', 1).tokenHash]);
      expect(idsOf(found)).to.deep.equal([idHash('t1')]);
    });

    it('finds nothing for hashes no session has, nor for no hashes at all', async () => {
      await store.insertEntry(aRotatedEntry('t1', 2));
      expect(await store.findByTokenHashes([idHash('never-minted'), idHash('nor-this')])).to.deep.equal([]);
      expect(await store.findByTokenHashes([])).to.deep.equal([]);
    });

    it('finds every session among more hashes than one statement binds', async () => {
      const labels = Array.from({ length: 30 }, (_, i) => `s${i}`);
      for (const [i, label] of labels.entries()) await store.insertEntry(i % 2 === 0 ? anEntry(label) : aRotatedEntry(label, 2));
      const named = labels.map((label, i) => (i % 2 === 0 ? idHash(label) : anAdvance(label, 2).tokenHash));
      const unknown = Array.from({ length: 1200 }, (_, i) => idHash(`unknown-${i}`));
      // The sessions' hashes spread over the batch: first, middle and last place included.
      const hashes = [named[0], ...unknown.slice(0, 600), ...named.slice(1, -1), ...unknown.slice(600), named[named.length - 1]];
      expect(idsOf(await store.findByTokenHashes(hashes))).to.deep.equal(labels.map(idHash).sort());
    });

    it('is not changed when the caller mutates a session it found', async () => {
      await store.insertEntry(aRotatedEntry('t1', 1));
      const [found] = await store.findByTokenHashes([idHash('t1')]);
      if (found?.chain) found.chain.tokenHash = idHash('tampered');
      if (found) found.revokedAt = T0;
      expect((await store.loadEntryState(idHash('t1')))?.entry).to.deep.equal(aRotatedEntry('t1', 1));
    });
  });
});
