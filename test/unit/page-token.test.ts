import { expect } from 'chai';
import { ManualClock } from '../../src/allowlist/clock';
import { createPageTokenCodec, type PageTokenClaims } from '../../src/tokens/page-token';

const SECRET = 'y'.repeat(40);

function codec(clock: ManualClock, rememberVerified?: number) {
  return createPageTokenCodec({ secret: SECRET, appKey: 'panelguard', clock, rememberVerified });
}

function issue(tokens: ReturnType<typeof codec>, accountId = 'alice', ttlSeconds = 600): string {
  return tokens.issue({ clientKey: 'site-a', accountId, resource: 'jira:issue:10001', ttlSeconds }).token;
}

function claimsOf(result: ReturnType<ReturnType<typeof codec>['verify']>): PageTokenClaims {
  if (!result.ok) throw new Error(`refused: ${result.code}`);
  return result.value;
}

describe('page token codec', () => {
  it('answers a token it verified before with the very claims it found then', () => {
    const tokens = codec(new ManualClock());
    const token = issue(tokens);
    const first = claimsOf(tokens.verify(token));
    expect(claimsOf(tokens.verify(token))).to.equal(first);
  });

  it('refuses a remembered token once the clock reaches its expiry, as a full check would', () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 23, 12));
    const tokens = codec(clock);
    const token = issue(tokens, 'alice', 60);
    expect(tokens.verify(token).ok).to.equal(true);
    clock.advance(59_999);
    expect(tokens.verify(token).ok).to.equal(true);
    clock.advance(1);
    expect(tokens.verify(token)).to.deep.equal({ ok: false, code: 'token_expired' });
    expect(tokens.verify(token)).to.deep.equal({ ok: false, code: 'token_expired' });
  });

  it('verifies in full a token that differs from a remembered one only in its signature', () => {
    const tokens = codec(new ManualClock());
    const token = issue(tokens);
    expect(tokens.verify(token).ok).to.equal(true);
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${token.slice(0, -2)}${last}${token.slice(-1)}`;
    expect(tokens.verify(tampered)).to.deep.equal({ ok: false, code: 'token_invalid' });
  });

  it('refuses a token whose payload is not JSON as malformed, instead of throwing', () => {
    const tokens = codec(new ManualClock());
    const [header, , signature] = issue(tokens).split('.');
    const notJson = Buffer.from('{"iss": "panelguard", ').toString('base64url');
    expect(tokens.verify(`${header}.${notJson}.${signature}`)).to.deep.equal({ ok: false, code: 'token_malformed' });
  });

  it('never remembers a refused token', () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 23, 12));
    const tokens = codec(clock);
    const token = issue(tokens, 'alice', 60);
    clock.advance(60_000);
    expect(tokens.verify(token)).to.deep.equal({ ok: false, code: 'token_expired' });
    clock.set(Date.UTC(2026, 10, 23, 12));
    // Back within its lifetime, the same token verifies in full and is accepted: nothing remembered the refusal.
    expect(tokens.verify(token).ok).to.equal(true);
  });

  it('forgets the oldest token when full, and verifies it in full again', () => {
    const tokens = codec(new ManualClock(), 2);
    const [a, b, c] = ['a', 'b', 'c'].map((user) => issue(tokens, user));
    const firstA = claimsOf(tokens.verify(a));
    const firstB = claimsOf(tokens.verify(b));
    claimsOf(tokens.verify(c));
    expect(claimsOf(tokens.verify(b))).to.equal(firstB);
    const againA = claimsOf(tokens.verify(a));
    expect(againA).to.not.equal(firstA);
    expect(againA).to.deep.equal(firstA);
  });

  it('verifies every call in full when told to remember nothing', () => {
    const tokens = codec(new ManualClock(), 0);
    const token = issue(tokens);
    expect(claimsOf(tokens.verify(token))).to.not.equal(claimsOf(tokens.verify(token)));
  });

  it('hands out claims no request can change for the next one', () => {
    const tokens = codec(new ManualClock());
    const claims = claimsOf(tokens.verify(issue(tokens)));
    expect(Object.isFrozen(claims)).to.equal(true);
  });
});
