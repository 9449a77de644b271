/** The store contract for the audit log and its retention, over every store. */
import { expect } from 'chai';
import type { AuditQuery, AuditRecord } from '../../../../src/allowlist/types';
import type { AppStore } from '../../../../src/store/app-store';
import { T0, TENANT, OTHER_TENANT, ISSUE, anAuditRecord, aSignalDetail, aSignal, withoutIds, rejectionOf } from '../fixtures';
import { describeStoreContract } from '../stores';

describeStoreContract((current) => {
  let store: AppStore;

  beforeEach(() => {
    store = current();
  });

  describe('audit log', () => {
    async function listed(fields: Partial<AuditQuery> = {}): Promise<AuditRecord[]> {
      return withoutIds((await store.listAudit({ clientKey: TENANT, limit: 100, ...fields })).records);
    }

    it("lists a tenant's records last appended first", async () => {
      await store.appendAudit([anAuditRecord({ at: T0 + 1, kind: 'mint' })]);
      await store.appendAudit([anAuditRecord({ at: T0 + 2, kind: 'deny' })]);
      await store.appendAudit([anAuditRecord({ at: T0 + 3, kind: 'revoke' })]);
      expect((await listed()).map((record) => record.kind)).to.deep.equal(['revoke', 'deny', 'mint']);
    });

    it('appends a batch in one call, in its order, every field kept', async () => {
      const batch = Array.from({ length: 600 }, (_, i) => anAuditRecord({ at: T0 + i, kind: i % 2 === 0 ? 'mint' : 'deny', reason: `r${i}`, count: i }));
      await store.appendAudit(batch);
      expect(await listed({ limit: 1000 })).to.deep.equal([...batch].reverse());
    });

    it('does nothing for an empty batch', async () => {
      await store.appendAudit([]);
      expect(await listed()).to.deep.equal([]);
    });

    it('orders by append, even a record that carries an earlier time (another node, another clock)', async () => {
      await store.appendAudit([anAuditRecord({ at: T0 + 3, reason: 'first' })]);
      await store.appendAudit([anAuditRecord({ at: T0 + 1, reason: 'second' })]);
      expect((await listed()).map((record) => record.reason)).to.deep.equal(['second', 'first']);
    });

    it('gives every record an id that grows with each append', async () => {
      for (let i = 0; i < 3; i += 1) await store.appendAudit([anAuditRecord({ clientKey: i === 1 ? OTHER_TENANT : TENANT })]);
      const ids = (await store.listAudit({ clientKey: TENANT, limit: 10 })).records.map((record) => record.id);
      expect(ids).to.have.length(2);
      expect(ids[0]).to.be.greaterThan(ids[1]);
      for (const id of ids) expect(Number.isSafeInteger(id), String(id)).to.equal(true);
    });

    it('returns at most limit records, the newest ones', async () => {
      for (let i = 1; i <= 5; i += 1) await store.appendAudit([anAuditRecord({ at: T0 + i })]);
      expect((await listed({ limit: 2 })).map((record) => record.at)).to.deep.equal([T0 + 5, T0 + 4]);
    });

    it("keeps other tenants' records and tenantless ones out", async () => {
      await store.appendAudit([anAuditRecord({ clientKey: OTHER_TENANT })]);
      await store.appendAudit([anAuditRecord({ clientKey: null, kind: 'lifecycle' })]);
      expect(await listed()).to.deep.equal([]);
    });

    it('reads back every field, nulls included', async () => {
      const revoke = anAuditRecord();
      const deny: AuditRecord = {
        at: T0 + 1,
        kind: 'deny',
        clientKey: TENANT,
        accountId: null,
        actor: null,
        reason: 'token_revoked',
        resource: ISSUE,
        count: null,
        confirmation: null,
      };
      await store.appendAudit([revoke]);
      await store.appendAudit([deny]);
      expect(await listed()).to.deep.equal([deny, revoke]);
    });

    it('reads back a policy change', async () => {
      const change = anAuditRecord({ kind: 'policy', actor: 'user:admin-1', accountId: null, reason: 'policy_set', count: null });
      await store.appendAudit([change]);
      expect(await listed()).to.deep.equal([change]);
    });

    it("reads back a revocation's confirmation, and null where there is none", async () => {
      const confirmed = anAuditRecord({ at: T0 + 1, confirmation: { confirmed: 2, expected: 3 } });
      const unconfirmed = anAuditRecord({ at: T0, confirmation: null });
      await store.appendAudit([unconfirmed]);
      await store.appendAudit([confirmed]);
      expect(await listed()).to.deep.equal([confirmed, unconfirmed]);
    });

    it("reads back a theft signal's detail", async () => {
      const signal = aSignal();
      await store.appendAudit([anAuditRecord({ kind: 'mint' }), signal]);
      expect(await listed()).to.deep.equal([signal, anAuditRecord({ kind: 'mint' })]);
    });

    it('lists signals by their kind', async () => {
      const fork = aSignal();
      const agentChanged = aSignal(aSignalDetail({ kind: 'agent_changed', action: 'reported' }));
      await store.appendAudit([fork, anAuditRecord(), agentChanged]);
      expect(await listed({ kind: 'signal' })).to.deep.equal([agentChanged, fork]);
    });

    it('gives a record without a detail none back', async () => {
      await store.appendAudit([anAuditRecord({ reason: 'absent' })]);
      for (const record of await listed()) expect(record, String(record.reason)).not.to.have.property('detail');
    });

    it('is not changed when the caller mutates a detail it appended or read', async () => {
      const signal = aSignal();
      await store.appendAudit([signal]);
      if (signal.detail) signal.detail.presented.ip = null;
      const [read] = await listed({ limit: 1 });
      if (read?.detail) read.detail.holder.agent = 'tampered';
      expect((await listed({ limit: 1 }))[0]?.detail).to.deep.equal(aSignalDetail());
    });

    it('is not changed when the caller mutates a confirmation it appended or read', async () => {
      const record = anAuditRecord({ confirmation: { confirmed: 2, expected: 3 } });
      await store.appendAudit([record]);
      if (record.confirmation) record.confirmation.confirmed = 0;
      const [read] = await listed({ limit: 1 });
      if (read?.confirmation) read.confirmation.expected = 0;
      expect((await listed({ limit: 1 }))[0]?.confirmation).to.deep.equal({ confirmed: 2, expected: 3 });
    });

    describe('filtered', () => {
      beforeEach(async () => {
        await store.appendAudit([anAuditRecord({ at: T0 + 1, kind: 'mint', accountId: 'user-1', reason: 'm1' })]);
        await store.appendAudit([anAuditRecord({ at: T0 + 2, kind: 'deny', accountId: 'user-2', reason: 'd2' })]);
        await store.appendAudit([anAuditRecord({ at: T0 + 3, kind: 'mint', accountId: 'user-2', reason: 'm2' })]);
        await store.appendAudit([anAuditRecord({ at: T0 + 4, kind: 'revoke', accountId: 'user-1', reason: 'r1' })]);
        await store.appendAudit([anAuditRecord({ at: T0 + 5, kind: 'mint', accountId: 'user-1', reason: 'm1b' })]);
        await store.appendAudit([anAuditRecord({ at: T0 + 6, kind: 'mint', clientKey: OTHER_TENANT, reason: 'other' })]);
      });

      async function reasons(fields: Partial<AuditQuery>): Promise<Array<string | null>> {
        return (await listed(fields)).map((record) => record.reason);
      }

      it('by kind', async () => {
        expect(await reasons({ kind: 'mint' })).to.deep.equal(['m1b', 'm2', 'm1']);
      });

      it('by user', async () => {
        expect(await reasons({ accountId: 'user-2' })).to.deep.equal(['m2', 'd2']);
      });

      it('from a time on, that time included', async () => {
        expect(await reasons({ since: T0 + 4 })).to.deep.equal(['m1b', 'r1']);
      });

      it('up to a time, that time excluded', async () => {
        expect(await reasons({ until: T0 + 2 })).to.deep.equal(['m1']);
      });

      it('before an id', async () => {
        const [, second] = (await store.listAudit({ clientKey: TENANT, limit: 10 })).records;
        expect(await reasons({ before: second?.id })).to.deep.equal(['m2', 'd2', 'm1']);
      });

      it('by every filter at once', async () => {
        expect(await reasons({ kind: 'mint', accountId: 'user-1', since: T0 + 1, until: T0 + 5 })).to.deep.equal(['m1']);
        expect(await reasons({ kind: 'mint', accountId: 'user-2', since: T0 + 4 })).to.deep.equal([]);
      });

      it('pages within a filter, skipping the records it leaves out', async () => {
        const first = await store.listAudit({ clientKey: TENANT, kind: 'mint', limit: 2 });
        expect(withoutIds(first.records).map((record) => record.reason)).to.deep.equal(['m1b', 'm2']);
        expect(first.nextBefore).to.equal(first.records[1]?.id);
        const second = await store.listAudit({ clientKey: TENANT, kind: 'mint', limit: 2, before: first.nextBefore ?? undefined });
        expect(withoutIds(second.records).map((record) => record.reason)).to.deep.equal(['m1']);
        expect(second.nextBefore).to.equal(null);
      });
    });

    it('pages through five records two at a time: 2, 2, then 1 and no nextBefore', async () => {
      for (let i = 1; i <= 5; i += 1) await store.appendAudit([anAuditRecord({ at: T0 + i })]);
      const pages: number[][] = [];
      let before: number | undefined;
      for (;;) {
        const page = await store.listAudit({ clientKey: TENANT, limit: 2, before });
        pages.push(page.records.map((record) => record.at));
        if (page.nextBefore === null) break;
        before = page.nextBefore;
      }
      expect(pages).to.deep.equal([[T0 + 5, T0 + 4], [T0 + 3, T0 + 2], [T0 + 1]]);
    });

    it('gives no nextBefore when the records exactly fill the page', async () => {
      await store.appendAudit([anAuditRecord()]);
      await store.appendAudit([anAuditRecord()]);
      const page = await store.listAudit({ clientKey: TENANT, limit: 2 });
      expect(page.records).to.have.length(2);
      expect(page.nextBefore).to.equal(null);
    });

    it('refuses a limit that is not a positive integer', async () => {
      for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(await rejectionOf(store.listAudit({ clientKey: TENANT, limit })), String(limit)).to.be.instanceOf(RangeError);
      }
    });
  });

  describe('audit retention', () => {
    async function remainingAts(): Promise<number[]> {
      return (await store.listAudit({ clientKey: TENANT, limit: 100 })).records.map((record) => record.at);
    }

    it('deletes the records older than the cutoff, of every tenant and none, and keeps the rest', async () => {
      await store.appendAudit([anAuditRecord({ at: T0 - 2 })]);
      await store.appendAudit([anAuditRecord({ at: T0 - 1, clientKey: OTHER_TENANT })]);
      await store.appendAudit([anAuditRecord({ at: T0 - 1, clientKey: null, kind: 'lifecycle' })]);
      await store.appendAudit([anAuditRecord({ at: T0 })]);
      await store.appendAudit([anAuditRecord({ at: T0 + 1 })]);
      expect(await store.deleteAuditBefore(T0, 100)).to.equal(3);
      expect(await remainingAts()).to.deep.equal([T0 + 1, T0]);
      expect((await store.listAudit({ clientKey: OTHER_TENANT, limit: 10 })).records).to.deep.equal([]);
    });

    it('deletes at most limit records per call, oldest first, until none is left', async () => {
      for (const at of [T0 - 3, T0 - 5, T0 - 1, T0 - 4, T0 - 2, T0]) await store.appendAudit([anAuditRecord({ at })]);
      expect(await store.deleteAuditBefore(T0, 2)).to.equal(2);
      expect(await remainingAts()).to.deep.equal([T0, T0 - 2, T0 - 1, T0 - 3]);
      expect(await store.deleteAuditBefore(T0, 2)).to.equal(2);
      expect(await store.deleteAuditBefore(T0, 2)).to.equal(1);
      expect(await store.deleteAuditBefore(T0, 2)).to.equal(0);
      expect(await remainingAts()).to.deep.equal([T0]);
    });

    it('refuses a limit that is not a positive integer', async () => {
      for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(await rejectionOf(store.deleteAuditBefore(T0, limit)), String(limit)).to.be.instanceOf(RangeError);
      }
    });
  });
});
