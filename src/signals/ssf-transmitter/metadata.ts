/** What PanelGuard publishes about itself as a transmitter: its SSF configuration metadata, and its JWKS. */
import type { JWK } from 'jose';
import { SESSION_REVOKED } from './set';
import type { SigningKey } from './signing-key';

/** RFC 8935 push delivery: the only way PanelGuard sends. */
export const PUSH_DELIVERY = 'urn:ietf:rfc:8935';

export interface TransmitterMetadata {
  spec_version: '1_0';
  issuer: string;
  jwks_uri: string;
  delivery_methods_supported: string[];
  /** Not an SSF 1.0 metadata field (streams carry it), but receivers ask; extra claims are allowed. */
  events_supported: string[];
  critical_subject_members: string[];
}

/**
 * SSF 1.0 transmitter configuration metadata. There is no stream management API, hence no configuration, status,
 * subject or verification endpoint: each site's admins set its receivers in PanelGuard's admin API. `tenant` is
 * critical: every SET is about one site, and a receiver that ignored it would act on the user everywhere.
 */
export function transmitterMetadata(issuer: string): TransmitterMetadata {
  return {
    spec_version: '1_0',
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    delivery_methods_supported: [PUSH_DELIVERY],
    events_supported: [SESSION_REVOKED],
    critical_subject_members: ['tenant'],
  };
}

/** The JWKS: the signing key's public half, and nothing else. */
export function jwks(key: SigningKey): { keys: JWK[] } {
  return { keys: [key.publicJwk] };
}
