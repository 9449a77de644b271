/** The simulator's one source of randomness: ids, shared secrets and opaque access tokens. */
import { randomBytes, randomUUID } from 'node:crypto';

export function newUuid(): string {
  return randomUUID();
}

/** A URL-safe random string; 32 bytes is what a shared secret deserves. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
