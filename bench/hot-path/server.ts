/**
 * The hot-path bench's server, in a process of its own: the real app on a SQLite file, installed by the host
 * simulator, with one trivial route served three ways (plain, behind PanelGuard's guard, behind ACE's
 * checkValidToken) so that the only difference between them is the check.
 */
import '../lib/as-deployed';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Router, type Request, type Response } from 'express';
import { requirePageToken } from '../../routes/guard';
import { issueResource, JIRA_ID } from '../../src/allowlist/resource';
import { startApp, type RunningApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { startHostSimulator, type HostSimulator } from '../../src/host-simulator';
import { createLogger } from '../../src/logger';
import { pageTokenOf } from '../../test/integration/harness';
import { serveRequests } from '../lib/process';
import { BENCH_ISSUE, type ServerStart, type StartedServer } from './protocol';

let running: { app: RunningApp; sim: HostSimulator; dataDir: string } | null = null;

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
  const sim = await startHostSimulator({ users });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'panelguard-bench-'));
  const operatorToken = randomBytes(32).toString('base64url');
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: dataDir,
    CONNECT_KEYS_CDN_URL: sim.keysUrl,
    PAGE_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    OPERATOR_TOKEN: `${sim.clientKey}:${operatorToken}`,
    LOG_LEVEL: 'warn',
  });
  const app = await startApp(config, {
    logger: createLogger('warn'),
    routes: ({ allowlist, addon }) => {
      const router = Router();
      const issueOf = (req: Request) => (JIRA_ID.test(req.params.issueId) ? issueResource(req.params.issueId, null).resource : null);
      router.get('/bench/plain/:issueId', answer);
      router.get('/bench/guard/:issueId', requirePageToken(allowlist, issueOf), answer);
      router.get('/bench/ace/:issueId', addon.checkValidToken(), answer);
      return router;
    },
  });
  running = { app, sim, dataDir };
  const installed = await sim.install(app.baseUrl);
  if (installed.status !== 204) throw new Error(`install failed: ${installed.status}`);

  // Each user renders the issue panel once, as the host would: our page token from the page, ACE's own
  // session token (the one its checkValidToken() accepts) from the X-acpt header of the same answer.
  const tokens = [];
  for (const user of users) {
    const response = await fetch(sim.panelUrl('issue-notes', BENCH_ISSUE, user.accountId));
    const html = await response.text();
    const pageToken = pageTokenOf(html);
    const aceToken = response.headers.get('x-acpt');
    if (response.status !== 200 || pageToken === null || aceToken === null) {
      throw new Error(`panel render failed for ${user.accountId}: ${response.status}`);
    }
    tokens.push({ accountId: user.accountId, pageToken, aceToken });
  }
  return { baseUrl: app.baseUrl, pid: process.pid, operatorToken, tokens };
}

async function stop(): Promise<void> {
  if (running === null) return;
  const { app, sim, dataDir } = running;
  running = null;
  await app.close();
  await sim.close();
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
