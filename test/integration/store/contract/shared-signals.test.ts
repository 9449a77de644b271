/** The store contract for Shared Signals rows: streams in, and receivers and the outbox of SETs out, over every store. */
import { expect } from 'chai';
import type { RevocationNotice } from '../../../../src/allowlist/types';
import type { ClaimedSet, QueuedSet, Receiver } from '../../../../src/signals/ssf-transmitter/outbox';
import type { AppStore } from '../../../../src/store/app-store';
import { StoreClosedError } from '../../../../src/store/errors';
import { T0, MINUTE, TENANT, OTHER_TENANT, ISSUE, idHash, anEntry, aTenant, aStream, rejectionOf } from '../fixtures';
import { describeStoreContract } from '../stores';

describeStoreContract((current) => {
  let store: AppStore;

  beforeEach(() => {
    store = current();
  });

  describe('Shared Signals streams', () => {
    it('reads back an inserted stream field for field, by site and by issuer', async () => {
      const stream = aStream('s1', { subjects: 'account_id' });
      expect(await store.insertStream(stream)).to.equal(true);
      expect(await store.listStreams(TENANT)).to.deep.equal([stream]);
      expect(await store.streamsOfIssuer('https://idp.example.com')).to.deep.equal([stream]);
    });

    it('lists a site\'s streams oldest first, and no other site\'s', async () => {
      await store.insertStream(aStream('s2', { createdAt: T0 + 2, audience: 'aud-2' }));
      await store.insertStream(aStream('s1', { createdAt: T0 + 1, audience: 'aud-1' }));
      await store.insertStream(aStream('s3', { clientKey: OTHER_TENANT, audience: 'aud-3' }));
      expect((await store.listStreams(TENANT)).map((stream) => stream.id)).to.deep.equal(['s1', 's2']);
      expect((await store.listStreams(OTHER_TENANT)).map((stream) => stream.id)).to.deep.equal(['s3']);
      expect(await store.listStreams('no-such-site')).to.deep.equal([]);
    });

    it('finds every site\'s streams of an issuer, and only that exact issuer', async () => {
      await store.insertStream(aStream('s1', { audience: 'aud-1', createdAt: T0 + 1 }));
      await store.insertStream(aStream('s2', { clientKey: OTHER_TENANT, audience: 'aud-2', createdAt: T0 + 2 }));
      await store.insertStream(aStream('s3', { issuer: 'https://idp.example.com/', audience: 'aud-3' }));
      expect((await store.streamsOfIssuer('https://idp.example.com')).map((stream) => stream.id)).to.deep.equal(['s1', 's2']);
      expect((await store.streamsOfIssuer('https://idp.example.com/')).map((stream) => stream.id)).to.deep.equal(['s3']);
      expect(await store.streamsOfIssuer('https://IDP.example.com')).to.deep.equal([]);
    });

    it('refuses a second stream with the same issuer and audience, on any site, and keeps the first', async () => {
      const first = aStream('s1');
      await store.insertStream(first);
      expect(await store.insertStream(aStream('s2', { clientKey: OTHER_TENANT, audience: first.audience }))).to.equal(false);
      expect(await store.streamsOfIssuer(first.issuer)).to.deep.equal([first]);
      expect(await store.insertStream(aStream('s3', { issuer: 'https://other-idp.example.com', audience: first.audience }))).to.equal(true);
    });

    it('deletes a stream only for its own site', async () => {
      await store.insertStream(aStream('s1'));
      expect(await store.deleteStream(OTHER_TENANT, 's1')).to.equal(false);
      expect(await store.listStreams(TENANT)).to.have.length(1);
      expect(await store.deleteStream(TENANT, 's1')).to.equal(true);
      expect(await store.deleteStream(TENANT, 's1')).to.equal(false);
      expect(await store.listStreams(TENANT)).to.deep.equal([]);
      // Its issuer and audience are free again.
      expect(await store.insertStream(aStream('s2', { audience: aStream('s1').audience }))).to.equal(true);
    });

    it('records when a stream was last verified', async () => {
      await store.insertStream(aStream('s1'));
      await store.markStreamVerified('s1', T0 + MINUTE);
      await store.markStreamVerified('no-such-stream', T0 + MINUTE);
      expect(await store.listStreams(TENANT)).to.deep.equal([aStream('s1', { verifiedAt: T0 + MINUTE })]);
    });

    it('hands out copies: changing one changes nothing stored', async () => {
      await store.insertStream(aStream('s1'));
      const [listed] = await store.listStreams(TENANT);
      listed.audience = 'changed';
      expect((await store.listStreams(TENANT))[0].audience).to.equal(aStream('s1').audience);
    });
  });

  describe('signal receivers and the outbox', () => {
    const NOTICE: RevocationNotice = { id: 'notice-1', accountId: 'user-1', session: null, actor: 'admin:admin-1' };

    function aReceiver(id: string, fields: Partial<Receiver> = {}): Receiver {
      return {
        id,
        clientKey: TENANT,
        endpointUrl: `https://receiver.example.com/events/${id}`,
        audience: `https://receiver.example.com/${id}`,
        authorization: `Bearer secret-of-${id}`,
        createdAt: T0,
        updatedAt: T0,
        ...fields,
      };
    }

    /** The SET `revokeUser()` queues for `receiverId`, as it stands before any attempt. */
    function aQueuedSet(receiverId: string, fields: Partial<QueuedSet> = {}): QueuedSet {
      return {
        noticeId: NOTICE.id,
        receiverId,
        clientKey: TENANT,
        baseUrl: aTenant().baseUrl,
        accountId: 'user-1',
        session: null,
        actor: 'admin:admin-1',
        reason: 'admin_revoked_user',
        eventAt: T0 + MINUTE,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: T0 + MINUTE,
        lastAttemptAt: null,
        lastError: null,
        ...fields,
      };
    }

    /** Gives the user a live entry, then revokes every entry of theirs at `at` with a notice; resolves how many it ended. */
    async function revokeUser(accountId = 'user-1', noticeId = NOTICE.id, at = T0 + MINUTE): Promise<number> {
      await store.insertEntry(anEntry(`${noticeId}:${accountId}:${at}`, { accountId }));
      return store.revokeEntries({ kind: 'user', clientKey: TENANT, accountId }, at, 'admin_revoked_user', { ...NOTICE, id: noticeId, accountId });
    }

    const keyOf = (set: QueuedSet) => `${set.noticeId}/${set.receiverId}`;
    const byReceiver = (claimed: ClaimedSet[]) => [...claimed].sort((a, b) => (a.set.receiverId < b.set.receiverId ? -1 : 1));

    beforeEach(async () => {
      await store.putTenant(aTenant());
    });

    it("adds receivers and lists a site's own, oldest first, field for field", async () => {
      const later = aReceiver('r2', { createdAt: T0 + 1, updatedAt: T0 + 1 });
      expect(await store.putReceiver(later)).to.deep.equal({ receiver: later, created: true });
      await store.putReceiver(aReceiver('r1', { authorization: null }));
      await store.putReceiver(aReceiver('theirs', { clientKey: OTHER_TENANT }));
      expect(await store.listReceivers(TENANT)).to.deep.equal([aReceiver('r1', { authorization: null }), later]);
    });

    it('gives a receiver added again at the same endpoint the new audience and authorization, and keeps its id', async () => {
      await store.putReceiver(aReceiver('r1'));
      const again = aReceiver('r9', { endpointUrl: aReceiver('r1').endpointUrl, audience: 'new-audience', authorization: null, createdAt: T0 + 5, updatedAt: T0 + 5 });
      const replaced = aReceiver('r1', { audience: 'new-audience', authorization: null, updatedAt: T0 + 5 });
      expect(await store.putReceiver(again)).to.deep.equal({ receiver: replaced, created: false });
      expect(await store.listReceivers(TENANT)).to.deep.equal([replaced]);
    });

    it("deletes only its own site's receiver, with every SET queued for it", async () => {
      await store.putReceiver(aReceiver('r1'));
      await store.putReceiver(aReceiver('r2'));
      await revokeUser();
      expect(await store.deleteReceiver(OTHER_TENANT, 'r1')).to.equal(false);
      expect(await store.deleteReceiver(TENANT, 'nobody')).to.equal(false);
      expect(await store.deleteReceiver(TENANT, 'r1')).to.equal(true);
      expect((await store.listReceivers(TENANT)).map((receiver) => receiver.id)).to.deep.equal(['r2']);
      expect((await store.listSets({ clientKey: TENANT, limit: 10 })).map((set) => set.receiverId)).to.deep.equal(['r2']);
    });

    it("queues a revocation that ended something once for each receiver of its site, due at once, with the site's address", async () => {
      await store.putReceiver(aReceiver('r1'));
      await store.putReceiver(aReceiver('r2'));
      await store.putReceiver(aReceiver('theirs', { clientKey: OTHER_TENANT }));
      expect(await revokeUser()).to.equal(1);
      expect(await store.listSets({ clientKey: TENANT, limit: 10 })).to.deep.equal([aQueuedSet('r1'), aQueuedSet('r2')]);
      expect(await store.listSets({ clientKey: OTHER_TENANT, limit: 10 })).to.deep.equal([]);
      expect(await store.countSets(TENANT)).to.deep.equal({ pending: 2, failed: 0 });
    });

    it("queues the one session a revocation ended, and a whole site's revocation with no user", async () => {
      await store.putReceiver(aReceiver('r1'));
      await store.insertEntry(anEntry('s1'));
      await store.insertEntry(anEntry('s2', { accountId: 'user-2' }));
      const session = { kind: 'session', clientKey: TENANT, accountId: 'user-1', idHash: idHash('s1') } as const;
      await store.revokeEntries(session, T0 + 1, 'theft_suspected', { id: 'n-session', accountId: 'user-1', session: idHash('s1'), actor: 'theft-detection' });
      await store.revokeEntries({ kind: 'tenant', clientKey: TENANT }, T0 + 2, 'admin_reset_site', { id: 'n-site', accountId: null, session: null, actor: 'operator' });
      expect(await store.listSets({ clientKey: TENANT, limit: 10 })).to.deep.equal([
        aQueuedSet('r1', { noticeId: 'n-site', accountId: null, actor: 'operator', reason: 'admin_reset_site', eventAt: T0 + 2, nextAttemptAt: T0 + 2 }),
        aQueuedSet('r1', { noticeId: 'n-session', session: idHash('s1'), actor: 'theft-detection', reason: 'theft_suspected', eventAt: T0 + 1, nextAttemptAt: T0 + 1 }),
      ]);
    });

    it('queues nothing for a revocation that ended nothing, one repeated, one without a notice, or one on a site without receivers', async () => {
      await store.putReceiver(aReceiver('r1'));
      const userScope = { kind: 'user', clientKey: TENANT, accountId: 'user-1' } as const;
      expect(await store.revokeEntries(userScope, T0 + MINUTE, 'admin_revoked_user', NOTICE)).to.equal(0);
      expect(await revokeUser('user-1', 'first')).to.equal(1);
      expect(await store.revokeEntries(userScope, T0 + 2 * MINUTE, 'admin_revoked_user', { ...NOTICE, id: 'repeated' })).to.equal(0);
      await store.insertEntry(anEntry('on-issue', { accountId: 'user-2' }));
      expect(await store.revokeEntries({ kind: 'resource', clientKey: TENANT, resource: ISSUE }, T0 + 1, 'issue_deleted')).to.equal(1);
      await store.insertEntry(anEntry('elsewhere', { clientKey: OTHER_TENANT }));
      expect(await store.revokeEntries({ kind: 'tenant', clientKey: OTHER_TENANT }, T0 + 1, 'uninstalled', { ...NOTICE, id: 'no-receivers' })).to.equal(1);
      expect((await store.listSets({ clientKey: TENANT, limit: 10 })).map((set) => set.noticeId)).to.deep.equal(['first']);
      expect(await store.countSets()).to.deep.equal({ pending: 1, failed: 0 });
    });

    it('leases due SETs with their receivers, and none it holds to anyone else until the lease ends', async () => {
      await store.putReceiver(aReceiver('r1'));
      await store.putReceiver(aReceiver('r2'));
      await revokeUser();
      expect(byReceiver(await store.claimSets('lease-a', T0 + MINUTE, T0 + 2 * MINUTE, 10))).to.deep.equal([
        { set: aQueuedSet('r1'), receiver: aReceiver('r1') },
        { set: aQueuedSet('r2'), receiver: aReceiver('r2') },
      ]);
      expect(await store.claimSets('lease-b', T0 + 2 * MINUTE - 1, T0 + 3 * MINUTE, 10)).to.deep.equal([]);
      expect(await store.claimSets('lease-b', T0 + 2 * MINUTE, T0 + 3 * MINUTE, 10)).to.have.length(2);
    });

    it('leases nothing before it is due, the soonest due first, and no more than the limit', async () => {
      await store.putReceiver(aReceiver('r1'));
      await revokeUser('user-2', 'later', T0 + 2 * MINUTE);
      await revokeUser('user-1', 'sooner', T0 + MINUTE);
      expect(await store.claimSets('lease-a', T0 + MINUTE - 1, T0 + 5 * MINUTE, 10)).to.deep.equal([]);
      const [first, ...others] = await store.claimSets('lease-a', T0 + 3 * MINUTE, T0 + 5 * MINUTE, 1);
      expect([first?.set.noticeId, others]).to.deep.equal(['sooner', []]);
    });

    it('never hands one SET to two claimers racing for it', async () => {
      for (const id of ['r1', 'r2', 'r3', 'r4']) await store.putReceiver(aReceiver(id));
      for (const user of ['user-1', 'user-2', 'user-3', 'user-4', 'user-5']) await revokeUser(user, `notice-${user}`);
      // Twenty SETs (five revocations, four receivers), five claimers of at most six each.
      const claims = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((lease) => store.claimSets(`lease-${lease}`, T0 + MINUTE, T0 + 2 * MINUTE, 6)));
      const keys = claims.flat().map((claimed) => keyOf(claimed.set));
      expect(new Set(keys).size, 'a SET claimed twice').to.equal(keys.length);
      const rest = await store.claimSets('lease-late', T0 + MINUTE, T0 + 2 * MINUTE, 100);
      expect(keys.length + rest.length).to.equal(20);
    });

    it('never offers a delivered SET again', async () => {
      await store.putReceiver(aReceiver('r1'));
      await revokeUser();
      await store.claimSets('lease-a', T0 + MINUTE, T0 + 2 * MINUTE, 10);
      await store.deliveredSet({ noticeId: NOTICE.id, receiverId: 'r1' });
      expect(await store.claimSets('lease-b', T0 + 10 * MINUTE, T0 + 11 * MINUTE, 10)).to.deep.equal([]);
      expect(await store.countSets()).to.deep.equal({ pending: 0, failed: 0 });
    });

    it('counts a failed push, releases the SET and offers it again once due; only while the lease holds it', async () => {
      await store.putReceiver(aReceiver('r1'));
      await revokeUser();
      const key = { noticeId: NOTICE.id, receiverId: 'r1' };
      await store.claimSets('lease-a', T0 + MINUTE, T0 + 2 * MINUTE, 10);
      const failure = { error: '503', at: T0 + MINUTE + 10 };
      expect(await store.retrySet(key, 'lease-other', T0 + 5 * MINUTE, failure)).to.equal(false);
      expect(await store.retrySet(key, 'lease-a', T0 + 5 * MINUTE, failure)).to.equal(true);
      expect(await store.retrySet(key, 'lease-a', T0 + 6 * MINUTE, failure)).to.equal(false);
      const retried = aQueuedSet('r1', { attempts: 1, nextAttemptAt: T0 + 5 * MINUTE, lastAttemptAt: T0 + MINUTE + 10, lastError: '503' });
      expect(await store.listSets({ clientKey: TENANT, limit: 10 })).to.deep.equal([retried]);
      expect(await store.claimSets('lease-b', T0 + 5 * MINUTE - 1, T0 + 6 * MINUTE, 10)).to.deep.equal([]);
      expect(await store.claimSets('lease-b', T0 + 5 * MINUTE, T0 + 6 * MINUTE, 10)).to.deep.equal([{ set: retried, receiver: aReceiver('r1') }]);
    });

    it('takes a whole SET as its key, as the push worker hands it over', async () => {
      await store.putReceiver(aReceiver('r1'));
      await store.putReceiver(aReceiver('r2'));
      await store.putReceiver(aReceiver('r3'));
      await revokeUser();
      const claimed = byReceiver(await store.claimSets('lease-a', T0 + MINUTE, T0 + 2 * MINUTE, 10));
      const [delivered, retried, failed] = claimed.map((c) => c.set) as [QueuedSet, QueuedSet, QueuedSet];
      await store.deliveredSet(delivered);
      expect(await store.retrySet(retried, 'lease-a', T0 + 3 * MINUTE, { error: '503', at: T0 + MINUTE })).to.equal(true);
      expect(await store.failSet(failed, 'lease-a', { error: '400', at: T0 + MINUTE })).to.equal(true);
      expect(await store.countSets(TENANT)).to.deep.equal({ pending: 1, failed: 1 });
    });

    it('postpones a SET untried without counting an attempt', async () => {
      await store.putReceiver(aReceiver('r1'));
      await revokeUser();
      await store.claimSets('lease-a', T0 + MINUTE, T0 + 2 * MINUTE, 10);
      expect(await store.retrySet({ noticeId: NOTICE.id, receiverId: 'r1' }, 'lease-a', T0 + 3 * MINUTE, null)).to.equal(true);
      expect(await store.listSets({ clientKey: TENANT, limit: 10 })).to.deep.equal([aQueuedSet('r1', { nextAttemptAt: T0 + 3 * MINUTE })]);
    });

    it('keeps a SET given up on for admins to see, and never offers it again', async () => {
      await store.putReceiver(aReceiver('r1'));
      await store.putReceiver(aReceiver('r2'));
      await revokeUser();
      await store.claimSets('lease-a', T0 + MINUTE, T0 + 2 * MINUTE, 10);
      const key = { noticeId: NOTICE.id, receiverId: 'r1' };
      const failure = { error: '400 invalid_key: unknown kid', at: T0 + MINUTE + 10 };
      expect(await store.failSet(key, 'lease-other', failure)).to.equal(false);
      expect(await store.failSet(key, 'lease-a', failure)).to.equal(true);
      await store.releaseSets('lease-a');
      const failed = aQueuedSet('r1', { state: 'failed', attempts: 1, lastAttemptAt: T0 + MINUTE + 10, lastError: failure.error });
      expect(await store.listSets({ clientKey: TENANT, state: 'failed', limit: 10 })).to.deep.equal([failed]);
      expect(await store.listSets({ clientKey: TENANT, state: 'pending', limit: 10 })).to.deep.equal([aQueuedSet('r2')]);
      expect(await store.countSets(TENANT)).to.deep.equal({ pending: 1, failed: 1 });
      const later = await store.claimSets('lease-b', T0 + 60 * MINUTE, T0 + 61 * MINUTE, 10);
      expect(later.map((claimed) => claimed.set.receiverId)).to.deep.equal(['r2']);
    });

    it('releases every SET a lease holds, untried, to be claimed again at once', async () => {
      await store.putReceiver(aReceiver('r1'));
      await store.putReceiver(aReceiver('r2'));
      await revokeUser();
      await store.claimSets('lease-a', T0 + MINUTE, T0 + 2 * MINUTE, 10);
      expect(await store.releaseSets('lease-other')).to.equal(0);
      expect(await store.releaseSets('lease-a')).to.equal(2);
      expect(await store.claimSets('lease-b', T0 + MINUTE, T0 + 2 * MINUTE, 10)).to.have.length(2);
    });

    it('lists newest revocation first, up to the limit, and refuses a limit that is not a positive integer', async () => {
      await store.putReceiver(aReceiver('r1'));
      await revokeUser('user-1', 'older', T0 + MINUTE);
      await revokeUser('user-1', 'newer', T0 + 2 * MINUTE);
      expect((await store.listSets({ clientKey: TENANT, limit: 10 })).map((set) => set.noticeId)).to.deep.equal(['newer', 'older']);
      expect((await store.listSets({ clientKey: TENANT, limit: 1 })).map((set) => set.noticeId)).to.deep.equal(['newer']);
      expect(await rejectionOf(store.listSets({ clientKey: TENANT, limit: 0 }))).to.be.instanceOf(RangeError);
    });

    it('rejects every call once closed', async () => {
      await store.close();
      const key = { noticeId: NOTICE.id, receiverId: 'r1' };
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['putReceiver', () => store.putReceiver(aReceiver('r1'))],
        ['listReceivers', () => store.listReceivers(TENANT)],
        ['deleteReceiver', () => store.deleteReceiver(TENANT, 'r1')],
        ['revokeEntries with a notice', () => store.revokeEntries({ kind: 'tenant', clientKey: TENANT }, T0, 'uninstalled', NOTICE)],
        ['claimSets', () => store.claimSets('lease', T0, T0 + 1, 10)],
        ['deliveredSet', () => store.deliveredSet(key)],
        ['retrySet', () => store.retrySet(key, 'lease', T0, null)],
        ['failSet', () => store.failSet(key, 'lease', { error: '400', at: T0 })],
        ['releaseSets', () => store.releaseSets('lease')],
        ['listSets', () => store.listSets({ clientKey: TENANT, limit: 10 })],
        ['countSets', () => store.countSets()],
      ];
      for (const [method, call] of calls) expect(await rejectionOf(call()), method).to.be.instanceOf(StoreClosedError);
    });
  });
});
