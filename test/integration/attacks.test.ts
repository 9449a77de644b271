/**
 * The attacks an outside run found working, replayed over real HTTP against the app and the host simulator,
 * and the hardening that came with their fixes. Each test here failed on the code before the fix.
 */
import { expect } from 'chai';
import { ALICE, ISSUE, pageTokenOf, startStack, type Stack } from './harness';

const OPERATOR_SECRET = 'op-'.padEnd(40, 'x');
const METRICS_SECRET = 'metrics-'.padEnd(40, 'm');

function unsignedJwt(claims: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

async function auditReasons(stack: Stack, kind: string): Promise<string[]> {
  const response = await fetch(`${stack.app.baseUrl}/api/admin/audit?kind=${kind}&limit=100`, {
    headers: { authorization: `Bearer ${OPERATOR_SECRET}` },
  });
  const body = (await response.json()) as { records: { reason: string | null }[] };
  return body.records.map((record) => record.reason ?? '');
}

async function metric(stack: Stack, sample: string): Promise<number> {
  const text = await (await fetch(`${stack.app.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_SECRET}` } })).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  if (line === undefined) throw new Error(`no sample ${sample}`);
  return Number(line.slice(sample.length + 1));
}

describe('HTTP: attacks that must fail', () => {
  let stack: Stack;
  let simNow = Date.now;

  beforeEach(async () => {
    simNow = Date.now;
    const clientKey = `attack-${Math.random().toString(36).slice(2)}`;
    stack = await startStack({
      simNow: () => simNow(),
      clientKey,
      env: { METRICS_TOKEN: METRICS_SECRET, OPERATOR_TOKEN: `${clientKey}:${OPERATOR_SECRET}` },
    });
  });

  afterEach(async () => {
    await stack.stop();
  });

  describe('a Connect JWT from before a removal, after reactivation', () => {
    it('cannot mint when smuggled in the body beside an unsigned header with a later iat', async () => {
      const signed = new URL(stack.sim.panelUrl('issue-notes', ISSUE, ALICE));
      const jwt = signed.searchParams.get('jwt') as string;
      signed.searchParams.delete('jwt');
      await stack.sim.removeUser(ALICE);
      await stack.sim.reactivateUser(ALICE);
      const forged = unsignedJwt({ iss: stack.sim.clientKey, sub: ALICE, iat: Math.floor(Date.now() / 1000) + 3600, exp: 9e9 });
      // fetch sends no body with a GET; a hand-written request does, as an attacker's client would.
      const raw = await rawRequest(signed, 'GET', { 'content-type': 'application/json', authorization: `JWT ${forged}` }, JSON.stringify({ jwt }));
      // A page load's body is never read: the only Connect JWT left is the unsigned one, which ACE refuses.
      expect(raw.status).to.equal(401);
      expect(pageTokenOf(raw.body)).to.equal(null);
    });

    it('cannot mint from a body alone on a page load, which is never parsed', async () => {
      const signed = new URL(stack.sim.panelUrl('issue-notes', ISSUE, ALICE));
      const jwt = signed.searchParams.get('jwt') as string;
      signed.searchParams.delete('jwt');
      const raw = await rawRequest(signed, 'GET', { 'content-type': 'application/json' }, JSON.stringify({ jwt }));
      expect(raw.status).to.equal(401);
      expect(pageTokenOf(raw.body)).to.equal(null);
    });

    it('is judged by its own iat when sent alone: no mint for the reactivated user', async () => {
      const old = stack.sim.panelUrl('issue-notes', ISSUE, ALICE, { iat: Math.floor(Date.now() / 1000) - 5 });
      await stack.sim.removeUser(ALICE);
      await stack.sim.reactivateUser(ALICE);
      const response = await fetch(old);
      expect(response.status).to.equal(403);
      expect(pageTokenOf(await response.text())).to.equal(null);
      // A page Jira renders after the reactivation (its JWT issued a second later at least) mints.
      simNow = () => Date.now() + 2_000;
      expect((await stack.loadPanel(ALICE)).status).to.equal(200);
    });

    it('refuses a Connect JWT in the query and another in the header', async () => {
      const signed = stack.sim.panelUrl('issue-notes', ISSUE, ALICE);
      const jwt = new URL(signed).searchParams.get('jwt') as string;
      const response = await fetch(signed, { headers: { authorization: `JWT ${jwt}` } });
      expect(response.status).to.equal(400);
    });
  });

  describe('a replayed signed install', () => {
    it('cannot take the site over with a new shared secret and address', async () => {
      const genuine = stack.sim.lastLifecycleCall('installed');
      if (genuine === undefined) throw new Error('no install was sent');
      const token = (await stack.loadPanel(ALICE)).token;
      const replay = await fetch(genuine.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: genuine.authorization },
        body: JSON.stringify({ ...genuine.body, sharedSecret: 'attacker-'.padEnd(48, 's'), baseUrl: 'http://127.0.0.1:9/evil' }),
      });
      expect(replay.status).to.equal(401);
      expect(((await replay.json()) as { error: { code: string } }).error.code).to.equal('token_replayed');
      // The genuine host still signs with the secret it installed; its pages and tokens keep working.
      expect((await stack.loadPanel(ALICE)).status).to.equal(200);
      expect((await stack.api(token, 'GET', ISSUE.issueId)).status).to.equal(200);
      expect(await auditReasons(stack, 'lifecycle')).not.to.include('shared_secret_changed');
    });

    it('refuses a lifecycle JWT signed before the last one accepted for the site', async () => {
      simNow = () => Date.now() - 60_000;
      const stale = await stack.sim.disable();
      expect(stale?.status).to.equal(401);
      expect(((await stale?.json()) as { error: { code: string } }).error.code).to.equal('token_stale');
      simNow = Date.now;
      expect((await stack.loadPanel(ALICE)).status).to.equal(200);
    });

    it('audits a reinstall that changes the shared secret, and ends the tokens of a site whose address changed', async () => {
      const token = (await stack.loadPanel(ALICE)).token;
      expect((await stack.sim.install(stack.app.baseUrl)).status).to.equal(204);
      expect(await auditReasons(stack, 'lifecycle')).to.include('shared_secret_changed');
      expect((await stack.api(token, 'GET', ISSUE.issueId)).status).to.equal(200);
      await stack.app.tenants.installed(stack.sim.clientKey, 'https://moved.example.net', { sharedSecretChanged: false });
      expect((await stack.api(token, 'GET', ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
      expect(await auditReasons(stack, 'lifecycle')).to.include('base_url_changed');
    });
  });

  describe('junk tokens naming made-up sites', () => {
    it('are refused without a key derived or kept for any of them', async () => {
      expect((await stack.loadPanel(ALICE)).status).to.equal(200);
      const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      for (let i = 0; i < 2_000; i += 1) {
        const junk = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ iss: 'panelguard', aud: `made-up-${i}`, sub: 'x', jti: 'x', res: 'jira:issue:10001', iat: 1, exp: 9e9 })}.c2ln`;
        const answer = await stack.api(junk, 'GET', ISSUE.issueId);
        expect(answer.body.error?.code).to.equal('token_invalid');
      }
      expect(await metric(stack, 'panelguard_page_token_cache_entries{cache="tenant_keys"}')).to.equal(1);
      expect(await metric(stack, 'panelguard_page_token_cache_entries{cache="unknown_tenants"}')).to.be.at.most(10_000);
    });
  });

  describe('response headers', () => {
    it('sends nosniff on pages, the API, the admin API, errors and the page shown when Connect authentication fails', async () => {
      const token = (await stack.loadPanel(ALICE)).token;
      const base = stack.app.baseUrl;
      const answers = [
        await fetch(stack.sim.panelUrl('issue-notes', ISSUE, ALICE)),
        await fetch(`${base}/api/issues/${ISSUE.issueId}/notes`, { headers: { authorization: `Bearer ${token}` } }),
        await fetch(`${base}/api/issues/${ISSUE.issueId}/notes`),
        await fetch(`${base}/api/admin/sessions`),
        await fetch(`${base}/panels/issue-notes?issueId=1&issueKey=A-1&projectId=1`),
        await fetch(`${base}/panels/issue-notes?issueId=1&issueKey=A-1&projectId=1&jwt=not.a.jwt`),
        await fetch(`${base}/no/such/path`),
        await fetch(`${base}/atlassian-connect.json`),
        await fetch(`${base}/healthz`),
      ];
      for (const answer of answers) {
        expect(answer.headers.get('x-content-type-options'), answer.url).to.equal('nosniff');
        expect(answer.headers.get('referrer-policy'), answer.url).to.equal('no-referrer');
        expect(answer.headers.get('x-frame-options'), answer.url).to.equal(null);
        expect(answer.headers.get('content-security-policy'), answer.url).to.match(/frame-ancestors /);
      }
    });

    it("lets only the tenant's own site frame a page, and nothing frame anything else", async () => {
      const page = await fetch(stack.sim.panelUrl('issue-notes', ISSUE, ALICE));
      expect(page.headers.get('content-security-policy')).to.include(`frame-ancestors ${new URL(stack.sim.baseUrl).origin}`);
      const api = await fetch(`${stack.app.baseUrl}/api/issues/${ISSUE.issueId}/notes`);
      expect(api.headers.get('content-security-policy')).to.include("frame-ancestors 'none'");
    });

    it("lets a framed page load scripts from itself and its tenant's site only, and loads all.js from that site", async () => {
      const hostOrigin = new URL(stack.sim.baseUrl).origin;
      const page = await fetch(stack.sim.panelUrl('issue-notes', ISSUE, ALICE));
      expect(page.headers.get('content-security-policy')).to.include(`script-src 'self' ${hostOrigin};`);
      expect(await page.text()).to.include(`<script src="${hostOrigin}/atlassian-connect/all.js"></script>`);
      const api = await fetch(`${stack.app.baseUrl}/api/issues/${ISSUE.issueId}/notes`);
      expect(api.headers.get('content-security-policy')).to.include("script-src 'self';");
    });
  });

  describe('hardened edges', () => {
    it('takes the bearer scheme in any case, as RFC 7235 says', async () => {
      const token = (await stack.loadPanel(ALICE)).token as string;
      for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
        const response = await fetch(`${stack.app.baseUrl}/api/issues/${ISSUE.issueId}/notes`, { headers: { authorization: `${scheme} ${token}` } });
        expect(response.status, scheme).to.equal(200);
      }
    });

    it('applies a webhook delivery once, however often the host retries it', async () => {
      const token = (await stack.loadPanel(ALICE)).token;
      const removal = { timestamp: Date.now(), user: { accountId: ALICE } };
      const first = await stack.sim.sendWebhook('user_deleted', removal, { deliveryId: 'delivery-1' });
      expect(((await first.json()) as { applied: boolean }).applied).to.equal(true);
      const retry = await stack.sim.sendWebhook('user_deleted', removal, { deliveryId: 'delivery-1' });
      expect(await retry.json()).to.deep.equal({ applied: false, revoked: 0, confirmation: null, duplicate: true });
      expect(retry.headers.get('revocation-confirmed')).to.equal(null);
      expect((await stack.api(token, 'GET', ISSUE.issueId)).body.error?.code).to.equal('token_revoked');
    });

    it('refuses a delivery id that is not a plain token of at most 128 characters', async () => {
      const response = await stack.sim.sendWebhook('user_deleted', { user: { accountId: ALICE } }, { deliveryId: 'x'.repeat(129) });
      expect(response.status).to.equal(400);
    });

    it('serves /metrics only with the METRICS_TOKEN when one is set', async () => {
      const url = `${stack.app.baseUrl}/metrics`;
      expect((await fetch(url)).status).to.equal(401);
      expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token' } })).status).to.equal(401);
      const scraped = await fetch(url, { headers: { authorization: `bearer ${METRICS_SECRET}` } });
      expect(scraped.status).to.equal(200);
      expect(await scraped.text()).to.include('panelguard_checks_total');
    });
  });
});

/** One HTTP/1.1 request with any method and body, as a hand-written client would send it. */
async function rawRequest(url: URL, method: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    request.on('error', reject);
    request.end(body);
  });
}
