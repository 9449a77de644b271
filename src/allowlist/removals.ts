/**
 * Removals from the host: users removed or restored, issues and projects
 * deleted. Each writes a tombstone and revokes, never revoking before the
 * tombstone is visible, so that a page token minted concurrently is dead either way. Events are ordered by the host's
 * timestamp; one no newer than what a subject has already seen changes nothing,
 * and the store decides that atomically, so concurrent events settle on the newest.
 * A store that cannot be written answers `store_unavailable`; the host retries, and the retry finishes the job.
 */
import type { Allowlist, RevokeCause } from './allowlist';
import { noticeOf } from './notices';
import { ok, settleResult, type Settled, type StoreFailureReport } from '../base/result';
import type { Clock, Confirmation, EpochMs, RevokeScope, Tombstone, TombstoneKind, TombstoneStore } from './types';

export interface RemovalDeps {
  store: TombstoneStore;
  clock: Clock;
  allowlist: Allowlist;
  onStoreFailure: StoreFailureReport;
}

/**
 * `applied` says whether the event changed what the store knows: false for an event older than (or as old
 * as) the last one applied to its subject. `confirmation` is set whenever a revocation was announced to the
 * nodes: for a removal, and for the retry of the very removal that stands.
 */
export interface RemovalOutcome {
  applied: boolean;
  revoked: number;
  confirmation: Confirmation | null;
}

export interface Removals {
  removeUser(clientKey: string, accountId: string, eventAt: EpochMs, cause: RevokeCause): Promise<Settled<RemovalOutcome>>;
  restoreUser(clientKey: string, accountId: string, eventAt: EpochMs): Promise<Settled<RemovalOutcome>>;
  removeResource(clientKey: string, resource: string, eventAt: EpochMs, cause: RevokeCause): Promise<Settled<RemovalOutcome>>;
}

const IGNORED = ok<RemovalOutcome>({ applied: false, revoked: 0, confirmation: null });

export function createRemovals(deps: RemovalDeps): Removals {
  const { store, clock, allowlist } = deps;
  // A revocation's own failure was reported where it happened; the tombstone's reads and writes are reported here.
  const settled = (verb: string, work: () => Promise<Settled<RemovalOutcome>>) => settleResult(deps.onStoreFailure, verb, work);

  async function remove(
    clientKey: string,
    kind: TombstoneKind,
    subject: string,
    eventAt: EpochMs,
    cause: RevokeCause,
  ): Promise<Settled<RemovalOutcome>> {
    const scope: RevokeScope =
      kind === 'user' ? { kind, clientKey, accountId: subject } : { kind, clientKey, resource: subject };
    const at = clock.now();
    const tombstone: Tombstone = { clientKey, kind, subject, removedAt: at, removedEventAt: eventAt, liftedAt: null, lastEventAt: eventAt };
    // Tombstone and revocation in one write where the store can (one commit on SQLite), the tombstone first where it cannot.
    const removal = await store.putTombstoneAndRevoke(tombstone, scope, cause.reason, noticeOf(scope, cause));
    if (!removal.written) {
      // The host retries a webhook it got no answer to. If a node stopped between the tombstone and the
      // broadcast, the retry of that same event must finish the job: revoke and announce again (idempotent).
      const stored = await store.getTombstone(clientKey, kind, subject);
      if (stored === null || stored.liftedAt !== null || stored.lastEventAt !== eventAt) return IGNORED;
      const again = await allowlist.revoke(scope, cause);
      if (!again.ok) return again;
      return ok({ applied: false, revoked: again.value.count, confirmation: again.value.confirmation });
    }
    const revocation = await allowlist.announce(scope, cause, { at, count: removal.ended });
    if (!revocation.ok) return revocation;
    return ok({ applied: true, revoked: revocation.value.count, confirmation: revocation.value.confirmation });
  }

  return {
    removeUser: (clientKey, accountId, eventAt, cause) => settled('remove user', () => remove(clientKey, 'user', accountId, eventAt, cause)),
    removeResource: (clientKey, resource, eventAt, cause) => settled('remove resource', () => remove(clientKey, 'resource', resource, eventAt, cause)),

    // Lifting keeps the removal times: entries and Connect JWTs from before the removal stay dead.
    restoreUser: (clientKey, accountId, eventAt) => settled('restore user', async () => {
      const existing = await store.getTombstone(clientKey, 'user', accountId);
      if (existing !== null && eventAt <= existing.lastEventAt) return IGNORED;
      // Recorded even when the user was never removed, so that a late, older removal is ignored.
      const lifted: Tombstone = {
        clientKey,
        kind: 'user',
        subject: accountId,
        removedAt: existing?.removedAt ?? 0,
        removedEventAt: existing?.removedEventAt ?? 0,
        liftedAt: clock.now(),
        lastEventAt: eventAt,
      };
      // A newer event for the user may land between the read and this write; then it wins.
      return (await store.putTombstone(lifted)) ? ok({ applied: true, revoked: 0, confirmation: null }) : IGNORED;
    }),
  };
}
