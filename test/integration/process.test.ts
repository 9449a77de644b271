import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { expect } from 'chai';
import { startHostSimulator, type HostSimulator } from '../../src/host-simulator';
import { PROJECT_ROOT } from '../../src/app/paths';
import { freePort } from '../support/ports';
import { ALICE, BOB, ISSUE, pageTokenOf } from './harness';


/** Polls /healthz a bounded number of times: the process is ready when it answers. */
async function waitUntilServing(baseUrl: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('server did not start within 15 s');
}

describe('process restart', function () {
  this.timeout(60_000);
  let sim: HostSimulator;
  let dataDir: string;
  let port: number;
  let child: ChildProcess | null = null;

  const baseUrl = () => `http://localhost:${port}`;

  async function startServer(): Promise<void> {
    child = spawn(process.execPath, ['--import', 'tsx', 'src/launch/server.ts'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, PORT: String(port), DATA_DIR: dataDir, CONNECT_KEYS_CDN_URL: sim.keysUrl, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitUntilServing(baseUrl(), child);
  }

  async function stopServer(): Promise<void> {
    if (child === null || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code, 'clean exit on SIGTERM').to.equal(0);
  }

  async function panelToken(accountId: string): Promise<string> {
    const response = await fetch(sim.panelUrl('issue-notes', ISSUE, accountId));
    const token = pageTokenOf(await response.text());
    expect(response.status).to.equal(200);
    return token as string;
  }

  async function codeOf(token: string): Promise<string> {
    const response = await fetch(`${baseUrl()}/api/issues/${ISSUE.issueId}/notes`, { headers: { authorization: `Bearer ${token}` } });
    if (response.ok) return 'ok';
    return ((await response.json()) as { error: { code: string } }).error.code;
  }

  before(async () => {
    sim = await startHostSimulator({
      users: [
        { accountId: ALICE, displayName: 'Alice', active: true, siteAdmin: false },
        { accountId: BOB, displayName: 'Bob', active: true, siteAdmin: false },
      ],
    });
    dataDir = mkdtempSync(path.join(tmpdir(), 'panelguard-process-'));
    port = await freePort();
  });

  after(async () => {
    await stopServer();
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps live tokens live and revoked tokens revoked across a restart of the process', async () => {
    await startServer();
    expect((await sim.install(baseUrl())).status).to.equal(204);
    const alice = await panelToken(ALICE);
    const bob = await panelToken(BOB);
    await sim.removeUser(BOB);
    expect(await codeOf(bob)).to.equal('token_revoked');

    await stopServer();
    await startServer();

    expect(await codeOf(alice)).to.equal('ok');
    expect(await codeOf(bob)).to.equal('token_revoked');
    // The tenant and its shared secret survived too: the host can still render pages.
    expect(await codeOf(await panelToken(ALICE))).to.equal('ok');
  });
});
