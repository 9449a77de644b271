/** The page-token codec on its own: what verify() accepts, over tokens made from real ones and a moving clock. */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { ManualClock } from '../../../src/base/clock';
import { createPageTokenCodec, type IssuedPageToken } from '../../../src/tokens/page-token';
import { assertDerivation, presentedTokens } from '../forgeries';
import { violated } from '../oracle';
import { Tally, type FuzzProperty } from '../property';

const MINTED_AT = Date.UTC(2026, 0, 1, 12);
const TTL_SECONDS = 600;
const FAILURES = ['token_malformed', 'token_invalid', 'token_expired'];

export const pageTokenVerifier: FuzzProperty = {
  name: 'page-token verifier',
  claim: "verify() accepts a token only if this codec issued it and its exp has not come, answering the issued claims; it refuses anything else with a token_* code, and never throws or rejects",
  async open() {
    const clock = new ManualClock(MINTED_AT);
    const secret = randomBytes(32).toString('base64url');
    // The two sites this codec's store knows; a token naming any other is refused without a key derived.
    const isTenant = async (clientKey: string) => clientKey === 'site-a' || clientKey === 'site-b';
    const codec = createPageTokenCodec({ secret, appKey: 'panelguard', clock, isTenant });
    const issue = (clientKey: string, accountId: string, resource: string) => codec.issue({ clientKey, accountId, resource, ttlSeconds: TTL_SECONDS });
    const own: IssuedPageToken[] = [
      issue('site-a', 'alice', 'jira:issue:10001'),
      issue('site-a', 'bob', 'app:admin'),
      issue('site-b', 'alice', 'jira:issue:10001'),
    ];
    // The same secret under another app key, and another deployment's secret: neither is this codec's.
    const otherApp = createPageTokenCodec({ secret, appKey: 'another-app', clock, isTenant }).issue({ clientKey: 'site-a', accountId: 'alice', resource: 'jira:issue:10001', ttlSeconds: TTL_SECONDS });
    const otherSecret = createPageTokenCodec({ secret: randomBytes(32).toString('base64url'), appKey: 'panelguard', clock, isTenant }).issue({ clientKey: 'site-a', accountId: 'alice', resource: 'jira:issue:10001', ttlSeconds: TTL_SECONDS });
    const sources = [...own.map((t) => t.token), otherApp.token, otherSecret.token];
    const keys = { secret, sites: [{ clientKey: 'site-a', sharedSecret: randomBytes(32).toString('base64url') }, { clientKey: 'site-b', sharedSecret: randomBytes(32).toString('base64url') }] };
    assertDerivation(keys, own[0].token);

    const tally = new Tally();
    // Before issue, through the lifetime, across exp (to the millisecond) and long after.
    const elapsedMs = fc.oneof(fc.integer({ min: -60_000, max: 700_000 }), fc.constantFrom(TTL_SECONDS * 1000 - 1, TTL_SECONDS * 1000, 10 * 365 * 86_400_000));
    const property = fc.asyncProperty(presentedTokens({ sources, keys, withAppKey: false }), elapsedMs, async (presented, elapsed) => {
      clock.set(MINTED_AT + elapsed);
      const result = await codec.verify(presented.token);
      tally.add(result.ok ? 'accepted' : result.code);
      const issued = own.find((t) => t.token === presented.token);
      const live = issued !== undefined && Math.floor(clock.now() / 1000) < issued.claims.exp;
      if (result.ok && !live) violated(`accepted ${presented.how} at +${elapsed} ms`);
      if (!result.ok && live) violated(`refused ${presented.how}, live, with ${result.code}`);
      if (result.ok && !isDeepStrictEqual({ ...result.value }, issued?.claims)) violated(`accepted ${presented.how} with claims other than issued`);
      if (!result.ok && !FAILURES.includes(result.code)) violated(`refused with an unknown code ${result.code}`);
    });
    return { property, tally };
  },
};
