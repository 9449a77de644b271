/**
 * The sessions this node's open pages are watching: when a scope any node announced covers one, it is read again
 * from the store, and every watcher of a session that no longer stands hears why. Knows nothing of how a page listens.
 */
import { endedBy } from './allowlist';
import type { Lookup } from './entry-states';
import { fail, ok, type DenyCode, type Result } from '../base/result';
import type { Clock, EntryState, Policy, RevokeScope } from './types';

/** One page session, as its grant names it. */
export interface WatchedSession {
  idHash: string;
  clientKey: string;
  accountId: string;
  resource: string;
  parent: string | null;
}

/** One open page's ear on its session. */
export interface Watcher {
  /** The session no longer stands, for `code`; the watcher is already dropped. */
  ended(code: DenyCode): void;
  /** The same session opened a newer watcher past the per-session bound; this one is dropped. */
  superseded(): void;
}

/** What the registry reports, for metrics. */
export interface LiveObserver {
  watching(count: number): void;
  ended(code: DenyCode): void;
}

export interface LiveSessionsDeps {
  /** The session's state as the store has it now (EntryStates.read). */
  read(idHash: string): Promise<Lookup>;
  clock: Clock;
  defaultPolicy: Policy;
  /** At most this many watchers on this node; more are refused. */
  max: number;
  /** At most this many per session; a newer one drops the oldest (a page reconnecting before its old stream was noticed gone). */
  perSession: number;
  observer?: LiveObserver;
}

export interface LiveSessions {
  /** Starts watching; `channels_full` when the node holds `max` already. Resolves to the way to stop. */
  watch(session: WatchedSession, watcher: Watcher): Result<() => void, 'channels_full'>;
  /** A scope was announced (by any node): re-read the sessions it covers. */
  announced(scope: RevokeScope): void;
  /** How many watchers this node holds. */
  size(): number;
  /** Re-reads still running or queued (tests wait for none). */
  pending(): number;
}

/** Store reads at once for re-checks: a tenant-wide announcement must not take the whole pool from checks. */
const CONCURRENT_READS = 16;

/**
 * A watcher starts after the check that let its page in; an announcement heard between that check's read and the
 * watcher's start would otherwise pass it by. A watcher starting within this long of an announcement for its tenant
 * is read once more. Longer than any check's store read, short enough that a steady page never pays for it.
 */
export const ANNOUNCEMENT_OVERLAP_MS = 5_000;

function covers(scope: RevokeScope, session: WatchedSession): boolean {
  switch (scope.kind) {
    case 'token':
    case 'session':
      return scope.idHash === session.idHash;
    case 'user':
      return scope.accountId === session.accountId && scope.except !== session.idHash;
    case 'resource':
      return scope.resource === session.resource || scope.resource === session.parent;
    case 'tenant':
      return true;
  }
}

export function createLiveSessions(deps: LiveSessionsDeps): LiveSessions {
  const sessions = new Map<string, { session: WatchedSession; watchers: Watcher[] }>();
  // Sessions by tenant, so that an announcement looks only at its own tenant's.
  const byTenant = new Map<string, Set<string>>();
  let count = 0;
  // Sessions to read again; one read at a time per session, and one more after it when announced meanwhile.
  const queued = new Set<string>();
  const reading = new Set<string>();
  const again = new Set<string>();
  let running = 0;
  const observe = deps.observer;
  // When each tenant last had a scope announced, for watchers that start right after (ANNOUNCEMENT_OVERLAP_MS).
  const lastAnnounced = new Map<string, number>();

  function changed(by: number): void {
    count += by;
    observe?.watching(count);
  }

  function drop(idHash: string, watcher: Watcher): boolean {
    const held = sessions.get(idHash);
    const at = held?.watchers.indexOf(watcher) ?? -1;
    if (held === undefined || at < 0) return false;
    held.watchers.splice(at, 1);
    changed(-1);
    if (held.watchers.length === 0) {
      sessions.delete(idHash);
      const tenant = byTenant.get(held.session.clientKey);
      tenant?.delete(idHash);
      if (tenant?.size === 0) byTenant.delete(held.session.clientKey);
    }
    return true;
  }

  function end(idHash: string, code: DenyCode): void {
    const held = sessions.get(idHash);
    if (held === undefined) return;
    for (const watcher of [...held.watchers]) {
      if (!drop(idHash, watcher)) continue;
      observe?.ended(code);
      watcher.ended(code);
    }
  }

  function verdict(lookup: Lookup): DenyCode | null {
    // A store that cannot answer says nothing about the session: the page's next call decides (fail closed there).
    if (!lookup.ok) return null;
    if (lookup.value === null) return 'token_revoked';
    const state: EntryState = lookup.value.state;
    return endedBy(state, deps.clock.now(), state.policy ?? deps.defaultPolicy);
  }

  function pump(): void {
    for (const idHash of queued) {
      if (running >= CONCURRENT_READS) return;
      queued.delete(idHash);
      if (!sessions.has(idHash)) continue;
      running += 1;
      reading.add(idHash);
      deps
        .read(idHash)
        .then(verdict, () => null)
        .then((code) => {
          running -= 1;
          reading.delete(idHash);
          if (code !== null) end(idHash, code);
          // Announced while it was read: what was read may predate that change.
          if (again.delete(idHash)) recheck(idHash);
          pump();
        });
    }
  }

  function recheck(idHash: string): void {
    if (reading.has(idHash)) again.add(idHash);
    else queued.add(idHash);
  }

  return {
    watch(session, watcher) {
      if (count >= deps.max) return fail('channels_full');
      let held = sessions.get(session.idHash);
      if (held === undefined) {
        held = { session, watchers: [] };
        sessions.set(session.idHash, held);
        let tenant = byTenant.get(session.clientKey);
        if (tenant === undefined) byTenant.set(session.clientKey, (tenant = new Set()));
        tenant.add(session.idHash);
      }
      held.watchers.push(watcher);
      changed(1);
      const oldest = held.watchers.length > deps.perSession ? held.watchers[0] : undefined;
      if (oldest !== undefined && drop(session.idHash, oldest)) oldest.superseded();
      const announcedAt = lastAnnounced.get(session.clientKey);
      if (announcedAt !== undefined && deps.clock.now() - announcedAt <= ANNOUNCEMENT_OVERLAP_MS) {
        recheck(session.idHash);
        pump();
      }
      return ok(() => void drop(session.idHash, watcher));
    },

    announced(scope) {
      // A token scope names no tenant; the sessions it covers are watched already or read at their next check.
      if (scope.kind !== 'token') lastAnnounced.set(scope.clientKey, deps.clock.now());
      if (count === 0) return;
      if (scope.kind === 'token') {
        if (sessions.has(scope.idHash)) recheck(scope.idHash);
      } else {
        for (const idHash of byTenant.get(scope.clientKey) ?? []) {
          const held = sessions.get(idHash);
          if (held !== undefined && covers(scope, held.session)) recheck(idHash);
        }
      }
      pump();
    },

    size: () => count,
    pending: () => queued.size + running,
  };
}
