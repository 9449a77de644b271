/**
 * The hot-path bench's server, in a process of its own: the real app on a SQLite file, installed by the host
 * simulator, with one trivial route served three ways (plain, behind PanelGuard's guard, behind ACE's
 * checkValidToken) so that the only difference between them is the check. A second site, installed beside the
 * first, binds its tokens to keys: its pages' calls reach the same guarded route.
 */
import '../lib/as-deployed';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Router, type Request, type Response } from 'express';
import { requirePageToken } from '../../routes/guard';
import { issueResource, JIRA_ID } from '../../src/allowlist/resource';
import { startApp, type RunningApp } from '../../src/app/app';
import { loadConfig } from '../../src/app/config';
import { startHostSimulator, type HostSimulator } from '../../src/host-simulator';
import { createLogger } from '../../src/observability/logger';
import { pageTokenOf } from '../../test/integration/harness';
import { startFitSigner, type FitSigner } from '../../test/support/fit-signer';
import { serveRequests } from '../lib/process';
import { BENCH_ISSUE, type ServerStart, type StartedServer } from './protocol';

let running: { app: RunningApp; sims: HostSimulator[]; keys: InstallKeys; fits: FitSigner; dataDir: string } | null = null;

/**
 * Rotation as the bench's server runs it: a token is offered its successor after one second, so that a page
 * following Page-Token-Next rotates several times in every run; the grace is the default.
 */
const ROTATION = { afterSeconds: 1, graceSeconds: 10 };

/** Where ACE's authenticateForge() fetches Atlassian's JWKS, on every call; it cannot be configured. */
const ATLASSIAN_JWKS_HOST = 'forge.cdn.prod.atlassian-dev.net';

/**
 * ACE's authenticateForge() fetches Atlassian's production JWKS by a fixed URL, which this machine cannot reach.
 * In this bench process only, that one host is served by the FIT signer's JWKS on loopback (over http), so that
 * ACE does exactly the work it does in production. Everything else goes out untouched.
 */
function serveAtlassianJwksFrom(jwksUrl: string): void {
  const get = https.get;
  https.get = ((url: string | URL, ...rest: unknown[]) => {
    const target = typeof url === 'string' ? new URL(url) : url;
    if (target.hostname !== ATLASSIAN_JWKS_HOST) return (get as (...args: unknown[]) => http.ClientRequest)(url, ...rest);
    const options = (typeof rest[0] === 'object' && rest[0] !== null ? rest[0] : {}) as http.RequestOptions;
    return http.get(jwksUrl, { timeout: options.timeout, headers: options.headers });
  }) as typeof https.get;
}

/** Atlassian's install-key CDN serves every site's key; each simulator serves only its own, so this asks each in turn. */
interface InstallKeys {
  url: string;
  close(): Promise<void>;
}

async function startInstallKeys(sims: HostSimulator[]): Promise<InstallKeys> {
  const server = http.createServer((req, res) => {
    void (async () => {
      for (const sim of sims) {
        const found = await fetch(`${sim.keysUrl}${req.url ?? '/'}`).catch(() => null);
        if (found?.status === 200) return res.writeHead(200, { 'content-type': 'text/plain' }).end(await found.text());
      }
      res.writeHead(404).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Renders the bench issue's panel for `accountId` on `sim`'s site and returns its page token (and ACE's session token). */
async function renderPanel(sim: HostSimulator, accountId: string): Promise<{ pageToken: string; aceToken: string }> {
  const response = await fetch(sim.panelUrl('issue-notes', BENCH_ISSUE, accountId));
  const html = await response.text();
  const pageToken = pageTokenOf(html);
  const aceToken = response.headers.get('x-acpt');
  if (response.status !== 200 || pageToken === null || aceToken === null) throw new Error(`panel render failed for ${accountId}: ${response.status}`);
  return { pageToken, aceToken };
}

/** The same answer for all three routes: small, constant, no store access. */
function answer(req: Request, res: Response): void {
  res.json({ issueId: req.params.issueId, ok: true });
}

async function start(request: ServerStart): Promise<StartedServer> {
  const users = Array.from({ length: request.users }, (_, index) => ({
    accountId: `557058:bench-${index}`,
    displayName: `Bench user ${index}`,
    active: true,
    siteAdmin: false,
  }));
  const rotatingUser = { accountId: '557058:bench-rotating', displayName: 'Bench rotating page', active: true, siteAdmin: false };
  const boundUser = { accountId: '557058:bench-bound', displayName: 'Bench key-bound page', active: true, siteAdmin: false };
  const sim = await startHostSimulator({ users: [...users, rotatingUser] });
  const boundSite = await startHostSimulator({ users: [boundUser] });
  const keys = await startInstallKeys([sim, boundSite]);
  const fits = await startFitSigner();
  serveAtlassianJwksFrom(fits.jwksUrl);
  // ACE reads the Forge app id from the environment (or a config.json the project has none of).
  process.env.AC_APP_ID = fits.appId;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'panelguard-bench-'));
  const operatorToken = randomBytes(32).toString('base64url');
  const boundOperatorToken = randomBytes(32).toString('base64url');
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: dataDir,
    CONNECT_KEYS_CDN_URL: keys.url,
    PAGE_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    OPERATOR_TOKEN: `${sim.clientKey}:${operatorToken},${boundSite.clientKey}:${boundOperatorToken}`,
    FORGE_APP_ID: fits.appId,
    FORGE_JWKS_URL: fits.jwksUrl,
    // Figure 1 now runs longer than the default 300 s, and figure 5's tokens, minted at the start, wait through it:
    // idle as long as the lifetime (600 s) allows, which is what the 3600 given here before came to.
    IDLE_TIMEOUT_SECONDS: '600',
    ROTATE_AFTER_SECONDS: String(ROTATION.afterSeconds),
    ROTATION_GRACE_SECONDS: String(ROTATION.graceSeconds),
    LOG_LEVEL: 'warn',
  });
  const app = await startApp(config, {
    logger: createLogger('warn'),
    routes: ({ allowlist, addon, guard, baseUrl }) => {
      const router = Router();
      const issueOf = (req: Request) => (JIRA_ID.test(req.params.issueId) ? issueResource(req.params.issueId, null).resource : null);
      router.get('/bench/plain/:issueId', answer);
      router.get('/bench/guard/:issueId', requirePageToken(allowlist, issueOf, baseUrl), answer);
      router.get('/bench/ace/:issueId', addon.checkValidToken(), answer);
      // The guard with both doors: a FIT and an X-Page-Token take the Forge door.
      router.get('/bench/forge/:issueId', guard.page(issueOf), answer);
      // ACE's middleware writes into req.context, which only its other middleware would have made.
      router.get('/bench/ace-forge/:issueId', (req, _res, next) => ((req as Request & { context?: object }).context ??= {}, next()), addon.authenticateForge(), answer);
      return router;
    },
  });
  running = { app, sims: [sim, boundSite], keys, fits, dataDir };
  for (const site of [sim, boundSite]) {
    const installed = await site.install(app.baseUrl);
    if (installed.status !== 204) throw new Error(`install failed: ${installed.status}`);
  }
  await bindTokensToKeys(app.baseUrl, boundOperatorToken);
  const forge = await forgeSession(app.baseUrl, fits);

  // Each user renders the issue panel once, as the host would: our page token from the page, ACE's own
  // session token (the one its checkValidToken() accepts) from the X-acpt header of the same answer.
  const tokens = [];
  for (const user of users) tokens.push({ accountId: user.accountId, ...(await renderPanel(sim, user.accountId)) });
  // The rotating and the key-bound pages have sessions of their own: nothing else uses (or revokes) them.
  const rotating = await renderPanel(sim, rotatingUser.accountId);
  const bound = await renderPanel(boundSite, boundUser.accountId);
  return {
    baseUrl: app.baseUrl,
    pid: process.pid,
    operatorToken,
    tokens,
    forge,
    rotatingPageToken: rotating.pageToken,
    boundPageToken: bound.pageToken,
    rotation: ROTATION,
  };
}

/** The second site's admin turns key binding on, through the admin API as an operator would. */
async function bindTokensToKeys(baseUrl: string, operatorToken: string): Promise<void> {
  const response = await fetch(`${baseUrl}/api/admin/policy`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ keyBinding: true }),
  });
  const body = (await response.json()) as { policy?: { keyBinding?: boolean } };
  if (response.status !== 200 || body.policy?.keyBinding !== true) throw new Error(`turning key binding on failed: ${response.status} ${JSON.stringify(body)}`);
}

/** FITs the load sends in turn: more than any cache could hold between two uses of one. */
const FORGE_CALLS = 1_000;

/**
 * The Forge installation installed and one panel's page token minted, as Forge and the Custom UI would, and
 * FITs for the load: Forge signs a fresh one for every call, living 25 s; these live an hour, for the bench.
 */
async function forgeSession(baseUrl: string, fits: FitSigner): Promise<{ fits: string[]; pageToken: string }> {
  const installed = await fetch(`${baseUrl}/forge/lifecycle/installed`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await fits.sign({ principal: null, extension: null })}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: fits.installationId }),
  });
  if (installed.status !== 204) throw new Error(`forge install failed: ${installed.status}`);
  const extension = { type: 'jira:issuePanel', issue: { id: BENCH_ISSUE.issueId, key: BENCH_ISSUE.issueKey }, project: { id: BENCH_ISSUE.projectId, key: BENCH_ISSUE.projectKey } };
  const calls: string[] = [];
  for (let i = 0; i < FORGE_CALLS; i++) calls.push(await fits.sign({ extension, expiresIn: 3600 }));
  const minted = await fetch(`${baseUrl}/forge/sessions`, { method: 'POST', headers: { authorization: `Bearer ${calls[0]}` } });
  if (minted.status !== 200) throw new Error(`forge session failed: ${minted.status}`);
  const { pageToken } = (await minted.json()) as { pageToken: string };
  return { fits: calls, pageToken };
}

async function stop(): Promise<void> {
  if (running === null) return;
  const { app, sims, keys, fits, dataDir } = running;
  running = null;
  await app.close();
  for (const sim of sims) await sim.close();
  await keys.close();
  await fits.close();
  rmSync(dataDir, { recursive: true, force: true });
}

serveRequests(async (request: ServerStart | { kind: 'stop' } | { kind: 'rss' }) => {
  if (request.kind === 'start') return start(request);
  if (request.kind === 'rss') return process.memoryUsage().rss;
  await stop();
  return null;
});
process.on('SIGTERM', () => {
  stop().finally(() => process.exit(0));
});
