/** The admin API over HTTP: who gets in, what its query strings and policy bodies may hold. */
import fc from 'fast-check';
import { AUDIT_KINDS } from '../../../src/allowlist/types';
import { bodies } from '../bodies';
import { headerText, presentedTokens } from '../forgeries';
import { checkAnswer, jsonOf, outcomeOf, violated } from '../oracle';
import { Tally, type FuzzProperty } from '../property';
import { clientKeyOf, sessionIdOf, SITE_NAMES, type SiteName } from '../site';
import { authorizationHeaders, tokenKeys } from './guard';

/** An opaque secret changed a little: a character replaced, added or dropped, cut short, case flipped. */
function nearMisses(secrets: readonly string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.nat({ max: secrets.length - 1 }), fc.nat(), fc.constantFrom(...'aA0_-. x'), fc.constantFrom('replace', 'insert', 'delete', 'cut', 'case', 'twice')).map(([i, at, char, edit]) => {
    const s = secrets[i];
    const k = at % s.length;
    if (edit === 'replace') return s.slice(0, k) + char + s.slice(k + 1);
    if (edit === 'insert') return s.slice(0, k) + char + s.slice(k);
    if (edit === 'delete') return s.slice(0, k) + s.slice(k + 1);
    if (edit === 'cut') return s.slice(0, k);
    if (edit === 'case') return s.slice(0, k) + (s[k] === s[k].toUpperCase() ? s[k].toLowerCase() : s[k].toUpperCase()) + s.slice(k + 1);
    return s + s;
  }).filter((t) => !secrets.includes(t));
}

export const adminCredentials: FuzzProperty = {
  name: 'admin API: credentials',
  claim:
    "the admin API answers 2xx only to a header carrying an operator token or the admin page's live token, lists only that credential's site, and answers anything else (near-miss operator tokens, other pages' tokens, forgeries, junk) with a 4xx in the error format",
  async open(sites) {
    const site = await sites.shared();
    const keys = await tokenKeys(site);
    const operators = [...site.operatorTokens.values()];
    const admin = site.liveFor('app:admin');
    const sources = site.tokens.map((t) => t.token);
    const credential = fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(...operators) },
      { weight: 2, arbitrary: nearMisses(operators) },
      { weight: 4, arbitrary: presentedTokens({ sources, keys, withAppKey: true }).map((p) => p.token) },
      headerText({ maxLength: 60 }),
    );
    // A session id names its site: the ids of tokens minted on every other site must never be listed.
    const siteOfSession = new Map(site.tokens.map((t) => [sessionIdOf(t.token), t.clientKey]));
    const path = fc.constantFrom('/api/admin/sessions', '/api/admin/sessions?limit=200', '/api/admin/policy', '/api/admin/audit?limit=5');
    const tally = new Tally();
    const property = fc.asyncProperty(authorizationHeaders(credential), path, async (authorization, route) => {
      site.faults.check();
      const headers: Record<string, string | string[]> = authorization === undefined ? {} : { authorization };
      const answer = await site.http.send({ method: 'GET', path: route, headers });
      tally.add(outcomeOf(answer));
      checkAnswer(answer);
      if (answer.status >= 300) return site.faults.check();
      const values = authorization === undefined ? [] : ([] as string[]).concat(authorization);
      // Node keeps the first of several Authorization lines; the credential is in that one.
      const carried = (secret: string) => values.length > 0 && values[0].includes(secret);
      const operatorSites = SITE_NAMES.filter((name) => carried(site.operatorTokens.get(name) ?? '\u0000'));
      const adminCarried = admin.some((known) => carried(known.token));
      if (operatorSites.length === 0 && !adminCarried) violated(`${route} accepted Authorization ${JSON.stringify(authorization)}`);
      if (route.startsWith('/api/admin/sessions')) {
        const allowed = new Set<string>([...operatorSites.map((name: SiteName) => clientKeyOf(name)), ...(adminCarried ? [clientKeyOf('home')] : [])]);
        const { sessions } = jsonOf(answer) as { sessions: { id: string }[] };
        for (const { id } of sessions) {
          const owner = siteOfSession.get(id);
          if (owner !== undefined && !allowed.has(owner)) violated(`${route} with ${JSON.stringify(authorization)} listed a session of ${owner}`);
        }
      }
      site.faults.check();
    });
    return { property, tally, finish: async () => site.faults.check() };
  },
};

/** Query strings: the parameters' own names with values valid and not, repeated, bracketed (qs makes those arrays and objects), and junk. */
function queryStrings(names: readonly string[], values: readonly string[]): fc.Arbitrary<{ query: string; pairs: [string, string][] }> {
  const name = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...names) }, fc.constantFrom('', 'x', '__proto__', 'constructor', 'hasOwnProperty'), fc.string({ maxLength: 8 }));
  const value = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...values) },
    fc.integer({ min: -10, max: 300 }).map(String),
    fc.constantFrom('', ' ', '0', '-0', '1e3', '1.5', '0x10', '+5', 'NaN', 'Infinity', '9'.repeat(20), '2026-01-31T12:00:00Z', '2026-01-31', '2026-13-45T99:99:99Z', 'null', 'undefined', 'x'.repeat(600)),
    fc.string({ maxLength: 30 }),
  );
  const suffix = fc.oneof({ weight: 8, arbitrary: fc.constant('') }, fc.constantFrom('[]', '[0]', '[a]', '[__proto__]', '.x', '[', ']'));
  const encoded = (text: string, raw: boolean) => (raw ? text.replace(/[^\x21-\x7e]|[#&=%]/g, (c) => encodeURIComponent(c)) : encodeURIComponent(text));
  return fc.array(fc.tuple(name, suffix, value, fc.boolean()), { maxLength: 5 }).map((parts) => ({
    query: parts.map(([n, s, v, raw]) => `${encoded(n, raw)}${s}=${encoded(v, raw)}`).join('&'),
    pairs: parts.map(([n, s, v]) => [n + s, v] as [string, string]),
  }));
}

/** The one value a parameter has when it is given once, plainly; undefined otherwise. */
function single(pairs: [string, string][], name: string): string | undefined {
  const found = pairs.filter(([n]) => n === name || n.startsWith(`${name}[`) || n.startsWith(`${name}.`));
  return found.length === 1 && found[0][0] === name ? found[0][1] : undefined;
}

export const adminQueries: FuzzProperty = {
  name: 'admin API: query strings',
  claim:
    'GET /api/admin/sessions and /api/admin/audit answer any query string with 200 (within the limit, only the user or kind asked for, with a next cursor or null) or 400 bad_request in the error format, never a server failure',
  async open(sites) {
    const site = await sites.shared();
    const operator = site.operatorTokens.get('home') as string;
    const call = (path: string) => site.http.send({ method: 'GET', path, headers: { authorization: `Bearer ${operator}` } });
    // Real cursors, so that paging is reached and not only refused.
    const first = jsonOf(await call('/api/admin/sessions?limit=1')) as { next: string | null };
    const firstAudit = jsonOf(await call('/api/admin/audit?limit=1')) as { nextBefore: number | null };
    const users = [...new Set(site.tokens.map((t) => t.accountId))];
    const sessionValues = [...users, 'jira:issue:10001', 'app:admin', 'app:self', '1', '50', '200', '201', first.next ?? 'none', `${first.next ?? ''}x`, 'eyJ9', 'AAAA'];
    const auditValues = [...users, ...AUDIT_KINDS, 'MINT', '1', '200', String(Date.now()), String(firstAudit.nextBefore ?? 1), '2026-01-31T12:00:00+01:00'];
    const request = fc.oneof(
      queryStrings(['user', 'resource', 'after', 'limit'], sessionValues).map((q) => ({ path: '/api/admin/sessions', ...q })),
      queryStrings(['kind', 'user', 'since', 'until', 'before', 'limit'], auditValues).map((q) => ({ path: '/api/admin/audit', ...q })),
    );
    const tally = new Tally();
    const property = fc.asyncProperty(request, async ({ path, query, pairs }) => {
      site.faults.check();
      const answer = await call(`${path}?${query}`);
      tally.add(`${path} ${outcomeOf(answer)}`);
      const error = checkAnswer(answer);
      if (error !== null && !(answer.status === 400 && error.code === 'bad_request')) violated(`${path}?${query} answered ${answer.status} ${answer.text}`);
      if (error !== null) return site.faults.check();
      const limitText = single(pairs, 'limit');
      const limit = limitText !== undefined && /^[0-9]+$/.test(limitText) ? Number(limitText) : 200;
      const user = single(pairs, 'user');
      const body = jsonOf(answer) as { sessions?: { accountId: string }[]; next?: unknown; records?: { kind: string; accountId: string | null }[]; nextBefore?: unknown };
      const rows = path === '/api/admin/sessions' ? body.sessions : body.records;
      if (!Array.isArray(rows) || rows.length > limit) violated(`${path}?${query} answered ${rows?.length} rows: ${answer.text.slice(0, 200)}`);
      const cursor = path === '/api/admin/sessions' ? body.next : body.nextBefore;
      if (!(cursor === null || typeof cursor === (path === '/api/admin/sessions' ? 'string' : 'number'))) violated(`${path}?${query} answered a cursor ${JSON.stringify(cursor)}`);
      if (user !== undefined && rows.some((row) => row.accountId !== user)) violated(`${path}?${query} listed another user's rows`);
      const kind = path === '/api/admin/audit' ? single(pairs, 'kind') : undefined;
      if (kind !== undefined && (body.records ?? []).some((record) => record.kind !== kind)) violated(`${path}?${query} listed another kind's records`);
      site.faults.check();
    });
    return { property, tally, finish: async () => site.faults.check() };
  },
};

interface Policy {
  idleTimeoutSeconds: number;
  absoluteLifetimeSeconds: number;
}

export const adminPolicyBodies: FuzzProperty = {
  name: 'admin API: policy bodies',
  claim:
    'PUT /api/admin/policy applies a body only if it names at least one known setting and the policy it makes has whole numbers of seconds, each 60 to 86400 with idle no longer than absolute, theft responses revoke or report and key binding true or false, and answers it back; any other body is a 4xx in the error format and leaves the policy as it was',
  async open(sites) {
    const site = await sites.shared();
    await site.tenant('policy');
    const operator = site.operatorTokens.get('policy') as string;
    const seconds = fc.oneof(fc.integer({ min: 50, max: 90_000 }), fc.constantFrom(59, 60, 61, 86_399, 86_400, 86_401, 0, -60, 60.5, 1e21, 2 ** 53));
    const response = fc.constantFrom('revoke', 'report', 'REVOKE', 'block', '', 1);
    const base = fc.record({
      idleTimeoutSeconds: seconds,
      absoluteLifetimeSeconds: seconds,
      theftResponse: response,
      agentChangeResponse: response,
      keyBinding: fc.constantFrom(true, false, 'true', 0, null),
    });
    const request = base.chain((policy) => bodies(policy));
    const read = async (): Promise<Policy> => {
      const answer = await site.http.send({ method: 'GET', path: '/api/admin/policy', headers: { authorization: `Bearer ${operator}` } });
      return (jsonOf(answer) as { policy: Policy }).policy;
    };
    const baseline = await read();
    let current: Policy = baseline;
    // A failed run may leave any policy behind; the next run (a shrink step, say) starts from the baseline again.
    let dirty = false;
    const tally = new Tally();
    const property = fc.asyncProperty(request, async (body) => {
      site.faults.check();
      if (dirty) {
        const reset = await site.http.send({ method: 'PUT', path: '/api/admin/policy', headers: { 'content-type': 'application/json', authorization: `Bearer ${operator}` }, body: JSON.stringify(baseline) });
        if (reset.status !== 200) violated(`could not restore the policy: ${reset.status} ${reset.text}`);
        current = baseline;
      }
      dirty = true;
      const answer = await site.http.send({ method: 'PUT', path: '/api/admin/policy', headers: { ...body.headers, authorization: `Bearer ${operator}` }, body: body.body });
      tally.add(outcomeOf(answer));
      const error = checkAnswer(answer);
      if (error === null) {
        // A change names some settings and keeps the rest: applied only when the result is a valid policy.
        const sent = body.json?.value;
        if (typeof sent !== 'object' || sent === null || Array.isArray(sent) || Object.keys(sent).length === 0) violated(`applied ${body.how}: ${answer.text}`);
        if (Object.keys(sent).some((key) => !POLICY_FIELDS.includes(key))) violated(`applied a body with unknown fields, ${body.how}: ${answer.text}`);
        const merged = { ...current, ...(sent as Partial<Policy>) };
        if (!isValidPolicy(merged)) violated(`applied ${body.how}: ${answer.text}`);
        const { policy } = jsonOf(answer) as { policy: Policy };
        if (JSON.stringify(policy) !== JSON.stringify(merged)) violated(`answered ${answer.text} to ${body.how}`);
        current = merged;
      }
      const now = await read();
      if (JSON.stringify(now) !== JSON.stringify(current)) {
        violated(`after ${answer.status} to ${body.how} the policy is ${JSON.stringify(now)}, not ${JSON.stringify(current)}`);
      }
      dirty = false;
      site.faults.check();
    });
    return { property, tally, finish: async () => site.faults.check() };
  },
};

const POLICY_FIELDS = ['idleTimeoutSeconds', 'absoluteLifetimeSeconds', 'theftResponse', 'agentChangeResponse', 'keyBinding'];

function isValidPolicy(policy: Record<string, unknown>): boolean {
  const seconds = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 60 && (n as number) <= 86_400;
  const response = (r: unknown) => r === 'revoke' || r === 'report';
  return (
    seconds(policy.idleTimeoutSeconds) &&
    seconds(policy.absoluteLifetimeSeconds) &&
    policy.idleTimeoutSeconds <= policy.absoluteLifetimeSeconds &&
    response(policy.theftResponse) &&
    response(policy.agentChangeResponse) &&
    typeof policy.keyBinding === 'boolean'
  );
}
