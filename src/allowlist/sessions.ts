/**
 * Sessions as admins and users see them: a tenant's live page tokens, listed and ended.
 * Admins end a user's or the whole site's; a user ends one of their own, or all but the one in hand,
 * and reads what theft detection noticed about their sessions.
 */
import type { Allowlist, Grant, Revocation } from './allowlist';
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

export interface Sessions {
  list(clientKey: string, filter: SessionFilter): Promise<EntryPage>;
  /** The caller's own live sessions, newest first. */
  listOwn(grant: Grant): Promise<AllowlistEntry[]>;
  /** Ends one of the caller's own live sessions; null when `id` is not one. */
  endOwn(grant: Grant, id: string): Promise<Revocation | null>;
  /** Ends every session of the caller but the one making the call. */
  endOwnOthers(grant: Grant): Promise<Revocation>;
  /** What theft detection recorded about the caller's sessions on this site, newest first. */
  listOwnSignals(grant: Grant): Promise<OwnSignal[]>;
  /** Ends one live session of a user, for an admin (a device's pages are ended one by one); null when it is not one. */
  endSession(clientKey: string, accountId: string, id: string, actor: string): Promise<Revocation | null>;
  /** Ends every session of a user; null when the store never heard of them. */
  revokeUser(clientKey: string, accountId: string, actor: string): Promise<Revocation | null>;
  resetTenant(clientKey: string, actor: string): Promise<Revocation>;
}

export function createSessions(deps: { store: SessionListing & Pick<AuditStore, 'listAudit'>; clock: Clock; allowlist: Allowlist }): Sessions {
  const { store, clock, allowlist } = deps;
  return {
    list: (clientKey, filter) => store.listEntries({ clientKey, ...filter, now: clock.now() }),

    async listOwn({ entry }) {
      const page = await store.listEntries({ clientKey: entry.clientKey, accountId: entry.accountId, now: clock.now(), limit: MAX_OWN_SESSIONS });
      return page.entries;
    },

    async endOwn({ entry }, id) {
      const scope = { kind: 'session', clientKey: entry.clientKey, accountId: entry.accountId, idHash: id } as const;
      // The store ends it only if it is the caller's and live, so nobody ends another user's session this way.
      const revocation = await allowlist.revoke(scope, { actor: `user:${entry.accountId}`, reason: 'user_ended_session' });
      return revocation.count === 0 ? null : revocation;
    },

    endOwnOthers: ({ entry }) =>
      allowlist.revoke(
        { kind: 'user', clientKey: entry.clientKey, accountId: entry.accountId, except: entry.idHash },
        { actor: `user:${entry.accountId}`, reason: 'user_ended_other_sessions' },
      ),

    async listOwnSignals({ entry }) {
      const page = await store.listAudit({ clientKey: entry.clientKey, accountId: entry.accountId, kind: 'signal', limit: MAX_OWN_SIGNALS });
      const signals: OwnSignal[] = [];
      for (const record of page.records) {
        if (record.detail) signals.push({ ...record.detail, at: record.at, resource: record.resource });
      }
      return signals;
    },

    async endSession(clientKey, accountId, id, actor) {
      // The store ends it only if it is this user's on this site and live.
      const revocation = await allowlist.revoke({ kind: 'session', clientKey, accountId, idHash: id }, { actor, reason: 'admin_ended_session' });
      return revocation.count === 0 ? null : revocation;
    },

    async revokeUser(clientKey, accountId, actor) {
      if (!(await store.isKnownUser(clientKey, accountId))) return null;
      return allowlist.revoke({ kind: 'user', clientKey, accountId }, { actor, reason: 'admin_revoked_user' });
    },

    resetTenant: (clientKey, actor) => allowlist.revoke({ kind: 'tenant', clientKey }, { actor, reason: 'admin_reset_site' }),
  };
}
