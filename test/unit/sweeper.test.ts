/** The expiry sweep: what it deletes, in what batches, and that it never runs twice at once on a node. */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { ManualClock } from '../../src/base/clock';
import { createSweeper, nextBatchSize, SWEEP_GRACE_MS } from '../../src/allowlist/sweeper';
import { valueOf } from '../support/results';

/** Sweeps here never meet a failing store unless a test says so. */
const NO_REPORT = () => undefined;
import type { AllowlistEntry } from '../../src/allowlist/types';
import { MemoryStore } from '../../src/store/memory-store';

const NOW = Date.UTC(2026, 10, 23, 12);
const DAY = 24 * 60 * 60 * 1000;

function entry(label: string, expiresAt: number): AllowlistEntry {
  return {
    idHash: createHash('sha256').update(label).digest('hex'),
    clientKey: 'site-a',
    accountId: 'alice',
    resource: 'jira:issue:10001',
    parent: 'jira:project:10000',
    createdAt: expiresAt - 600_000,
    expiresAt,
    lastSeenAt: expiresAt - 600_000,
    ip: null,
    userAgent: null,
    revokedAt: null,
    revokeReason: null,
    chain: null,
    boundKey: null,
  };
}

describe('expiry sweep', () => {
  let store: MemoryStore;
  let clock: ManualClock;

  beforeEach(async () => {
    store = new MemoryStore();
    clock = new ManualClock(NOW);
    for (let i = 0; i < 5; i += 1) await store.insertEntry(entry(`old-${i}`, NOW - SWEEP_GRACE_MS - 1 - i));
    await store.insertEntry(entry('recently-expired', NOW - SWEEP_GRACE_MS + 1));
    await store.insertEntry(entry('live', NOW + 60_000));
  });

  it('deletes every entry expired over an hour ago, in batches with a pause between them', async () => {
    let pauses = 0;
    const sweeper = createSweeper({ store, clock, batchSize: 2, pause: async () => void (pauses += 1), onStoreFailure: NO_REPORT });
    expect(valueOf(await sweeper.sweep()).entries).to.equal(5);
    // Batches of 2, 2 and 1: the short last batch ends the sweep without another pause.
    expect(pauses).to.equal(2);
    expect(await store.loadEntryState(entry('recently-expired', 0).idHash)).to.not.equal(null);
    expect(await store.loadEntryState(entry('live', 0).idHash)).to.not.equal(null);
    expect(await store.loadEntryState(entry('old-0', 0).idHash)).to.equal(null);
  });

  it('finds nothing more to do on a second sweep', async () => {
    const sweeper = createSweeper({ store, clock, batchSize: 100, onStoreFailure: NO_REPORT });
    await sweeper.sweep();
    expect(valueOf(await sweeper.sweep()).entries).to.equal(0);
  });

  it('deletes audit records past their retention, and only those', async () => {
    const record = (at: number) => ({ at, kind: 'mint' as const, clientKey: 'site-a', accountId: 'alice', actor: null, reason: null, resource: null, count: 1, confirmation: null });
    await store.appendAudit([record(NOW - 10 * DAY), record(NOW - 10 * DAY + 1), record(NOW - DAY)]);
    const sweeper = createSweeper({ store, clock, auditRetentionMs: 7 * DAY, batchSize: 1, pause: async () => undefined, onStoreFailure: NO_REPORT });
    expect(valueOf(await sweeper.sweep()).auditRecords).to.equal(2);
    expect((await store.listAudit({ clientKey: 'site-a', limit: 10 })).records.map((r) => r.at)).to.deep.equal([NOW - DAY]);
  });

  it('deletes replay claims once they expire, and keeps live ones so a replay stays refused', async () => {
    await store.claimOnce('lifecycle_jwt', 'spent', NOW - 1, NOW - DAY);
    await store.claimOnce('lifecycle_jwt', 'live', NOW + 60_000, NOW);
    expect(valueOf(await createSweeper({ store, clock, onStoreFailure: NO_REPORT }).sweep()).replayClaims).to.equal(1);
    expect(await store.isClaimed('lifecycle_jwt', 'live', NOW)).to.equal(true);
    expect(await store.claimOnce('lifecycle_jwt', 'live', NOW + 60_000, NOW)).to.equal(false);
  });

  it('lets a sweep asked for while one runs join it instead of starting another', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let batches = 0;
    const counting = {
      sweepExpired: (before: number, limit: number) => ((batches += 1), store.sweepExpired(before, limit)),
      deleteAuditBefore: (before: number, limit: number) => store.deleteAuditBefore(before, limit),
      sweepClaims: (before: number, limit: number) => store.sweepClaims(before, limit),
    };
    const sweeper = createSweeper({ store: counting, clock, batchSize: 2, pause: () => held, onStoreFailure: NO_REPORT });
    const first = sweeper.sweep();
    const second = sweeper.sweep();
    release();
    expect((await Promise.all([first, second])).map((result) => valueOf(result).entries)).to.deep.equal([5, 5]);
    expect(batches).to.equal(3);
  });

  it('shrinks its batches to take about BATCH_TARGET_MS each when deletes are slow, and grows them back when fast', async () => {
    // A table where each row costs 0.2 ms to delete, then (from 3,000 rows on) 0.01 ms.
    let left = 6_000;
    const sizes: number[] = [];
    const slowStore = {
      async sweepExpired(_before: number, limit: number) {
        sizes.push(limit);
        const deleted = Math.min(limit, left);
        clock.advance(deleted * (left > 3_000 ? 0.2 : 0.01));
        left -= deleted;
        return deleted;
      },
      deleteAuditBefore: async () => 0,
      sweepClaims: async () => 0,
    };
    const sweeper = createSweeper({ store: slowStore, clock, batchSize: 1_000, pause: async () => undefined, onStoreFailure: NO_REPORT });
    expect(valueOf(await sweeper.sweep()).entries).to.equal(6_000);
    expect(sizes.slice(0, 3)).to.deep.equal([1_000, 100, 100]);
    expect(sizes.every((size) => size <= 1_000)).to.equal(true);
    expect(Math.max(...sizes.slice(-3))).to.equal(1_000);
  });

  it('never goes below 50 rows a batch, nor above its configured size', () => {
    expect(nextBatchSize(100, 10_000, 1_000)).to.equal(50);
    expect(nextBatchSize(1_000, 1, 1_000)).to.equal(1_000);
    expect(nextBatchSize(200, 0, 1_000)).to.equal(400);
    expect(nextBatchSize(10, 0, 10)).to.equal(10);
  });
});

describe('a sweep on a failing store', () => {
  it('answers store_unavailable, reported once, instead of rejecting', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 23, 12));
    const reported: string[] = [];
    const failing = {
      sweepExpired: () => Promise.reject(new Error('store down')),
      sweepClaims: async () => 0,
      deleteAuditBefore: async () => 0,
    };
    const sweeper = createSweeper({ store: failing, clock, onStoreFailure: (verb) => reported.push(verb) });
    expect(await sweeper.sweep()).to.deep.equal({ ok: false, code: 'store_unavailable' });
    expect(reported).to.deep.equal(['sweep']);
  });
});
