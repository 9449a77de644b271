import { expect } from 'chai';
import { defaultPolicyOf } from '../../src/allowlist/assemble';
import type { Lookup } from '../../src/allowlist/entry-states';
import { ANNOUNCEMENT_OVERLAP_MS, createLiveSessions, type LiveSessions, type WatchedSession } from '../../src/allowlist/live-sessions';
import { ManualClock } from '../../src/base/clock';
import { fail, ok, type DenyCode } from '../../src/base/result';

const SESSION: WatchedSession = { idHash: 'a'.repeat(64), clientKey: 'site-a', accountId: 'alice', resource: 'jira:issue:10001', parent: null };

/** A registry over a fake store: sessions in `revoked` read as gone; the rest as unreadable, which ends nothing. */
function registry(clock: ManualClock) {
  const revoked = new Set<string>();
  const reads: string[] = [];
  const live = createLiveSessions({
    read: async (idHash): Promise<Lookup> => {
      reads.push(idHash);
      return revoked.has(idHash) ? ok(null) : fail('store_unavailable');
    },
    clock,
    defaultPolicy: defaultPolicyOf(600),
    max: 10,
    perSession: 3,
  });
  return { live, revoked, reads };
}

function listen(live: LiveSessions): DenyCode[] {
  const heard: DenyCode[] = [];
  const watched = live.watch(SESSION, { ended: (code) => heard.push(code), superseded: () => undefined });
  expect(watched.ok).to.equal(true);
  return heard;
}

async function settled(live: LiveSessions): Promise<void> {
  for (let i = 0; i < 10 && live.pending() > 0; i += 1) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

describe('live sessions: the watchers of open pages', () => {
  it('tells a watcher its session ended when an announced scope covers it and the store says so', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 1, 12));
    const { live, revoked } = registry(clock);
    const heard = listen(live);
    revoked.add(SESSION.idHash);
    live.announced({ kind: 'user', clientKey: SESSION.clientKey, accountId: SESSION.accountId });
    await settled(live);
    expect(heard).to.deep.equal(['token_revoked']);
    expect(live.size()).to.equal(0);
  });

  it('reads a session again when its watcher starts just after an announcement for its site, which it would otherwise have missed', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 1, 12));
    const { live, revoked, reads } = registry(clock);
    // The page's check read the session before the revocation; the announcement came before its watcher started.
    revoked.add(SESSION.idHash);
    live.announced({ kind: 'user', clientKey: SESSION.clientKey, accountId: SESSION.accountId });
    clock.advance(ANNOUNCEMENT_OVERLAP_MS);
    const heard = listen(live);
    await settled(live);
    expect(reads).to.deep.equal([SESSION.idHash]);
    expect(heard).to.deep.equal(['token_revoked']);
  });

  it('does not read a session whose watcher starts long after its site last had an announcement, nor one of another site', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 1, 12));
    const { live, reads } = registry(clock);
    live.announced({ kind: 'user', clientKey: SESSION.clientKey, accountId: 'bob' });
    live.announced({ kind: 'tenant', clientKey: 'site-b' });
    clock.advance(ANNOUNCEMENT_OVERLAP_MS + 1);
    const heard = listen(live);
    live.announced({ kind: 'tenant', clientKey: 'site-b' });
    await settled(live);
    expect(reads).to.deep.equal([]);
    expect(heard).to.deep.equal([]);
    expect(live.size()).to.equal(1);
  });
});
