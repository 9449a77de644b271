/** The one source of randomness for ids and secrets. */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';

/** 128 bits, base64url: the page token id (`jti`). */
export function randomTokenId(): string {
  return randomBytes(16).toString('base64url');
}

export function randomId(): string {
  return randomBytes(12).toString('base64url');
}

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function randomUuid(): string {
  return randomUUID();
}

/** Lowercase hex, as some identifiers are spelled (a Forge FIT's `jti`). */
export function randomHex(bytes = 20): string {
  return randomBytes(bytes).toString('hex');
}

/** A number in [0, 1), for jitter. */
export function randomFraction(): number {
  return randomInt(0, 2 ** 48 - 1) / 2 ** 48;
}
