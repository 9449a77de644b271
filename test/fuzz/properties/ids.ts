/** Ids in route paths over HTTP: issue ids, session ids and account ids, percent-encoded or not, valid or not. */
import fc from 'fast-check';
import { ALICE, BOB, ISSUE, pageTokenOf } from '../../integration/harness';
import { checkAnswer, outcomeOf, violated } from '../oracle';
import { Tally, type FuzzProperty } from '../property';
import { CAROL, sessionIdOf } from '../site';

const NOBODY = '557058:nobody';

/** Characters that may stand raw in a path segment of a request Node's parser accepts (it refuses 0x7f and above itself). */
const RAW = [...Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i))].filter((c) => !'/?#%'.includes(c));

/** One path segment meant to name `base`, more or less: encoded one way or another, edited, or broken. */
function segments(bases: readonly string[]): fc.Arbitrary<string> {
  const base = fc.constantFrom(...bases);
  const percentAll = (s: string, lower: boolean) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).map((e) => (lower ? e : e.toUpperCase())).join('');
  return fc.oneof(
    { weight: 3, arbitrary: base.map(encodeURIComponent) },
    fc.tuple(base, fc.boolean()).map(([s, lower]) => percentAll(s, lower)),
    fc.tuple(base, fc.constantFrom('0', '+', '-', ' ', '%20', '%00', '%2F', '%2E', '.', '..', ';', ',', 'x', '%', '%zz', '%E0%A4%A', '%C0%AF', '%u0031'), fc.boolean()).map(([s, extra, before]) =>
      before ? `${encodeURIComponent(extra)}${encodeURIComponent(s)}`.replace(encodeURIComponent(extra), extra) : `${encodeURIComponent(s)}${extra}`,
    ),
    fc.constantFrom('0', '00', '010001', '1'.repeat(18), '1'.repeat(19), '9'.repeat(40), '%EF%BC%91%EF%BC%90', '.', '..', '%2e%2e', '-1', '1e4', 'a'.repeat(129), 'a'.repeat(128)),
    fc.string({ unit: fc.constantFrom(...RAW), minLength: 1, maxLength: 40 }),
  )
    // What the client cannot send raw (a space, say) goes percent-encoded; an empty segment is another route.
    .map((segment) => segment.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c)))
    .filter((segment) => segment !== '');
}

function decoded(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

export const routeIds: FuzzProperty = {
  name: 'route ids: issue, session and account ids',
  claim:
    "an id in a route's path, however encoded or broken, gets 2xx only when it decodes to exactly what the caller may act on (the issue its token names, one of the user's own sessions, a user the site knows) and otherwise a 4xx in the error format",
  async open(sites) {
    const site = await sites.shared();
    const { sim } = await site.tenant('ids');
    for (const user of [BOB, CAROL]) sim.directory.add({ accountId: user, displayName: user });
    const mint = async (url: string) => {
      const response = await fetch(url);
      const token = pageTokenOf(await response.text());
      if (token === null) throw new Error(`no page token: ${response.status}`);
      return token;
    };
    const panel = await mint(sim.panelUrl('issue-notes', ISSUE, ALICE));
    const self = await mint(sim.pageUrl('my-sessions', ALICE));
    const ownSessions = [await mint(sim.panelUrl('issue-notes', ISSUE, ALICE)), await mint(sim.panelUrl('issue-notes', ISSUE, ALICE))].map(sessionIdOf);
    const bobsSession = sessionIdOf(await mint(sim.panelUrl('issue-notes', ISSUE, BOB)));
    await mint(sim.panelUrl('issue-notes', ISSUE, CAROL));
    const operator = site.operatorTokens.get('ids') as string;

    const request = fc.oneof(
      segments([ISSUE.issueId, '10002']).map((segment) => ({ kind: 'issue', method: 'GET', path: `/api/issues/${segment}/notes`, segment, bearer: panel })),
      segments([...ownSessions, bobsSession, sessionIdOf(self).toUpperCase()]).map((segment) => ({ kind: 'session', method: 'DELETE', path: `/api/me/sessions/${segment}`, segment, bearer: self })),
      // Never alice or bob: alice's tokens serve the other two kinds of request, and bob's session must stay
      // live for alice to try to end it.
      segments([CAROL, NOBODY, 'carol', `${CAROL} `]).map((segment) => ({ kind: 'account', method: 'DELETE', path: `/api/admin/users/${segment}/sessions`, segment, bearer: operator })),
    );
    const tally = new Tally();
    const property = fc.asyncProperty(request, async ({ kind, method, path, segment, bearer }) => {
      site.faults.check();
      const answer = await site.http.send({ method, path, headers: { authorization: `Bearer ${bearer}` } });
      tally.add(`${kind} ${outcomeOf(answer)}`);
      checkAnswer(answer);
      if (answer.status < 300) {
        const id = decoded(segment);
        const allowed = kind === 'issue' ? id === ISSUE.issueId : kind === 'session' ? ownSessions.includes(id ?? '') : id === CAROL;
        if (!allowed) violated(`${method} ${path} answered ${answer.status}`);
      }
      site.faults.check();
    });
    return { property, tally, finish: async () => site.faults.check() };
  },
};
