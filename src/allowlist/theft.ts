/**
 * What theft detection does once rotation has noticed something: a fork (a stale token used) or a session
 * moving to another network or browser. Each is recorded with both sides and ended or only reported, as the
 * site's policy says.
 */
import type { RevokeCause, Revocation } from './allowlist';
import type { AuditLog } from './audit';
import { agentOf, changesBetween, networkOf, type NetworkPrefixes } from './network';
import type { AllowlistEntry, EpochMs, Policy, RevokeScope, SignalDetail, SignalKind, Sighting } from './types';

/** Where a call came from, as the front door read it. */
export interface Origin {
  ip: string | null;
  userAgent: string | null;
}

/** The revocation cause of a session ended for theft; a refusal of its tokens then says `token_forked`. */
export const THEFT_CAUSE: RevokeCause = { actor: 'theft-detection', reason: 'theft_suspected' };

export interface TheftObserver {
  signalled(kind: SignalKind, action: SignalDetail['action']): void;
}

export interface TheftDeps {
  audit: AuditLog;
  prefixes: NetworkPrefixes;
  /** Ends the entries in scope in the store; resolves how many this call ended (none when another ended them first). */
  end(scope: RevokeScope, cause: RevokeCause, at: EpochMs): Promise<number>;
  /** Tells every node and the audit about entries `end` ended. */
  announce(scope: RevokeScope, cause: RevokeCause, at: EpochMs, count: number): Promise<Revocation>;
  observer?: TheftObserver;
}

export interface Theft {
  /** The session's stale token `staleHash` was used from `origin`. Resolves true when the session was ended for it. */
  forked(entry: AllowlistEntry, staleHash: string, policy: Policy, origin: Origin, now: EpochMs): Promise<boolean>;
  /**
   * A successor became current from `origin`; `entry` is the session as it stood before. Records a change of
   * network or browser; resolves true when the policy ends the session for a browser change.
   */
  moved(entry: AllowlistEntry, policy: Policy, origin: Origin, now: EpochMs): Promise<boolean>;
}

/** Stale tokens this node already reported, so a thief retrying leaves one record per node, not one per call. */
const REMEMBER_REPORTED = 10_000;

export function createTheft(deps: TheftDeps): Theft {
  const reported = new Set<string>();
  const sighting = (origin: Origin, at: EpochMs): Sighting => ({
    ip: origin.ip,
    userAgent: origin.userAgent,
    network: networkOf(origin.ip, deps.prefixes),
    agent: agentOf(origin.userAgent),
    at,
  });
  // The holder is whoever made the current token current (its first use), or the page the session was minted for.
  const holderOf = (entry: AllowlistEntry): Sighting =>
    entry.chain === null
      ? sighting({ ip: entry.ip, userAgent: entry.userAgent }, entry.createdAt)
      : sighting({ ip: entry.chain.ip, userAgent: entry.chain.userAgent }, entry.chain.rotatedAt);

  async function signal(entry: AllowlistEntry, kind: SignalKind, revoke: boolean, presented: Sighting, holder: Sighting): Promise<void> {
    const scope: RevokeScope = { kind: 'session', clientKey: entry.clientKey, accountId: entry.accountId, idHash: entry.idHash };
    // A stale token in flight to several nodes at once is one theft: only the call whose update ended the session
    // records it and announces the end; the others find it ended already and only refuse.
    const ended = revoke ? await deps.end(scope, THEFT_CAUSE, presented.at) : null;
    if (ended === 0) return;
    const action = revoke ? 'revoked' : 'reported';
    deps.observer?.signalled(kind, action);
    // The signal before the revocation is announced: an admin who reads the audit finds why before what.
    await deps.audit.record({
      at: presented.at,
      kind: 'signal',
      clientKey: entry.clientKey,
      accountId: entry.accountId,
      actor: THEFT_CAUSE.actor,
      reason: kind === 'fork' ? THEFT_CAUSE.reason : kind,
      resource: entry.resource,
      count: 1,
      confirmation: null,
      detail: { kind, session: entry.idHash, action, presented, holder },
    });
    if (ended !== null) await deps.announce(scope, THEFT_CAUSE, presented.at, ended);
  }

  return {
    async forked(entry, staleHash, policy, origin, now) {
      const revoke = policy.theftResponse === 'revoke';
      // Under `report` the stale holder carries on, so each stale token is reported once per node.
      if (!revoke && reported.has(staleHash)) return false;
      if (!revoke) {
        if (reported.size >= REMEMBER_REPORTED) reported.clear();
        reported.add(staleHash);
      }
      await signal(entry, 'fork', revoke, sighting(origin, now), holderOf(entry));
      return revoke;
    },

    async moved(entry, policy, origin, now) {
      const holder = holderOf(entry);
      const presented = sighting(origin, now);
      const changed = changesBetween(holder, presented);
      // A new network alone proves little (phones move): it is recorded, never acted on.
      if (changed.network && !changed.agent) await signal(entry, 'network_changed', false, presented, holder);
      if (!changed.agent) return false;
      const revoke = policy.agentChangeResponse === 'revoke';
      await signal(entry, 'agent_changed', revoke, presented, holder);
      return revoke;
    },
  };
}
