/** How token ids and spent credentials are kept at rest: only their SHA-256, never the value itself. */
import { createHash } from 'node:crypto';

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function hashTokenId(jti: string): string {
  return sha256Hex(jti);
}
