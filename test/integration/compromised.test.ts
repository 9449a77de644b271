/**
 * Leak reports over real HTTP (issue 13): `POST /api/admin/compromised` from an operator and from a site admin's
 * page, ending every session of a leaked token's user and nothing else, counting a mixed report, idempotent, by a
 * rotated session's current token, never by a forged one, and never writing a reported token to the logs. The app's
 * clock is a ManualClock, so rotation and expiry come without sleeping.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ManualClock } from '../../src/base/clock';
import { hashTokenId } from '../../src/tokens/hash';
import { ALICE, BOB, ISSUE, OTHER_ISSUE, OTHER_PROJECT_ISSUE, pageTokenOf, startStack, type Stack } from './harness';
import { openPage, VICTIM } from './page-client';

const ADMIN = '557058:site-admin';
const OPERATOR_SECRET = randomBytes(24).toString('base64url');
const OTHER_SITE_SECRET = randomBytes(24).toString('base64url');
const MINUTE = 60_000;

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

const jtiOf = (token: string) => (jwt.decode(token, { json: true }) as { jti: string }).jti;
const counted = (fields: Record<string, number>) => {
  const counts = { matched: 0, alreadyRevoked: 0, expired: 0, unknown: 0, malformed: 0, users: 0, ...fields };
  return { reports: counts.matched + counts.alreadyRevoked + counts.expired + counts.unknown + counts.malformed, ...counts };
};

describe('leak reports over HTTP', function () {
  this.timeout(30_000);
  let stack: Stack;
  let clock: ManualClock;
  /** Every token a test reported or forged: none may reach the logs. */
  let reported: string[];

  beforeEach(async () => {
    const clientKey = `site-${randomBytes(6).toString('hex')}`;
    clock = new ManualClock(Date.now());
    stack = await startStack({ clock, clientKey, env: { OPERATOR_TOKEN: `${clientKey}:${OPERATOR_SECRET},another-site:${OTHER_SITE_SECRET}` } });
    stack.sim.directory.add({ accountId: ADMIN, displayName: 'Ada Admin', siteAdmin: true });
    reported = [];
  });

  afterEach(async () => {
    const logs = stack.logs.text();
    await stack?.stop();
    for (const token of reported) {
      expect(logs, 'a reported token in the logs').not.to.contain(token);
      expect(logs, "a reported token's id in the logs").not.to.contain(jtiOf(token));
    }
  });

  async function post(bearer: string | null, contentType: string, body: string, query = ''): Promise<Answer> {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    const response = await fetch(`${stack.app.baseUrl}/api/admin/compromised${query}`, { method: 'POST', headers, body });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }

  /** Reports `lines` as a text/plain file would, from `source`. */
  function reportLines(bearer: string, lines: string[], source = 'breach-feed'): Promise<Answer> {
    return post(bearer, 'text/plain', lines.join('\n'), `?source=${encodeURIComponent(source)}`);
  }

  function reportJson(bearer: string, body: unknown): Promise<Answer> {
    return post(bearer, 'application/json', JSON.stringify(body));
  }

  async function panel(accountId: string, ctx = ISSUE): Promise<string> {
    const { status, token } = await stack.loadPanel(accountId, ctx);
    if (token === null) throw new Error(`no panel token: ${status}`);
    clock.advance(1);
    return token;
  }

  async function page(moduleKey: 'admin' | 'my-sessions', accountId: string): Promise<string> {
    const response = await fetch(stack.sim.pageUrl(moduleKey, accountId));
    const token = pageTokenOf(await response.text());
    if (token === null) throw new Error(`no ${moduleKey} page token: ${response.status}`);
    clock.advance(1);
    return token;
  }

  /** What a panel token gets from the notes API now: `200`, or the refusal's code. */
  async function standing(token: string, ctx = ISSUE): Promise<string> {
    const answer = await stack.api(token, 'GET', ctx.issueId);
    return answer.status === 200 ? '200' : (answer.body.error?.code ?? String(answer.status));
  }

  async function mySessions(token: string): Promise<number> {
    return (await fetch(`${stack.app.baseUrl}/api/me/sessions`, { headers: { authorization: `Bearer ${token}` } })).status;
  }

  it("ends every session of the leaked token's user, on every resource, and no one else's", async () => {
    const leaked = await panel(ALICE);
    const alices = [await panel(ALICE, OTHER_ISSUE), await panel(ALICE, OTHER_PROJECT_ISSUE)];
    const alicesOwnPage = await page('my-sessions', ALICE);
    const bobs = [await panel(BOB), await panel(BOB, OTHER_ISSUE)];
    reported.push(leaked);

    const answer = await reportLines(OPERATOR_SECRET, [leaked]);
    expect(answer.status).to.equal(200);
    expect(answer.body).to.deep.equal({ source: 'breach-feed', ...counted({ matched: 1, users: 1 }) });
    expect(await standing(leaked)).to.equal('token_revoked');
    expect([await standing(alices[0], OTHER_ISSUE), await standing(alices[1], OTHER_PROJECT_ISSUE)]).to.deep.equal(['token_revoked', 'token_revoked']);
    expect(await mySessions(alicesOwnPage)).to.equal(401);
    expect([await standing(bobs[0]), await standing(bobs[1], OTHER_ISSUE)]).to.deep.equal(['200', '200']);
  });

  it('records the ending in the audit as a compromised credential, by the source', async () => {
    const leaked = await panel(ALICE);
    await panel(ALICE, OTHER_ISSUE);
    reported.push(leaked);
    await reportLines(OPERATOR_SECRET, [leaked], 'stealer-logs:case-4411');
    const audit = await fetch(`${stack.app.baseUrl}/api/admin/audit?kind=revoke`, { headers: { authorization: `Bearer ${OPERATOR_SECRET}` } });
    const { records } = (await audit.json()) as { records: { accountId: string; actor: string; reason: string; count: number }[] };
    expect(records.map(({ accountId, actor, reason, count }) => ({ accountId, actor, reason, count }))).to.deep.equal([
      { accountId: ALICE, actor: 'intel:stealer-logs:case-4411', reason: 'credential_compromised', count: 2 },
    ]);
  });

  it("takes a site admin's report through the admin page's token, as JSON", async () => {
    const leaked = await panel(BOB);
    const alice = await panel(ALICE);
    reported.push(leaked);
    const admin = await page('admin', ADMIN);
    const answer = await reportJson(admin, { source: 'admin-upload', reports: [{ token: leaked }, { hash: hashTokenId('never-minted') }] });
    expect(answer.status).to.equal(200);
    expect(answer.body).to.deep.equal({ source: 'admin-upload', ...counted({ matched: 1, unknown: 1, users: 1 }) });
    expect(await standing(leaked)).to.equal('token_revoked');
    expect(await standing(alice)).to.equal('200');
  });

  it("refuses the report of a user whose page token is not the admin page's, and of no one at all", async () => {
    const bob = await panel(BOB);
    reported.push(bob);
    const refused = await reportLines(bob, [bob]);
    expect(refused.status).to.equal(403);
    expect(refused.body.error?.code).to.equal('forbidden');
    expect((await reportLines('', [bob])).status).to.equal(401);
    expect(await standing(bob)).to.equal('200');
  });

  it('counts each report of a mixed file under what it found', async () => {
    const expired = await panel(ALICE);
    clock.advance(11 * MINUTE);
    const live = await panel(ALICE);
    const byHash = await panel(BOB);
    const revoked = await panel('557058:carol');
    await fetch(`${stack.app.baseUrl}/api/admin/users/${encodeURIComponent('557058:carol')}/sessions`, { method: 'DELETE', headers: { authorization: `Bearer ${OPERATOR_SECRET}` } });
    reported.push(expired, live, byHash, revoked);
    const lines = ['# stealer log export, 2026-01-31', live, hashTokenId(jtiOf(byHash)).toUpperCase(), revoked, expired, hashTokenId('never-minted'), 'hunter2', '', JSON.stringify({ hash: 'not a hash' })];
    const answer = await reportLines(OPERATOR_SECRET, lines);
    expect(answer.body).to.deep.equal({ source: 'breach-feed', ...counted({ matched: 2, alreadyRevoked: 1, expired: 1, unknown: 1, malformed: 2, users: 2 }) });
  });

  it('ends nothing new when the same report comes again, not even the sessions opened since', async () => {
    const leaked = [await panel(ALICE), await panel(BOB)];
    reported.push(...leaked);
    const lines = [...leaked, hashTokenId('never-minted')];
    expect((await reportLines(OPERATOR_SECRET, lines)).body).to.deep.equal({ source: 'breach-feed', ...counted({ matched: 2, unknown: 1, users: 2 }) });
    const reopened = await panel(ALICE);
    expect((await reportLines(OPERATOR_SECRET, lines)).body).to.deep.equal({ source: 'breach-feed', ...counted({ alreadyRevoked: 2, unknown: 1 }) });
    expect(await standing(reopened)).to.equal('200');
  });

  it("matches a rotated session by its current token, the one the page holds now", async () => {
    const victim = await openPage(stack.sim.panelUrl('issue-notes', ISSUE, ALICE), VICTIM);
    const first = victim.token;
    clock.advance(MINUTE + 1);
    await victim.call(stack.app.baseUrl);
    expect(victim.switches, 'the page took a successor').to.equal(1);
    expect((await victim.call(stack.app.baseUrl)).status, 'the successor is current').to.equal(200);
    const current = victim.token;
    const other = await panel(ALICE, OTHER_ISSUE);
    reported.push(first, current);

    expect((await reportLines(OPERATOR_SECRET, [current])).body).to.deep.equal({ source: 'breach-feed', ...counted({ matched: 1, users: 1 }) });
    expect((await victim.call(stack.app.baseUrl)).code).to.equal('token_revoked');
    expect(await standing(other, OTHER_ISSUE)).to.equal('token_revoked');
  });

  it("ends nothing for a forged token that names someone's session with a jti of its own", async () => {
    const victim = await panel(ALICE);
    const claims = jwt.decode(victim, { json: true }) as Record<string, unknown>;
    const forged = jwt.sign({ ...claims, jti: randomBytes(16).toString('base64url'), sid: hashTokenId(jtiOf(victim)), seq: 1 }, randomBytes(32));
    reported.push(forged);
    expect((await reportLines(OPERATOR_SECRET, [forged])).body).to.deep.equal({ source: 'breach-feed', ...counted({ unknown: 1 }) });
    expect(await standing(victim)).to.equal('200');
  });

  it("counts another site's session as unknown, and leaves it alone", async () => {
    const alice = await panel(ALICE);
    reported.push(alice);
    expect((await reportLines(OTHER_SITE_SECRET, [alice])).body).to.deep.equal({ source: 'breach-feed', ...counted({ unknown: 1 }) });
    expect(await standing(alice)).to.equal('200');
  });

  it('logs what a report found, never what it reported', async () => {
    const leaked = await panel(ALICE);
    reported.push(leaked);
    await reportLines(OPERATOR_SECRET, [leaked, JSON.stringify({ token: leaked })]);
    await reportJson(OPERATOR_SECRET, { source: 'json-feed', reports: [leaked, { token: leaked }] });
    const applied = stack.logs.lines.filter((line) => line.includes('leak report applied'));
    expect(applied).to.have.length(2);
    expect(JSON.parse(applied[0]).counts).to.deep.equal(counted({ matched: 2, users: 1 }));
  });

  describe('refusals', () => {
    it('answers 400 without a source, or with one that is not a label', async () => {
      for (const answer of [
        await post(OPERATOR_SECRET, 'text/plain', hashTokenId('x')),
        await post(OPERATOR_SECRET, 'text/plain', hashTokenId('x'), '?source=has%20space'),
        await reportJson(OPERATOR_SECRET, { reports: [hashTokenId('x')] }),
        await reportJson(OPERATOR_SECRET, { source: '', reports: [] }),
      ]) {
        expect(answer.status).to.equal(400);
        expect(answer.body.error?.code).to.equal('bad_request');
        expect(answer.body.error?.message).to.match(/^source: /);
      }
    });

    it('answers 400 for a JSON body without reports, with unknown fields, or not JSON at all, and for another content type', async () => {
      expect((await reportJson(OPERATOR_SECRET, { source: 's' })).body.error?.message).to.equal('reports: required');
      expect((await reportJson(OPERATOR_SECRET, { source: 's', reports: [], extra: 1 })).status).to.equal(400);
      expect((await post(OPERATOR_SECRET, 'application/json', '{"source": ')).status).to.equal(400);
      const other = await post(OPERATOR_SECRET, 'application/x-www-form-urlencoded', 'source=s');
      expect(other.status).to.equal(400);
      expect(other.body.error?.message).to.match(/text\/plain/);
    });

    it('answers 413 past 10,000 reports in either form, and past the size limit, ending nothing', async () => {
      const leaked = await panel(ALICE);
      reported.push(leaked);
      const many = [leaked, ...Array.from({ length: 10_000 }, (_, i) => hashTokenId(`unknown-${i}`))];
      for (const answer of [await reportLines(OPERATOR_SECRET, many), await reportJson(OPERATOR_SECRET, { source: 's', reports: many })]) {
        expect(answer.status).to.equal(413);
        expect(answer.body.error).to.include({ code: 'payload_too_large' });
        expect(answer.body.error?.message).to.contain('10000 reports');
      }
      const huge = await post(OPERATOR_SECRET, 'text/plain', 'x'.repeat(9 * 1024 * 1024), '?source=s');
      expect(huge.status).to.equal(413);
      expect(huge.body.error?.message).to.contain('MB');
      expect(await standing(leaked)).to.equal('200');
      // Exactly the limit is taken.
      expect((await reportLines(OPERATOR_SECRET, many.slice(1))).body).to.include({ reports: 10_000, unknown: 10_000 });
    });
  });
});
