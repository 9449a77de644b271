/** Test harness: the real app on a SQLite file and the host simulator, talking over real HTTP. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Clock } from '../../src/allowlist/types';
import { startApp, type AppOverrides, type AppStore, type RunningApp } from '../../src/app/app';
import { loadConfig } from '../../src/app/config';
import { startHostSimulator, type HostSimulator, type IssueContext } from '../../src/host-simulator';
import { startForgeSimulator, type ForgeSimulator, type ForgeSimulatorOptions } from '../../src/host-simulator/forge';
import { createLogger } from '../../src/observability/logger';

export const ISSUE: IssueContext = { issueId: '10001', issueKey: 'DEMO-1', projectId: '10000', projectKey: 'DEMO' };
export const OTHER_ISSUE: IssueContext = { issueId: '10002', issueKey: 'DEMO-2', projectId: '10000', projectKey: 'DEMO' };
export const OTHER_PROJECT_ISSUE: IssueContext = { issueId: '20001', issueKey: 'OPS-1', projectId: '20000', projectKey: 'OPS' };
export const ALICE = '557058:alice';
export const BOB = '557058:bob';

/** Everything the app logged, to prove no secret or token reached it. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(chunk.toString());
    done();
  }
  text(): string {
    return this.lines.join('');
  }
}

export interface Stack {
  sim: HostSimulator;
  app: RunningApp;
  logs: LogCapture;
  dataDir: string;
  /** Loads the issue panel as the host would and returns its status and page token. */
  loadPanel(accountId: string, ctx?: IssueContext): Promise<{ status: number; html: string; token: string | null }>;
  api(token: string | null, method: 'GET' | 'POST', issueId: string, body?: unknown): Promise<{ status: number; body: ApiBody; headers: Headers }>;
  restartApp(): Promise<void>;
  stop(): Promise<void>;
}

/** A stack whose site also plays Forge: the app knows the simulated Forge's app id and JWKS from its start. */
export interface ForgeStack extends Stack {
  forge: ForgeSimulator;
}

export interface ApiBody {
  error?: { code: string; message: string };
  notes?: { id: string; accountId: string; text: string; createdAt: number }[];
  note?: { id: string; text: string };
}

export function pageTokenOf(html: string): string | null {
  return /<meta name="page-token" content="([^"]+)">/.exec(html)?.[1] ?? null;
}

export interface StackOptions {
  install?: boolean;
  clock?: Clock;
  /** Configuration on top of the harness's own; a function when it names the simulator's addresses. */
  env?: Record<string, string> | ((sim: HostSimulator) => Record<string, string>);
  /** The simulated site's clientKey (random by default). */
  clientKey?: string;
  /** A vendor's own routes, as startApp takes them. */
  routes?: AppOverrides['routes'];
  /** The simulated Jira's clock (epoch ms), when a test must have it sign in the past. */
  simNow?: () => number;
  /** Connect on Forge: the Forge installation the simulated site's Connect install names. */
  forgeInstallationId?: string;
  /** The app's store instead of a SQLite file; it is closed with the app, so restartApp cannot reuse it. */
  store?: AppStore;
  /** What the app logs into `logs` (default info); a long run keeps every line it captures. */
  logLevel?: string;
}

/** Starts simulator and app on fresh ports and a fresh SQLite file, and installs the app. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  return launch(options);
}

/**
 * startStack with the simulated Forge on the site (its own app id unless given): its CDN listens before the
 * app starts, so the app's FORGE_JWKS_URL names a port already taken, never one picked free and then lost to
 * another socket. Forge's install is left to the test; the Connect install is done unless `install` is false.
 */
export async function startForgeStack(options: StackOptions & { forge?: ForgeSimulatorOptions } = {}): Promise<ForgeStack> {
  const { forge: forgeOptions, ...stackOptions } = options;
  let forge: ForgeSimulator | undefined;
  const stack = await launch(stackOptions, async (sim) => {
    forge = await startForgeSimulator(sim, { appId: `ari:cloud:ecosystem::app/${randomUUID()}`, ...forgeOptions });
    return { forge, env: { FORGE_APP_ID: forge.appId, FORGE_JWKS_URL: forge.jwksUrl } };
  });
  return Object.assign(stack, { forge: forge as ForgeSimulator });
}

/** What starts beside the site before the app: the simulated Forge, and the settings that name it. */
interface Beside {
  forge: ForgeSimulator;
  env: Record<string, string>;
}

async function launch(options: StackOptions, beside?: (sim: HostSimulator) => Promise<Beside>): Promise<Stack> {
  const sim = await startHostSimulator({
    clientKey: options.clientKey,
    now: options.simNow,
    forgeInstallationId: options.forgeInstallationId,
    users: [
      { accountId: ALICE, displayName: 'Alice', active: true, siteAdmin: false },
      { accountId: BOB, displayName: 'Bob', active: true, siteAdmin: false },
    ],
  });
  const extra = await beside?.(sim).catch(async (error: unknown) => {
    await sim.close();
    throw error;
  });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'panelguard-test-'));
  const logs = new LogCapture();
  let port = 0;
  const boot = async (): Promise<RunningApp> => {
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: String(port),
      DATA_DIR: dataDir,
      CONNECT_KEYS_CDN_URL: sim.keysUrl,
      LOG_LEVEL: 'info',
      ...extra?.env,
      ...(typeof options.env === 'function' ? options.env(sim) : options.env),
    });
    const app = await startApp(config, {
      logger: createLogger(options.logLevel ?? 'info', logs),
      clock: options.clock,
      routes: options.routes,
      store: options.store,
    });
    port = app.port;
    return app;
  };
  const stack: Stack = {
    sim,
    app: await boot(),
    logs,
    dataDir,
    async loadPanel(accountId, ctx = ISSUE) {
      const response = await fetch(sim.panelUrl('issue-notes', ctx, accountId));
      const html = await response.text();
      return { status: response.status, html, token: pageTokenOf(html) };
    },
    async api(token, method, issueId, body) {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${stack.app.baseUrl}/api/issues/${issueId}/notes`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as ApiBody, headers: response.headers };
    },
    async restartApp() {
      await stack.app.close();
      stack.app = await boot();
    },
    async stop() {
      await extra?.forge.close();
      await stack.app.close();
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  if (options.install !== false) {
    const installed = await sim.install(stack.app.baseUrl);
    if (installed.status !== 204) throw new Error(`install failed: ${installed.status} ${await installed.text()}`);
  }
  return stack;
}
