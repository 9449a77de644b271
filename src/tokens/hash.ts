/** How token ids are kept at rest: only their SHA-256, never the id itself. */
import { createHash } from 'node:crypto';

export function hashTokenId(jti: string): string {
  return createHash('sha256').update(jti).digest('hex');
}
