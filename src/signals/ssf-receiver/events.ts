/**
 * The Security Events PanelGuard acts on, by their type URIs (OpenID CAEP 1.0, RISC 1.0, SSF 1.0), and what each
 * one does to a user of the site its stream names.
 */

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';
const SSF = 'https://schemas.openid.net/secevent/ssf/event-type/';

/**
 * What an event does: end the user's sessions; tombstone the user (which ends them too, and stops new ones);
 * lift the user's tombstone; or, for the stream's own verification event, note that the stream works.
 */
export type SsfEffect = 'end_sessions' | 'remove_user' | 'restore_user' | 'verify_stream';

export interface KnownEvent {
  /** The type's last path segment (`session-revoked`): the metrics' `event` label. */
  name: string;
  effect: SsfEffect;
  /** The stable code recorded as the revocation's and the audit's reason. */
  reason: string;
}

const known = (base: string, name: string, effect: SsfEffect): [string, KnownEvent] => [
  `${base}${name}`,
  { name, effect, reason: `ssf_${name.replace(/-/g, '_')}` },
];

/** Every event type PanelGuard acts on; any other is accepted, counted and ignored. */
export const KNOWN_EVENTS: ReadonlyMap<string, KnownEvent> = new Map([
  known(CAEP, 'session-revoked', 'end_sessions'),
  known(CAEP, 'credential-change', 'end_sessions'),
  known(RISC, 'account-disabled', 'remove_user'),
  known(RISC, 'account-purged', 'remove_user'),
  known(RISC, 'account-enabled', 'restore_user'),
  // Deprecated by CAEP's session-revoked, still sent by RISC transmitters.
  known(RISC, 'sessions-revoked', 'end_sessions'),
  known(RISC, 'credential-compromise', 'end_sessions'),
  known(SSF, 'verification', 'verify_stream'),
]);

/** The metrics' `event` label of a type PanelGuard does not act on: never the URI itself, which the sender chooses. */
export const UNKNOWN_EVENT = 'unknown';

export function knownEvent(type: string): KnownEvent | null {
  return KNOWN_EVENTS.get(type) ?? null;
}

/** The transmitter's word on when the event happened, in seconds (CAEP and RISC `event_timestamp`); null when absent or not a time. */
export function eventTimestampOf(payload: Readonly<Record<string, unknown>>): number | null {
  const value = payload.event_timestamp;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}
