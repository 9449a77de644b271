/**
 * The SETs PanelGuard sends (RFC 8417 as SSF 1.0 profiles it): one CAEP `session-revoked` event per receiver and
 * revocation, naming whose sessions ended with a complex subject, signed with PanelGuard's own key when sent.
 */
import { SignJWT } from 'jose';
import type { EpochMs } from '../../allowlist/types';
import type { ClaimedSet, QueuedSet, SetKey } from './outbox';
import { SET_ALGORITHM, type SigningKey } from './signing-key';

export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';

/** RFC 8417's explicit type, which SSF requires in every SET's header. */
export const SET_TYPE = 'secevent+jwt';

/** RFC 9493 subject identifiers, of the formats PanelGuard uses. */
export type SubjectIdentifier = { format: 'opaque'; id: string } | { format: 'iss_sub'; iss: string; sub: string };

/** SSF's complex subject: the site always; the user unless the whole site's sessions ended; the one session if only it did. */
export interface ComplexSubject {
  format: 'complex';
  user?: SubjectIdentifier;
  session?: SubjectIdentifier;
  tenant: SubjectIdentifier;
}

/** CAEP's `initiating_entity`. */
export type InitiatingEntity = 'admin' | 'user' | 'policy' | 'system';

export interface SessionRevokedEvent {
  /** When the revocation was made, in seconds. */
  event_timestamp: number;
  initiating_entity: InitiatingEntity;
  /** The revocation's stable reason code (`user_removed`, `theft_suspected`...), for receivers' logs. */
  reason_admin: { en: string };
}

/** A SET's claims. SSF forbids `sub` and `exp`: the subject is `sub_id`, and a SET never expires. */
export interface SessionRevokedClaims {
  iss: string;
  /** Unique to this receiver's copy: a retry carries the same one, so a receiver can tell a repeat. */
  jti: string;
  iat: number;
  aud: string;
  /** The revocation: shared by every receiver's copy of it. */
  txn: string;
  sub_id: ComplexSubject;
  events: { [SESSION_REVOKED]: SessionRevokedEvent };
}

/** The jti of one receiver's copy of one revocation's SET: the outbox row's key, whose two parts hold no dot. */
export function jtiOf(key: SetKey): string {
  return `${key.noticeId}.${key.receiverId}`;
}

/**
 * Whose sessions ended. The user is an Atlassian account, named as the site (its baseUrl, as it stood when the
 * revocation was made) knows it; the site is its clientKey, which is how the receiver's configuration names it.
 */
export function subjectOf(set: QueuedSet): ComplexSubject {
  const tenant: SubjectIdentifier = { format: 'opaque', id: set.clientKey };
  if (set.accountId === null) return { format: 'complex', tenant };
  // A site with no record has no address to name its users by; the account id alone is still theirs.
  const user: SubjectIdentifier =
    set.baseUrl === null ? { format: 'opaque', id: set.accountId } : { format: 'iss_sub', iss: set.baseUrl, sub: set.accountId };
  if (set.session === null) return { format: 'complex', user, tenant };
  return { format: 'complex', user, session: { format: 'opaque', id: set.session }, tenant };
}

/** Who set the revocation off, from the actor the audit names: an admin or operator, the user, theft detection, or the host. */
export function initiatingEntityOf(actor: string): InitiatingEntity {
  if (actor.startsWith('admin:') || actor === 'operator' || actor.startsWith('operator:')) return 'admin';
  if (actor.startsWith('user:')) return 'user';
  if (actor === 'theft-detection') return 'policy';
  return 'system';
}

const seconds = (ms: EpochMs) => Math.floor(ms / 1000);

/** The claims of `claimed`'s SET, issued by `issuer` at `now`. */
export function sessionRevoked(claimed: ClaimedSet, issuer: string, now: EpochMs): SessionRevokedClaims {
  const { set, receiver } = claimed;
  return {
    iss: issuer,
    jti: jtiOf(set),
    iat: seconds(now),
    aud: receiver.audience,
    txn: set.noticeId,
    sub_id: subjectOf(set),
    events: {
      [SESSION_REVOKED]: {
        event_timestamp: seconds(set.eventAt),
        initiating_entity: initiatingEntityOf(set.actor),
        reason_admin: { en: set.reason },
      },
    },
  };
}

/** Signs a SET: RS256, typed `secevent+jwt`, with the key's thumbprint as `kid` so receivers find it in our JWKS. */
export function signSet(claims: SessionRevokedClaims, key: SigningKey): Promise<string> {
  return new SignJWT({ ...claims }).setProtectedHeader({ alg: SET_ALGORITHM, typ: SET_TYPE, kid: key.kid }).sign(key.privateKey);
}

/** Signs each SET as it is sent, so every retry carries a fresh `iat` and the key in use then. */
export function setSigner(issuer: string, key: () => Promise<SigningKey>): (claimed: ClaimedSet, now: EpochMs) => Promise<string> {
  return async (claimed, now) => signSet(sessionRevoked(claimed, issuer, now), await key());
}
