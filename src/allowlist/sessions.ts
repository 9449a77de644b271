/**
 * Sessions as admins and users see them: a tenant's live page tokens, listed and ended.
 * Admins end a user's or the whole site's; a user ends one of their own, or all but the one in hand.
 */
import type { Allowlist, Grant, Revocation } from './allowlist';
import type { AllowlistEntry, Clock, EntryPage, SessionListing } from './types';

export interface SessionFilter {
  accountId?: string;
  resource?: string;
  after?: string;
  limit: number;
}

/** Sessions of one user, as many as a person plausibly holds; more would be a bug or an attack, not a list to read. */
export const MAX_OWN_SESSIONS = 200;

export interface Sessions {
  list(clientKey: string, filter: SessionFilter): Promise<EntryPage>;
  /** The caller's own live sessions, newest first. */
  listOwn(grant: Grant): Promise<AllowlistEntry[]>;
  /** Ends one of the caller's own live sessions; null when `id` is not one. */
  endOwn(grant: Grant, id: string): Promise<Revocation | null>;
  /** Ends every session of the caller but the one making the call. */
  endOwnOthers(grant: Grant): Promise<Revocation>;
  /** Ends every session of a user; null when the store never heard of them. */
  revokeUser(clientKey: string, accountId: string, actor: string): Promise<Revocation | null>;
  resetTenant(clientKey: string, actor: string): Promise<Revocation>;
}

export function createSessions(deps: { store: SessionListing; clock: Clock; allowlist: Allowlist }): Sessions {
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

    async revokeUser(clientKey, accountId, actor) {
      if (!(await store.isKnownUser(clientKey, accountId))) return null;
      return allowlist.revoke({ kind: 'user', clientKey, accountId }, { actor, reason: 'admin_revoked_user' });
    },

    resetTenant: (clientKey, actor) => allowlist.revoke({ kind: 'tenant', clientKey }, { actor, reason: 'admin_reset_site' }),
  };
}
