/** The Connect adapters behind reconciliation: Jira's bulk user API and Atlassian's reporting API, read strictly. */
import { expect } from 'chai';
import { SymmetricAlgorithm, decodeSymmetric } from 'atlassian-jwt';
import type { AddOn } from '../../src/connect/addon';
import { DEFAULT_RETRY_AFTER_MS, hostDirectory, retryAfterMs, type HostAnswer } from '../../src/connect/host-directory';
import { reportAuthorization, reportResult } from '../../src/connect/personal-data-reports';
import { queryStringHash } from '../../src/host-simulator';

const NOW = Date.UTC(2026, 10, 23, 12);
const DATE = new Date(NOW).toUTCString();
const page = (values: Array<{ accountId: string; active: boolean }>, fields: Record<string, unknown> = {}) => ({
  startAt: 0,
  maxResults: 50,
  total: values.length,
  isLast: true,
  values,
  ...fields,
});
const answer = (status: number, body: unknown, headers: { retryAfter?: string; date?: string } = {}): HostAnswer => ({
  status,
  body,
  retryAfter: headers.retryAfter ?? null,
  date: headers.date ?? DATE,
});

/** The directory over a scripted host: each question gets the next answer, and every URL asked is kept. */
function directoryOver(answers: Array<HostAnswer | null>, credentials = true) {
  const asked: string[] = [];
  const directory = hostDirectory({} as AddOn, {
    hasCredentials: async () => credentials,
    now: () => NOW,
    ask: async (_clientKey, url) => {
      asked.push(url);
      return answers.shift() ?? null;
    },
  });
  return { directory, asked };
}

describe("the host directory over Jira's bulk user API", () => {
  it('asks for the whole batch in one page and reads active, inactive and left-out accounts', async () => {
    const { directory, asked } = directoryOver([answer(200, page([{ accountId: 'a', active: true }, { accountId: 'b', active: false }]))]);
    const result = await directory.usersActive('site', ['a', 'b', 'c']);
    expect(asked).to.deep.equal(['/rest/api/3/user/bulk?accountId=a&accountId=b&accountId=c&maxResults=3&startAt=0']);
    expect(result).to.deep.equal({
      ok: true,
      value: { statuses: new Map([['a', 'active'], ['b', 'inactive'], ['c', 'gone']]), answeredAt: NOW },
    });
  });

  it('follows the pages of a host that pages anyway, and calls no one gone before the last', async () => {
    const { directory, asked } = directoryOver([
      answer(200, page([{ accountId: 'a', active: true }], { isLast: false, total: 2 })),
      answer(200, page([{ accountId: 'b', active: true }], { startAt: 1, total: 2 })),
    ]);
    const result = await directory.usersActive('site', ['a', 'b']);
    expect(asked[1]).to.match(/startAt=1$/);
    expect(result.ok && [...result.value.statuses.values()]).to.deep.equal(['active', 'active']);
  });

  it('fails rather than guess: no answer, a 5xx, a 401, a malformed or unfinished body', async () => {
    for (const reply of [null, answer(503, {}), answer(401, {}), answer(200, { values: 'nope' }), answer(200, page([], { isLast: false }))]) {
      const { directory } = directoryOver([reply]);
      expect(await directory.usersActive('site', ['a']), JSON.stringify(reply)).to.deep.equal({ ok: false, code: 'host_unavailable' });
    }
  });

  it("passes a 429's Retry-After on, in seconds or as a date", async () => {
    const seconds = directoryOver([answer(429, {}, { retryAfter: '30' })]);
    expect(await seconds.directory.usersActive('site', ['a'])).to.deep.equal({ ok: false, code: 'rate_limited', retryAfterMs: 30_000 });
    expect(retryAfterMs(new Date(NOW + 90_000).toUTCString(), NOW)).to.equal(90_000);
    expect(retryAfterMs(null, NOW)).to.equal(DEFAULT_RETRY_AFTER_MS);
    expect(retryAfterMs('soon', NOW)).to.equal(DEFAULT_RETRY_AFTER_MS);
    expect(retryAfterMs('0', NOW)).to.equal(1_000);
  });

  it('does not ask about a tenant without Connect credentials', async () => {
    const { directory, asked } = directoryOver([], false);
    expect(await directory.usersActive('ari:cloud:ecosystem::installation/x', ['a'])).to.deep.equal({ ok: false, code: 'not_connect' });
    expect(asked).to.deep.equal([]);
  });
});

describe("Atlassian's personal data reporting API for a Connect app", () => {
  it('signs each report as ACE signs a call to the host: the app as issuer, the site as audience, a qsh for the URL', () => {
    const url = 'https://api.atlassian.com/app/report-accounts/';
    const header = reportAuthorization(url, { appKey: 'panelguard', clientKey: 'site-a', sharedSecret: 's'.repeat(40), now: NOW / 1000 });
    expect(header).to.match(/^JWT /);
    const claims = decodeSymmetric(header.slice(4), 's'.repeat(40), SymmetricAlgorithm.HS256) as Record<string, unknown>;
    expect(claims).to.deep.equal({
      iss: 'panelguard',
      aud: ['site-a'],
      iat: NOW / 1000,
      exp: NOW / 1000 + 180,
      qsh: queryStringHash('POST', url, 'https://api.atlassian.com'),
    });
  });

  it('reads 204 as nothing to do, and 200 as the accounts closed and updated', () => {
    expect(reportResult(answer(204, null), NOW)).to.deep.equal({ ok: true, value: { closed: [], updated: [], answeredAt: NOW } });
    const body = { accounts: [{ accountId: 'a', status: 'closed' }, { accountId: 'b', status: 'updated' }] };
    expect(reportResult(answer(200, body), NOW)).to.deep.equal({ ok: true, value: { closed: ['a'], updated: ['b'], answeredAt: NOW } });
  });

  it('reads a 429 as a pause, and anything undocumented as a failure that ends nothing', () => {
    expect(reportResult(answer(429, null, { retryAfter: '5' }), NOW)).to.deep.equal({ ok: false, code: 'rate_limited', retryAfterMs: 5_000 });
    for (const reply of [null, answer(500, null), answer(200, { accounts: [{ accountId: 'a', status: 'gone' }] }), answer(200, 'closed')]) {
      expect(reportResult(reply, NOW), JSON.stringify(reply)).to.deep.equal({ ok: false, code: 'host_unavailable' });
    }
  });
});
