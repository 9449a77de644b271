/** The node's cache of entry states: trusted for its TTL at most, capped, and emptied of expired states a batch at a time. */
import { expect } from 'chai';
import type { CachedEntryState } from '../../src/cache/entry-cache';
import { NodeEntryCache } from '../../src/cache/entry-cache';

const T0 = 1_700_000_000_000;

function aState(idHash: string): CachedEntryState {
  const entry = {
    idHash,
    clientKey: 'site-a',
    accountId: 'alice',
    resource: 'jira:issue:10001',
    parent: 'jira:project:10000',
    createdAt: T0,
    expiresAt: T0 + 3_600_000,
    lastSeenAt: T0,
    ip: null,
    userAgent: null,
    revokedAt: null,
    revokeReason: null,
    chain: null,
    boundKey: null,
  };
  return { state: { entry, tenantStatus: 'enabled', policy: null, newestRemovalAt: null }, stamp: 1, keys: { tenant: 'site-a', user: 'alice', resource: entry.resource, parent: entry.parent } };
}

describe('NodeEntryCache', () => {
  let now: number;
  let cache: NodeEntryCache;

  function open(maxEntries = 10_000): NodeEntryCache {
    cache = new NodeEntryCache({ ttlSeconds: 30, maxEntries, now: () => now });
    return cache;
  }

  beforeEach(() => {
    now = T0;
  });

  afterEach(() => {
    cache.close();
  });

  it('serves a state until its TTL has passed, and not from then on', () => {
    open().set('a', aState('a'));
    now = T0 + 29_999;
    expect(cache.get('a')?.state.entry.idHash).to.equal('a');
    now = T0 + 30_000;
    expect(cache.get('a')).to.equal(undefined);
  });

  it('gives a state set again a TTL from its last set', () => {
    open().set('a', aState('a'));
    now = T0 + 20_000;
    cache.set('a', aState('a'));
    now = T0 + 45_000;
    expect(cache.get('a')?.state.entry.idHash).to.equal('a');
    expect(cache.dropExpired()).to.equal(0);
  });

  it('drops only expired states, oldest first, at most a batch at a time', () => {
    open();
    for (let i = 0; i < 1_200; i++) cache.set(`old-${i}`, aState(`old-${i}`));
    now = T0 + 10_000;
    cache.set('young', aState('young'));
    now = T0 + 30_000;
    expect(cache.dropExpired()).to.equal(500);
    expect(cache.dropExpired()).to.equal(500);
    expect(cache.dropExpired()).to.equal(200);
    expect(cache.dropExpired()).to.equal(0);
    expect(cache.get('young')?.state.entry.idHash).to.equal('young');
  });

  it('frees the room of dropped states for new ones under its cap', () => {
    open(2);
    cache.set('a', aState('a'));
    cache.set('b', aState('b'));
    cache.set('c', aState('c'));
    expect(cache.get('c')).to.equal(undefined);
    now = T0 + 30_000;
    cache.dropExpired();
    cache.set('c', aState('c'));
    expect(cache.get('c')?.state.entry.idHash).to.equal('c');
  });

  it('forgets a deleted state and every state when cleared', () => {
    open();
    cache.set('a', aState('a'));
    cache.set('b', aState('b'));
    cache.delete('a');
    expect(cache.get('a')).to.equal(undefined);
    cache.clear();
    expect(cache.get('b')).to.equal(undefined);
    now = T0 + 30_000;
    expect(cache.dropExpired()).to.equal(0);
  });
});
