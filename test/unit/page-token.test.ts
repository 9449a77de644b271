import { expect } from 'chai';
import { ManualClock } from '../../src/base/clock';
import { createPageTokenCodec, UNKNOWN_TENANT_MS, type PageTokenClaims, type PageTokenCodec, type Verdict } from '../../src/tokens/page-token';

const SECRET = 'y'.repeat(40);

/** A codec on a node that knows `sites` as installed; it issued nothing yet unless a test says so. */
function codec(clock: ManualClock, rememberVerified?: number, sites: string[] = ['site-a'], asked: string[] = []) {
  const isTenant = async (clientKey: string) => {
    asked.push(clientKey);
    return sites.includes(clientKey);
  };
  return createPageTokenCodec({ secret: SECRET, appKey: 'panelguard', clock, rememberVerified, isTenant, maxUnknownTenants: 1_000 });
}

/** The verdict of a token this node holds a key for: answered at once, never through a promise. */
function settled(verdict: Verdict | Promise<Verdict>): Verdict {
  if (verdict instanceof Promise) throw new Error('expected an answer without a store lookup');
  return verdict;
}

/** An HS256 JWT for `aud` under a key PanelGuard never had: what anyone can send. */
function junk(aud: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ iss: 'panelguard', aud, sub: 'x', jti: 'x', res: 'app:self', iat: 1, exp: 9e9 })}.c2ln`;
}

function issue(tokens: ReturnType<typeof codec>, accountId = 'alice', ttlSeconds = 600): string {
  return tokens.issue({ clientKey: 'site-a', accountId, resource: 'jira:issue:10001', ttlSeconds }).token;
}

function claimsOf(verdict: Verdict | Promise<Verdict>): PageTokenClaims {
  const result = settled(verdict);
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
    expect(settled(tokens.verify(token)).ok).to.equal(true);
    clock.advance(59_999);
    expect(settled(tokens.verify(token)).ok).to.equal(true);
    clock.advance(1);
    expect(settled(tokens.verify(token))).to.deep.equal({ ok: false, code: 'token_expired' });
    expect(settled(tokens.verify(token))).to.deep.equal({ ok: false, code: 'token_expired' });
  });

  it('verifies in full a token that differs from a remembered one only in its signature', () => {
    const tokens = codec(new ManualClock());
    const token = issue(tokens);
    expect(settled(tokens.verify(token)).ok).to.equal(true);
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${token.slice(0, -2)}${last}${token.slice(-1)}`;
    expect(settled(tokens.verify(tampered))).to.deep.equal({ ok: false, code: 'token_invalid' });
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
    expect(settled(tokens.verify(token))).to.deep.equal({ ok: false, code: 'token_expired' });
    clock.set(Date.UTC(2026, 10, 23, 12));
    // Back within its lifetime, the same token verifies in full and is accepted: nothing remembered the refusal.
    expect(settled(tokens.verify(token)).ok).to.equal(true);
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

  describe('keys only for sites that exist', () => {
    it('refuses a token naming a site with no record as token_invalid, and derives no key for it', async () => {
      const tokens = codec(new ManualClock(), undefined, []);
      expect(await tokens.verify(junk('nobody'))).to.deep.equal({ ok: false, code: 'token_invalid' });
      expect(tokens.held().tenantKeys).to.equal(0);
    });

    it('keeps what 30,000 junk tokens with distinct sites leave behind within its bounds', async () => {
      const tokens = codec(new ManualClock(), undefined, []);
      for (let i = 0; i < 30_000; i += 1) expect((await tokens.verify(junk(`site-${i}`))).ok).to.equal(false);
      expect(tokens.held()).to.deep.equal({ tenantKeys: 0, unknownTenants: 1_000, verifiedTokens: 0 });
    });

    it('asks the store about an unknown site once per window, not once per token', async () => {
      const clock = new ManualClock(Date.UTC(2026, 10, 23, 12));
      const asked: string[] = [];
      const tokens = codec(clock, undefined, [], asked);
      await tokens.verify(junk('nobody'));
      await tokens.verify(junk('nobody'));
      clock.advance(UNKNOWN_TENANT_MS);
      await tokens.verify(junk('nobody'));
      expect(asked).to.deep.equal(['nobody', 'nobody']);
    });

    it("verifies a token minted by another node once the store confirms its site, then answers at once", async () => {
      const clock = new ManualClock();
      const minted = issue(codec(clock));
      const elsewhere: PageTokenCodec = codec(clock);
      const first = elsewhere.verify(minted);
      expect(first).to.be.instanceOf(Promise);
      expect((await first).ok).to.equal(true);
      expect(settled(elsewhere.verify(issue(elsewhere, 'bob'))).ok).to.equal(true);
      expect(elsewhere.held().tenantKeys).to.equal(1);
    });

    it('rejects when the store cannot say whether the site exists', async () => {
      const tokens = createPageTokenCodec({
        secret: SECRET,
        appKey: 'panelguard',
        clock: new ManualClock(),
        isTenant: () => Promise.reject(new Error('store down')),
      });
      const failed = await Promise.resolve(tokens.verify(junk('site-a'))).then(() => null, (error: unknown) => error);
      expect(failed).to.be.instanceOf(Error);
    });
  });
});
