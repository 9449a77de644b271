/**
 * Operator tokens: bearer secrets from OPERATOR_TOKEN, each bound to the one tenant it
 * acts on. A presented token is compared with every configured one in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface OperatorToken {
  clientKey: string;
  token: string;
}

export const MIN_OPERATOR_TOKEN_LENGTH = 32;

/** `clientKey:token[,clientKey:token...]`; a clientKey may itself hold colons, so the token is what follows the last one. */
export function parseOperatorTokens(value: string): OperatorToken[] | string {
  const tokens: OperatorToken[] = [];
  for (const part of value.split(',')) {
    const at = part.lastIndexOf(':');
    const clientKey = part.slice(0, at).trim();
    const token = part.slice(at + 1).trim();
    if (at <= 0 || clientKey === '') return 'must be clientKey:token pairs separated by commas';
    if (token.length < MIN_OPERATOR_TOKEN_LENGTH) return `each token must be at least ${MIN_OPERATOR_TOKEN_LENGTH} characters`;
    if (!/^[\x21-\x7e]+$/.test(token)) return 'tokens must be printable ASCII without spaces';
    tokens.push({ clientKey, token });
  }
  if (new Set(tokens.map((t) => t.token)).size !== tokens.length) return 'each token must be different';
  return tokens;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export class OperatorTokens {
  private readonly digests: { clientKey: string; digest: Buffer }[];

  constructor(tokens: OperatorToken[]) {
    this.digests = tokens.map(({ clientKey, token }) => ({ clientKey, digest: digest(token) }));
  }

  /** The tenant the presented token acts on, or null. Every configured token is compared, equal-length digests in constant time. */
  tenantOf(presented: string): string | null {
    const candidate = digest(presented);
    let found: string | null = null;
    for (const { clientKey, digest: expected } of this.digests) {
      if (timingSafeEqual(candidate, expected)) found = clientKey;
    }
    return found;
  }
}
