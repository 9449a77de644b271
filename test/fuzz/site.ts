/**
 * What the HTTP properties run against: the real app (in-memory store, held clock) with the host simulator
 * installed as several sites, and page tokens of every standing the guard must tell apart.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppStore } from '../../src/app/app';
import { ManualClock } from '../../src/base/clock';
import { startHostSimulator, type HostSimulator, type IssueContext } from '../../src/host-simulator';
import { MemoryStore } from '../../src/store/memory-store';
import { hashTokenId } from '../../src/tokens/hash';
import { ALICE, BOB, ISSUE, OTHER_ISSUE, pageTokenOf, startStack, type Stack } from '../integration/harness';
import { HttpClient } from './http-client';
import { ProcessFaults } from './oracle';

export const CAROL = '557058:carol';
export const DAVE = '557058:dave';
export const ADMIN = '557058:site-admin';
export const DELETED_ISSUE: IssueContext = { issueId: '10003', issueKey: 'DEMO-3', projectId: '10000', projectKey: 'DEMO' };

/** The sites installed on the app; each property that changes a site's state has one of its own. */
export const SITE_NAMES = ['home', 'neighbour', 'gone', 'hooks', 'lifecycle', 'policy', 'ids', 'notes'] as const;
export type SiteName = (typeof SITE_NAMES)[number];

export function clientKeyOf(name: SiteName): string {
  return `fuzz-${name}`;
}

/** Why the guard must refuse a token (or must not). */
export type Standing = 'live' | 'revoked' | 'expired' | 'idle' | 'tenant_inactive';

export interface KnownToken {
  token: string;
  standing: Standing;
  clientKey: string;
  accountId: string;
  resource: string;
  /** How it got its standing, for a failure message. */
  how: string;
}

export interface Tenant {
  sim: HostSimulator;
  clientKey: string;
  /** The Connect shared secret the host signs with: a key a forger might try on a page token. */
  sharedSecret: string;
}

export interface SiteOptions {
  /** Default: a fresh MemoryStore. */
  store?: AppStore;
  /** What the app logs (kept in memory for the whole run); default error. */
  logLevel?: string;
}

const MINUTE = 60_000;

export class FuzzSite {
  readonly faults = new ProcessFaults();
  readonly tokens: KnownToken[] = [];
  private readonly tenants = new Map<SiteName, Promise<Tenant>>();

  private constructor(
    private readonly keys: InstallKeyServer,
    readonly stack: Stack,
    readonly http: HttpClient,
    readonly clock: ManualClock,
    readonly pageTokenSecret: string,
    /** Operator tokens by site; each acts on its own site only. */
    readonly operatorTokens: ReadonlyMap<SiteName, string>,
  ) {}

  static async open(options: SiteOptions = {}): Promise<FuzzSite> {
    // The app's clock holds still, so no live token expires or idles during a run however long it takes.
    const clock = new ManualClock(Date.now());
    const pageTokenSecret = randomBytes(32).toString('base64url');
    const operatorTokens = new Map(SITE_NAMES.map((name) => [name, randomBytes(32).toString('base64url')] as const));
    const keys = await InstallKeyServer.start();
    const stack = await startStack({
      install: false,
      clock,
      clientKey: clientKeyOf('home'),
      store: options.store ?? new MemoryStore(),
      logLevel: options.logLevel ?? 'error',
      env: {
        PAGE_TOKEN_SECRET: pageTokenSecret,
        OPERATOR_TOKEN: [...operatorTokens].map(([name, token]) => `${clientKeyOf(name)}:${token}`).join(','),
        SWEEP_INTERVAL_SECONDS: '0',
        CONNECT_KEYS_CDN_URL: keys.url,
      },
    });
    keys.vouchFor(stack.sim);
    const site = new FuzzSite(keys, stack, new HttpClient(stack.app.port), clock, pageTokenSecret, operatorTokens);
    const home = stack.sim;
    const installed = await home.install(stack.app.baseUrl);
    if (installed.status !== 204) throw new Error(`installing home failed: ${installed.status}`);
    site.tenants.set('home', Promise.resolve({ sim: home, clientKey: home.clientKey, sharedSecret: sharedSecretOf(home) }));
    try {
      await site.mintHomeTokens(home);
      await site.mintNeighbourTokens();
      await site.mintGoneTokens();
    } catch (error) {
      await site.close();
      throw error;
    }
    return site;
  }

  get appKey(): string {
    return this.stack.app.addon.key;
  }

  /** A site of the app, installed on first use. */
  tenant(name: SiteName): Promise<Tenant> {
    let tenant = this.tenants.get(name);
    if (tenant === undefined) {
      tenant = (async () => {
        const sim = await startHostSimulator({ clientKey: clientKeyOf(name), users: [{ accountId: ALICE, displayName: 'Alice' }] });
        this.keys.vouchFor(sim);
        const installed = await sim.install(this.stack.app.baseUrl);
        if (installed.status !== 204) throw new Error(`installing ${name} failed: ${installed.status}`);
        return { sim, clientKey: sim.clientKey, sharedSecret: sharedSecretOf(sim) };
      })();
      this.tenants.set(name, tenant);
    }
    return tenant;
  }

  /** Tokens the guard must accept for `resource`: live, and bound to it. */
  liveFor(resource: string): KnownToken[] {
    return this.tokens.filter((known) => known.standing === 'live' && known.resource === resource);
  }

  liveToken(clientKey: string, accountId: string, resource: string): string {
    const found = this.tokens.find((t) => t.standing === 'live' && t.clientKey === clientKey && t.accountId === accountId && t.resource === resource);
    if (found === undefined) throw new Error(`no live token for ${accountId} on ${resource}`);
    return found.token;
  }

  async close(): Promise<void> {
    this.http.close();
    for (const [name, tenant] of this.tenants) {
      if (name !== 'home') await (await tenant.catch(() => null))?.sim.close();
    }
    await this.stack.stop();
    await this.keys.close();
    this.faults.stop();
  }

  private async mintHomeTokens(sim: HostSimulator): Promise<void> {
    const clientKey = sim.clientKey;
    for (const user of [CAROL, DAVE]) sim.directory.add({ accountId: user, displayName: user });
    sim.directory.add({ accountId: ADMIN, displayName: 'Ada Admin', siteAdmin: true });
    const now = this.clock.now();
    const known = (token: string, standing: Standing, accountId: string, resource: string, how: string) =>
      this.tokens.push({ token, standing, clientKey, accountId, resource, how });

    known(await panelToken(sim, ALICE, ISSUE), 'live', ALICE, 'jira:issue:10001', "alice's panel");
    known(await panelToken(sim, BOB, OTHER_ISSUE), 'live', BOB, 'jira:issue:10002', "bob's panel");
    known(await pageToken(sim, 'my-sessions', ALICE), 'live', ALICE, 'app:self', "alice's my-sessions page");
    known(await pageToken(sim, 'admin', ADMIN), 'live', ADMIN, 'app:admin', 'the admin page');

    this.clock.set(now - 120 * MINUTE);
    known(await panelToken(sim, ALICE, ISSUE), 'expired', ALICE, 'jira:issue:10001', 'minted two hours ago');
    // Within its lifetime (600 s) but unused for longer than the idle timeout (300 s).
    this.clock.set(now - 7 * MINUTE);
    known(await panelToken(sim, ALICE, ISSUE), 'idle', ALICE, 'jira:issue:10001', 'unused for seven minutes');
    this.clock.set(now);

    const carol = await panelToken(sim, CAROL, ISSUE);
    await drain(sim.removeUser(CAROL));
    known(carol, 'revoked', CAROL, 'jira:issue:10001', 'carol was removed from the site');

    const deleted = await panelToken(sim, ALICE, DELETED_ISSUE);
    await drain(sim.deleteIssue(DELETED_ISSUE));
    known(deleted, 'revoked', ALICE, 'jira:issue:10003', 'its issue was deleted');

    const dave = await panelToken(sim, DAVE, ISSUE);
    await this.expectStatus(204, 'DELETE', `/api/admin/users/${encodeURIComponent(DAVE)}/sessions`, this.operatorTokens.get('home'));
    known(dave, 'revoked', DAVE, 'jira:issue:10001', "an operator ended dave's sessions");

    const ended = await panelToken(sim, ALICE, ISSUE);
    const self = this.liveToken(clientKey, ALICE, 'app:self');
    await this.expectStatus(204, 'DELETE', `/api/me/sessions/${sessionIdOf(ended)}`, self);
    known(ended, 'revoked', ALICE, 'jira:issue:10001', 'alice ended that session herself');
  }

  private async mintNeighbourTokens(): Promise<void> {
    const { sim, clientKey } = await this.tenant('neighbour');
    // The same user and issue id on another site: the token is that site's, not home's.
    this.tokens.push({ token: await panelToken(sim, ALICE, ISSUE), standing: 'live', clientKey, accountId: ALICE, resource: 'jira:issue:10001', how: "the neighbour site's panel" });
  }

  private async mintGoneTokens(): Promise<void> {
    const { sim, clientKey } = await this.tenant('gone');
    const token = await panelToken(sim, ALICE, ISSUE);
    await drain(sim.uninstall());
    this.tokens.push({ token, standing: 'tenant_inactive', clientKey, accountId: ALICE, resource: 'jira:issue:10001', how: 'its site uninstalled the app' });
  }

  private async expectStatus(status: number, method: string, path: string, bearer: string | undefined): Promise<void> {
    const answer = await this.http.send({ method, path, headers: { authorization: `Bearer ${bearer ?? ''}` } });
    if (answer.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${answer.status} ${answer.text}`);
  }
}

/** Atlassian's install-key server serves the keys of every site; each simulator serves only its own. */
class InstallKeyServer {
  private readonly sims: HostSimulator[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<InstallKeyServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const keys = new InstallKeyServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => {
      void keys.find(req.url ?? '/').then((pem) => {
        res.writeHead(pem === null ? 404 : 200, { 'content-type': 'text/plain' }).end(pem ?? 'Not Found');
      });
    });
    return keys;
  }

  vouchFor(sim: HostSimulator): void {
    this.sims.push(sim);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private readonly found = new Map<string, string>();

  // A key, once served, is kept: ACE asks for it on every signed install, and a long run sends many.
  private async find(path: string): Promise<string | null> {
    const known = this.found.get(path);
    if (known !== undefined) return known;
    for (const sim of this.sims) {
      const response = await fetch(`${sim.keysUrl}${path}`).catch(() => null);
      if (response?.status === 200) {
        const pem = await response.text();
        this.found.set(path, pem);
        return pem;
      }
    }
    return null;
  }
}

function sharedSecretOf(sim: HostSimulator): string {
  const secret = sim.installedApp()?.sharedSecret;
  if (secret === undefined) throw new Error('the simulator has not installed the app');
  return secret;
}

async function panelToken(sim: HostSimulator, accountId: string, ctx: IssueContext): Promise<string> {
  return tokenFrom(await fetch(sim.panelUrl('issue-notes', ctx, accountId)));
}

async function pageToken(sim: HostSimulator, moduleKey: string, accountId: string): Promise<string> {
  return tokenFrom(await fetch(sim.pageUrl(moduleKey, accountId)));
}

async function tokenFrom(response: Response): Promise<string> {
  const html = await response.text();
  const token = pageTokenOf(html);
  if (response.status !== 200 || token === null) throw new Error(`no page token: ${response.status} ${html.slice(0, 200)}`);
  return token;
}

async function drain(pending: Promise<Response | null>): Promise<void> {
  const response = await pending;
  if (response === null || !response.ok) throw new Error(`the host's call failed: ${response?.status ?? 'not sent'}`);
  await response.arrayBuffer();
}

/** A session's id in the API: the SHA-256 of its token's `jti`. */
export function sessionIdOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { jti: string };
  return hashTokenId(payload.jti);
}
