/** The store contract for token chains: advancing a session's token and binding it to a key, each a compare-and-set, over every store. */
import { expect } from 'chai';
import type { ChainPosition } from '../../../../src/allowlist/types';
import type { AppStore } from '../../../../src/store/app-store';
import { T0, idHash, anEntry, thumbprint, anAdvance } from '../fixtures';
import { describeStoreContract } from '../stores';

describeStoreContract((current) => {
  let store: AppStore;

  beforeEach(() => {
    store = current();
  });

  describe('advancing a session\'s token', () => {
    async function chainOf(label: string): Promise<ChainPosition | null | undefined> {
      return (await store.loadEntryState(idHash(label)))?.entry.chain;
    }

    it('advances from the first token, which becomes the previous one, and changes nothing else', async () => {
      await store.insertEntry(anEntry('t1'));
      const next = anAdvance('t1', 1);
      expect(await store.advanceToken(idHash('t1'), 0, next)).to.equal(true);
      const chain = { seq: 1, tokenHash: next.tokenHash, previousHash: idHash('t1'), rotatedAt: next.at, ip: next.ip, userAgent: next.userAgent };
      expect((await store.loadEntryState(idHash('t1')))?.entry).to.deep.equal(anEntry('t1', { chain }));
    });

    it('advances again from where it stands, recording the token it replaces as the previous one', async () => {
      await store.insertEntry(anEntry('t1'));
      await store.advanceToken(idHash('t1'), 0, anAdvance('t1', 1));
      const next = anAdvance('t1', 2, { ip: null, userAgent: null });
      expect(await store.advanceToken(idHash('t1'), 1, next)).to.equal(true);
      expect(await chainOf('t1')).to.deep.equal({
        seq: 2,
        tokenHash: next.tokenHash,
        previousHash: anAdvance('t1', 1).tokenHash,
        rotatedAt: next.at,
        ip: null,
        userAgent: null,
      });
    });

    it('refuses to advance from a position the session has left, or not reached, and changes nothing', async () => {
      await store.insertEntry(anEntry('t1'));
      await store.advanceToken(idHash('t1'), 0, anAdvance('t1', 1));
      const standing = await chainOf('t1');
      expect(await store.advanceToken(idHash('t1'), 0, anAdvance('t1', 1, { tokenHash: idHash('thief') }))).to.equal(false);
      expect(await store.advanceToken(idHash('t1'), 2, anAdvance('t1', 3))).to.equal(false);
      expect(await chainOf('t1')).to.deep.equal(standing);
    });

    it('refuses to advance a revoked session', async () => {
      await store.insertEntry(anEntry('t1', { revokedAt: T0, revokeReason: 'token_forked' }));
      expect(await store.advanceToken(idHash('t1'), 0, anAdvance('t1', 1))).to.equal(false);
      expect(await chainOf('t1')).to.equal(null);
    });

    it('refuses to advance a session it has never seen, and does not create one', async () => {
      expect(await store.advanceToken(idHash('never-minted'), 0, anAdvance('never-minted', 1))).to.equal(false);
      expect(await store.loadEntryState(idHash('never-minted'))).to.equal(null);
    });

    it('lets exactly one of two racing advances from the same position win, and keeps the winner\'s token', async () => {
      await store.insertEntry(anEntry('t1'));
      const rivals = [anAdvance('t1', 1, { tokenHash: idHash('first') }), anAdvance('t1', 1, { tokenHash: idHash('second') })];
      const won = await Promise.all(rivals.map((next) => store.advanceToken(idHash('t1'), 0, next)));
      expect(won.filter(Boolean)).to.have.length(1);
      const winner = rivals[won.indexOf(true)];
      expect((await chainOf('t1'))?.tokenHash).to.equal(winner?.tokenHash);
    });
  });

  describe('binding a session to a key', () => {
    async function boundKeyOf(label: string): Promise<string | null | undefined> {
      return (await store.loadEntryState(idHash(label)))?.entry.boundKey;
    }

    it('binds an unbound session to the key it is given', async () => {
      await store.insertEntry(anEntry('t1'));
      expect(await store.bindKey(idHash('t1'), thumbprint('page-key'))).to.equal(true);
      expect((await store.loadEntryState(idHash('t1')))?.entry).to.deep.equal(anEntry('t1', { boundKey: thumbprint('page-key') }));
    });

    it('answers true again for the key the session is bound to', async () => {
      await store.insertEntry(anEntry('t1'));
      await store.bindKey(idHash('t1'), thumbprint('page-key'));
      expect(await store.bindKey(idHash('t1'), thumbprint('page-key'))).to.equal(true);
      expect(await boundKeyOf('t1')).to.equal(thumbprint('page-key'));
    });

    it('refuses another key once bound, and keeps the first', async () => {
      await store.insertEntry(anEntry('t1'));
      await store.bindKey(idHash('t1'), thumbprint('page-key'));
      expect(await store.bindKey(idHash('t1'), thumbprint('thief-key'))).to.equal(false);
      expect(await boundKeyOf('t1')).to.equal(thumbprint('page-key'));
    });

    it('refuses to bind a revoked session, even to the key it is bound to', async () => {
      await store.insertEntry(anEntry('unbound', { revokedAt: T0, revokeReason: 'user_ended' }));
      await store.insertEntry(anEntry('bound', { boundKey: thumbprint('page-key'), revokedAt: T0, revokeReason: 'user_ended' }));
      expect(await store.bindKey(idHash('unbound'), thumbprint('page-key'))).to.equal(false);
      expect(await store.bindKey(idHash('bound'), thumbprint('page-key'))).to.equal(false);
      expect(await boundKeyOf('unbound')).to.equal(null);
    });

    it('refuses a session it has never seen, and does not create one', async () => {
      expect(await store.bindKey(idHash('never-minted'), thumbprint('page-key'))).to.equal(false);
      expect(await store.loadEntryState(idHash('never-minted'))).to.equal(null);
    });

    it('binds exactly one of two keys racing for one session', async () => {
      await store.insertEntry(anEntry('t1'));
      const keys = [thumbprint('first'), thumbprint('second')];
      const bound = await Promise.all(keys.map((key) => store.bindKey(idHash('t1'), key)));
      expect(bound.filter(Boolean)).to.have.length(1);
      expect(await boundKeyOf('t1')).to.equal(keys[bound.indexOf(true)]);
    });
  });
});
