/** The API guard over HTTP: which page tokens it lets through, whatever the Authorization header holds. */
import fc from 'fast-check';
import { assertDerivation, headerText, presentedTokens, type TokenKeys } from '../forgeries';
import { checkAnswer, outcomeOf, violated } from '../oracle';
import { Tally, type FuzzProperty } from '../property';
import type { FuzzSite } from '../site';

/** Guarded routes that change nothing, and the resource each one touches. */
export const GUARDED_READS = [
  { path: '/api/issues/10001/notes', resource: 'jira:issue:10001' },
  { path: '/api/issues/10002/notes', resource: 'jira:issue:10002' },
  { path: '/api/issues/10003/notes', resource: 'jira:issue:10003' },
  { path: '/api/me/sessions', resource: 'app:self' },
] as const;

export async function tokenKeys(site: FuzzSite): Promise<TokenKeys> {
  const sites = await Promise.all((['home', 'neighbour', 'gone'] as const).map((name) => site.tenant(name)));
  const keys = { secret: site.pageTokenSecret, sites: sites.map(({ clientKey, sharedSecret }) => ({ clientKey, sharedSecret })) };
  assertDerivation(keys, site.tokens[0].token);
  return keys;
}

export const guardTokens: FuzzProperty = {
  name: 'guard: presented page tokens',
  claim:
    'a guarded route answers 2xx exactly for a live token minted for its resource; revoked, expired, idle, other-site, uninstalled-site tokens and every token made from a real one (bit flips, cuts, alg none and others, swapped claims, wrong keys, the app key on changed claims) get a 4xx in the error format',
  async open(sites) {
    const site = await sites.shared();
    const keys = await tokenKeys(site);
    const sources = site.tokens.map((t) => t.token);
    const tally = new Tally();
    const property = fc.asyncProperty(presentedTokens({ sources, keys, withAppKey: true }), fc.constantFrom(...GUARDED_READS), async (presented, route) => {
      site.faults.check();
      const answer = await site.http.send({ method: 'GET', path: route.path, headers: { authorization: `Bearer ${presented.token}` } });
      tally.add(outcomeOf(answer));
      checkAnswer(answer);
      const live = site.liveFor(route.resource).some((known) => known.token === presented.token);
      const accepted = answer.status >= 200 && answer.status < 300;
      if (accepted && !live) violated(`${route.path} accepted ${presented.how}: ${answer.status}`);
      if (!accepted && live) violated(`${route.path} refused a live token (${presented.how}): ${answer.status} ${answer.text}`);
      site.faults.check();
    });
    return { property, tally, finish: async () => site.faults.check() };
  },
};

/** Authorization header values: schemes in any case, odd spacing, several tokens, other schemes, junk. */
export function authorizationHeaders(tokens: fc.Arbitrary<string>): fc.Arbitrary<string | string[] | undefined> {
  const scheme = fc.oneof({ weight: 6, arbitrary: fc.constant('Bearer') }, fc.constantFrom('bearer', 'BEARER', 'BeArEr', 'Bearer:', 'Basic', 'JWT', 'Token', 'Bearer,', '', 'Bearerx'));
  const space = fc.oneof({ weight: 6, arbitrary: fc.constant(' ') }, fc.constantFrom('  ', '\t', '', ' \t ', '='));
  const structured = fc
    .tuple(
      fc.oneof({ weight: 5, arbitrary: fc.constant('') }, headerText({ minLength: 1, maxLength: 3 })),
      scheme,
      space,
      tokens,
      fc.oneof({ weight: 5, arbitrary: fc.constant('') }, headerText({ minLength: 1, maxLength: 8 }), tokens.map((t) => ` ${t}`), fc.constantFrom(' ', ',', '\t', ', Bearer x')),
    )
    .map(([lead, s, sp, token, tail]) => `${lead}${s}${sp}${token}${tail}`);
  const one = fc.oneof({ weight: 4, arbitrary: structured }, headerText({ maxLength: 300 }), fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => s.replace(/[^\t\x20-\x7e]/g, ' ')));
  return fc.oneof({ weight: 8, arbitrary: one }, fc.array(one, { minLength: 2, maxLength: 3 }), fc.constant(undefined), fc.constant('x'.repeat(9000)));
}

export const guardHeaders: FuzzProperty = {
  name: 'guard: Authorization header',
  claim: 'whatever the Authorization header (scheme in any case, spacing, several values, junk), a guarded route answers 2xx only if the header carries a live token minted for its resource, and otherwise a 4xx in the error format',
  async open(sites) {
    const site = await sites.shared();
    const keys = await tokenKeys(site);
    const sources = site.tokens.map((t) => t.token);
    const tally = new Tally();
    const tokens = presentedTokens({ sources, keys, withAppKey: false }).map((p) => p.token);
    const property = fc.asyncProperty(authorizationHeaders(tokens), fc.constantFrom(...GUARDED_READS), async (authorization, route) => {
      site.faults.check();
      const headers: Record<string, string | string[]> = authorization === undefined ? {} : { authorization };
      const answer = await site.http.send({ method: 'GET', path: route.path, headers });
      tally.add(outcomeOf(answer));
      checkAnswer(answer);
      const values = authorization === undefined ? [] : ([] as string[]).concat(authorization);
      const carriesLive = site.liveFor(route.resource).some((known) => values.some((value) => value.includes(known.token)));
      if (answer.status < 300 && !carriesLive) violated(`${route.path} accepted Authorization ${JSON.stringify(authorization)}: ${answer.status}`);
      const exact = typeof authorization === 'string' && site.liveFor(route.resource).some((known) => authorization === `Bearer ${known.token}`);
      if (exact && answer.status !== 200) violated(`${route.path} refused Bearer and a live token: ${answer.status} ${answer.text}`);
      site.faults.check();
    });
    return { property, tally, finish: async () => site.faults.check() };
  },
};
