/**
 * Sessions as admins and users see them: a tenant's live page tokens, listed and ended.
 * Admins end a user's or the whole site's; a user ends one of their own, or all but the one in hand,
 * and reads what theft detection noticed about their sessions.
 */
import type { Allowlist, Grant, Revocation } from './allowlist';
import { ok, settle, settleResult, type Settled, type StoreFailureReport } from '../base/result';
import type { AllowlistEntry, AuditStore, Clock, EntryPage, EpochMs, SessionListing, SignalDetail } from './types';

export interface SessionFilter {
  accountId?: string;
  resource?: string;
  after?: string;
  limit: number;
}

/** Sessions of one user, as many as a person plausibly holds; more would be a bug or an attack, not a list to read. */
export const MAX_OWN_SESSIONS = 200;

/** The newest signals a user is shown about their own sessions; older ones stay in the audit for admins. */
export const MAX_OWN_SIGNALS = 50;

/** A theft signal about one of a user's sessions, as the audit recorded it. */
export interface OwnSignal extends SignalDetail {
  at: EpochMs;
  /** What the session was opened on. */
  resource: string | null;
}

/** Every verb resolves to its value or `store_unavailable`; "no such session or user" is a null value, not a failure. */
export interface Sessions {
  list(clientKey: string, filter: SessionFilter): Promise<Settled<EntryPage>>;
  /** How many live sessions the site has now. */
  countLive(clientKey: string): Promise<Settled<number>>;
  /** The caller's own live sessions, newest first. */
  listOwn(grant: Grant): Promise<Settled<AllowlistEntry[]>>;
  /** Ends one of the caller's own live sessions; null when `id` is not one. */
  endOwn(grant: Grant, id: string): Promise<Settled<Revocation | null>>;
  /** Ends every session of the caller but the one making the call. */
  endOwnOthers(grant: Grant): Promise<Settled<Revocation>>;
  /** What theft detection recorded about the caller's sessions on this site, newest first. */
  listOwnSignals(grant: Grant): Promise<Settled<OwnSignal[]>>;
  /** Whether the store ever heard of the user on the site: any session, live or ended, or a removal. */
  knowsUser(clientKey: string, accountId: string): Promise<Settled<boolean>>;
  /** Ends one live session of a user, for an admin (a device's pages are ended one by one); null when it is not one. */
  endSession(clientKey: string, accountId: string, id: string, actor: string): Promise<Settled<Revocation | null>>;
  /** Ends every session of a user; null when the store never heard of them. */
  revokeUser(clientKey: string, accountId: string, actor: string): Promise<Settled<Revocation | null>>;
  resetTenant(clientKey: string, actor: string): Promise<Settled<Revocation>>;
}

export function createSessions(deps: {
  store: SessionListing & Pick<AuditStore, 'listAudit'>;
  clock: Clock;
  allowlist: Allowlist;
  onStoreFailure: StoreFailureReport;
}): Sessions {
  const { store, clock, allowlist } = deps;
  const settled = <T>(verb: string, work: () => Promise<T>) => settle(deps.onStoreFailure, verb, work);
  // Work that ends in a revocation answers the revocation's Result: a store failure in it was reported there.
  const settledRevocation = <T>(verb: string, work: () => Promise<Settled<T>>) => settleResult(deps.onStoreFailure, verb, work);
  return {
    list: (clientKey, filter) => settled('list sessions', () => store.listEntries({ clientKey, ...filter, now: clock.now() })),

    countLive: (clientKey) => settled('count live sessions', () => store.countLiveEntries(clock.now(), clientKey)),

    listOwn: ({ entry }) =>
      settled('list own sessions', async () => {
        const page = await store.listEntries({ clientKey: entry.clientKey, accountId: entry.accountId, now: clock.now(), limit: MAX_OWN_SESSIONS });
        return page.entries;
      }),

    async endOwn({ entry }, id) {
      const scope = { kind: 'session', clientKey: entry.clientKey, accountId: entry.accountId, idHash: id } as const;
      // The store ends it only if it is the caller's and live, so nobody ends another user's session this way.
      const revocation = await allowlist.revoke(scope, { actor: `user:${entry.accountId}`, reason: 'user_ended_session' });
      if (!revocation.ok) return revocation;
      return ok(revocation.value.count === 0 ? null : revocation.value);
    },

    endOwnOthers: ({ entry }) =>
      allowlist.revoke(
        { kind: 'user', clientKey: entry.clientKey, accountId: entry.accountId, except: entry.idHash },
        { actor: `user:${entry.accountId}`, reason: 'user_ended_other_sessions' },
      ),

    listOwnSignals: ({ entry }) =>
      settled('list own signals', async () => {
        const page = await store.listAudit({ clientKey: entry.clientKey, accountId: entry.accountId, kind: 'signal', limit: MAX_OWN_SIGNALS });
        const signals: OwnSignal[] = [];
        for (const record of page.records) {
          if (record.detail) signals.push({ ...record.detail, at: record.at, resource: record.resource });
        }
        return signals;
      }),

    knowsUser: (clientKey, accountId) => settled('look up user', () => store.isKnownUser(clientKey, accountId)),

    async endSession(clientKey, accountId, id, actor) {
      // The store ends it only if it is this user's on this site and live.
      const revocation = await allowlist.revoke({ kind: 'session', clientKey, accountId, idHash: id }, { actor, reason: 'admin_ended_session' });
      if (!revocation.ok) return revocation;
      return ok(revocation.value.count === 0 ? null : revocation.value);
    },

    revokeUser: (clientKey, accountId, actor) =>
      settledRevocation<Revocation | null>('revoke user', async () => {
        if (!(await store.isKnownUser(clientKey, accountId))) return ok(null);
        return allowlist.revoke({ kind: 'user', clientKey, accountId }, { actor, reason: 'admin_revoked_user' });
      }),

    resetTenant: (clientKey, actor) => allowlist.revoke({ kind: 'tenant', clientKey }, { actor, reason: 'admin_reset_site' }),
  };
}
