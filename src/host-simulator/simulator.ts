/** The simulated Jira site: one installed app, its lifecycle, the Connect JWTs on its pages and the webhooks it receives. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Router } from 'express';
import { DEFAULT_TTL_SECONDS, signHostToken, signLifecycleToken } from './connect-jwt';
import {
  appUrl,
  descriptorSchema,
  findModule,
  webhooksFor,
  substituteContext,
  type AppDescriptor,
  type AppModule,
  type LifecycleEvent,
} from './descriptor';
import { UserDirectory, type NewUser, type SimulatedUser } from './directory';
import { HostSimulatorError } from './errors';
import { hostPagesRouter, type HostPageHost } from './host-page';
import { IssueRegistry, issueContextValues, projectKeyOf, type IssueContext } from './issues';
import { generateSigningKey, keyServerRouter, type SigningKey } from './keys';
import { randomSecret, randomUuid } from '../tokens/random';
import { privacyApiRouter, REPORT_ACCOUNTS_PATH, type PrivacyApiHost, type ReportedAccount } from './privacy-api';
import { ApiLog, restApiRouter, type InstalledApp, type RestApiHost } from './rest-api';

export interface HostSimulatorOptions {
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  clientKey?: string;
  signingKeyId?: string;
  /** Epoch milliseconds; defaults to Date.now. Drives iat/exp and webhook timestamps. */
  now?: () => number;
  /** Users present from the start. */
  users?: NewUser[];
  /** Sends this Forge installation id in Connect install payloads, as Jira does once a Connect app is adopted by Forge. */
  forgeInstallationId?: string;
}

export interface TokenOptions {
  /** Epoch seconds; defaults to now. */
  iat?: number;
  ttlSeconds?: number;
}

export interface EventOptions {
  /** Epoch milliseconds for the webhook's `timestamp`; defaults to now. */
  timestamp?: number;
}

/** A lifecycle call as it crossed the network: what anyone who saw the request could resend. */
export interface SentLifecycleCall {
  url: string;
  /** The `Authorization` header, `JWT <token>`. */
  authorization: string;
  body: Record<string, unknown>;
}

export interface DeliveryOptions {
  /**
   * The delivery's X-Atlassian-Webhook-Identifier, the same on every retry of one event; a fresh one by default.
   * Pass the id of an earlier delivery to send a retry of it.
   */
  deliveryId?: string;
}

/**
 * How an enabled/disabled callback is signed. Jira signs installed and
 * uninstalled with RS256 (signed installs) and the others with the shared secret.
 */
export type LifecycleSigning = 'symmetric' | 'asymmetric';

/** How a forged install lies: a foreign key under the genuine kid, or a kid the key server has never heard of. */
export type Forgery = 'foreign-key' | 'unknown-kid';

type AppState = 'enabled' | 'disabled' | 'uninstalled';

interface Installation {
  descriptor: AppDescriptor;
  sharedSecret: string;
  state: AppState;
}

/** What Jira Cloud reports about itself in lifecycle payloads. */
const SERVER_VERSION = '100283';
const PLUGINS_VERSION = '1001.0.0-SNAPSHOT';
const KEYS_PATH = '/connect-install-keys';

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export class HostSimulator implements HostPageHost, RestApiHost, PrivacyApiHost {
  /** The Jira site's baseUrl, sent in install payloads. */
  readonly baseUrl: string;
  /** The install-key server: the app's CONNECT_KEYS_CDN_URL. */
  readonly keysUrl: string;
  /** Atlassian's OAuth 2.0 authorization server (JWT bearer grant, `POST /oauth2/token`). */
  readonly authorizationServerUrl: string;
  readonly clientKey: string;
  readonly oauthClientId: string;
  readonly cloudId: string;
  /** The Forge installation this Connect install is linked to (Connect on Forge), when the app has been adopted. */
  readonly forgeInstallationId: string | undefined;
  readonly directory = new UserDirectory();
  readonly issues = new IssueRegistry();
  /** Every question to the bulk user API (the accountIds asked), and the faults queued on it (`userLookups.fail`). */
  readonly userLookups = new ApiLog<string[]>();
  /** Every question to bulk issue fetch (the ids or keys asked), and the faults queued on it (`issueLookups.fail`). */
  readonly issueLookups = new ApiLog<string[]>();
  /** Every question to project search (the project ids asked), and the faults queued on it (`projectLookups.fail`). */
  readonly projectLookups = new ApiLog<string[]>();
  /** Every personal data report received (the accounts reported), and the faults queued on the API. */
  readonly personalDataReports = new ApiLog<ReportedAccount[]>();
  /** Where the app reports personal data (api.atlassian.com's `/app/report-accounts/` in production). */
  readonly reportAccountsUrl: string;

  private readonly clock: () => number;
  /** The second each lifecycle URL was last signed in, so that no two calls carry the same JWT. */
  private readonly lifecycleSignedAt = new Map<string, number>();
  private readonly sentLifecycle = new Map<LifecycleEvent, SentLifecycleCall>();
  private installation: Installation | undefined;
  private foreignKey: SigningKey | undefined;
  private droppingWebhooks = false;

  /** Use startHostSimulator. */
  constructor(
    private readonly server: Server,
    baseUrl: string,
    private readonly signingKey: SigningKey,
    options: HostSimulatorOptions,
    private readonly extensions: Router = express.Router(),
  ) {
    this.baseUrl = trimSlash(baseUrl);
    this.keysUrl = `${this.baseUrl}${KEYS_PATH}`;
    this.authorizationServerUrl = this.baseUrl;
    this.reportAccountsUrl = `${this.baseUrl}${REPORT_ACCOUNTS_PATH}`;
    this.clientKey = options.clientKey ?? randomUuid();
    this.oauthClientId = randomSecret(24);
    this.cloudId = randomUuid();
    this.forgeInstallationId = options.forgeInstallationId;
    this.clock = options.now ?? Date.now;
    for (const user of options.users ?? []) this.directory.add(user);
  }

  now(): number {
    return this.clock();
  }

  /** The installed app's descriptor, whatever its state; undefined before the first install. */
  get descriptor(): AppDescriptor | undefined {
    return this.installation?.descriptor;
  }

  get appState(): AppState | 'not_installed' {
    return this.installation?.state ?? 'not_installed';
  }

  // ---- lifecycle ----------------------------------------------------------

  /**
   * Installs the app as Jira does: fetch the descriptor, POST a signed
   * `installed` with a fresh sharedSecret, then `enabled` once the app said yes.
   * Answers the app's response to `installed`.
   */
  async install(appBaseUrl: string): Promise<Response> {
    const descriptor = await this.fetchDescriptor(appBaseUrl);
    const sharedSecret = randomSecret();
    const response = await this.postLifecycle(descriptor, 'installed', this.lifecyclePayload(descriptor, 'installed', sharedSecret), 'asymmetric');
    if (!response.ok) return response;
    this.installation = { descriptor, sharedSecret, state: 'enabled' };
    if (descriptor.lifecycle.enabled !== undefined) {
      await drain(this.postLifecycle(descriptor, 'enabled', this.lifecyclePayload(descriptor, 'enabled'), 'symmetric'));
    }
    return response;
  }

  /** Disables the app if it is enabled (as Jira does first), then sends the signed `uninstalled`; null when undeclared. */
  async uninstall(): Promise<Response | null> {
    const installation = this.requireInstallation();
    if (installation.state === 'enabled') await drain(this.disable());
    installation.state = 'uninstalled';
    return this.notifyLifecycle(installation.descriptor, 'uninstalled', 'asymmetric');
  }

  async enable(opts: { signing?: LifecycleSigning } = {}): Promise<Response | null> {
    const installation = this.requireInstallation();
    if (installation.state === 'uninstalled') throw new HostSimulatorError('not_installed', 'the app was uninstalled; install it again');
    installation.state = 'enabled';
    return this.notifyLifecycle(installation.descriptor, 'enabled', opts.signing ?? 'symmetric');
  }

  async disable(opts: { signing?: LifecycleSigning } = {}): Promise<Response | null> {
    const installation = this.requireInstallation();
    if (installation.state === 'uninstalled') throw new HostSimulatorError('not_installed', 'the app was uninstalled');
    installation.state = 'disabled';
    return this.notifyLifecycle(installation.descriptor, 'disabled', opts.signing ?? 'symmetric');
  }

  /**
   * An `installed` for this site's clientKey signed with a key the key server
   * does not vouch for. Changes nothing here; the app must refuse it.
   */
  async forgedInstall(appBaseUrl: string, opts: { forgery?: Forgery } = {}): Promise<Response> {
    const descriptor = await this.fetchDescriptor(appBaseUrl);
    const forgery = opts.forgery ?? 'foreign-key';
    this.foreignKey ??= generateSigningKey(randomUuid());
    const kid = forgery === 'foreign-key' ? this.signingKey.kid : this.foreignKey.kid;
    const key: SigningKey = { ...this.foreignKey, kid };
    return this.postLifecycle(descriptor, 'installed', this.lifecyclePayload(descriptor, 'installed', randomSecret()), 'asymmetric', key);
  }

  // ---- Connect JWTs and module URLs ----------------------------------------

  /**
   * The HS256 Connect JWT Jira would attach to a request to the app.
   * `urlPathWithQuery` is relative to the descriptor's baseUrl (or absolute).
   */
  connectJwt(method: string, urlPathWithQuery: string, accountId: string, opts: TokenOptions = {}): string {
    const { descriptor, sharedSecret } = this.requireInstallation();
    return signHostToken({
      sharedSecret,
      clientKey: this.clientKey,
      appBaseUrl: descriptor.baseUrl,
      method,
      url: appUrl(descriptor, urlPathWithQuery),
      accountId,
      iat: opts.iat ?? this.nowSeconds(),
      ttlSeconds: opts.ttlSeconds ?? DEFAULT_TTL_SECONDS,
    });
  }

  /**
   * The Authorization header Jira puts on a call no user made (a webhook, a lifecycle callback), signed as
   * `sendWebhook` and the lifecycle calls sign theirs. For a caller that sends its own body: the token
   * covers the method and the URL, never the body.
   */
  serverAuthorization(method: string, urlPathWithQuery: string, signing: LifecycleSigning = 'symmetric', opts: TokenOptions = {}): string {
    const { descriptor, sharedSecret } = this.requireInstallation();
    const url = appUrl(descriptor, urlPathWithQuery);
    const lifetime = { iat: opts.iat ?? this.nowSeconds(), ttlSeconds: opts.ttlSeconds ?? DEFAULT_TTL_SECONDS };
    const token =
      signing === 'asymmetric'
        ? signLifecycleToken({ kid: this.signingKey.kid, privateKeyPem: this.signingKey.privateKeyPem, clientKey: this.clientKey, audience: descriptor.baseUrl, method, url, ...lifetime })
        : signHostToken({ sharedSecret, clientKey: this.clientKey, appBaseUrl: descriptor.baseUrl, method, url, ...lifetime });
    return `JWT ${token}`;
  }

  /** The iframe URL Jira renders for an issue panel (webPanels or jiraIssueContexts), jwt last. */
  panelUrl(moduleKey: string, ctx: IssueContext, accountId: string, opts: TokenOptions = {}): string {
    const module = this.requireModule(moduleKey);
    return this.iframeUrl(module, issueContextValues(ctx), accountId, opts);
  }

  /** The iframe URL Jira renders for a generalPages or adminPages module. */
  pageUrl(moduleKey: string, accountId: string, opts: TokenOptions = {}): string {
    const module = this.requireModule(moduleKey);
    return this.iframeUrl(module, {}, accountId, opts);
  }

  // ---- webhooks and the events behind them --------------------------------

  /**
   * POSTs `body` (plus `timestamp` and `webhookEvent` unless given) to every
   * webhook the descriptor declares for `event`; answers the first response.
   */
  async sendWebhook(event: string, body: object, opts: DeliveryOptions = {}): Promise<Response> {
    const installation = this.requireInstallation();
    if (installation.state !== 'enabled') throw new HostSimulatorError('app_not_enabled', `Jira sends no webhooks to an app that is ${installation.state}`);
    const urls = webhooksFor(installation.descriptor, event);
    if (urls.length === 0) throw new HostSimulatorError('webhook_not_declared', `the descriptor declares no webhook for ${event}`);
    const payload = { timestamp: this.now(), webhookEvent: event, ...body };
    const deliveryId = opts.deliveryId ?? randomUuid();
    const responses: Response[] = [];
    for (const url of urls) {
      const target = appUrl(installation.descriptor, url);
      const token = signHostToken({
        sharedSecret: installation.sharedSecret,
        clientKey: this.clientKey,
        appBaseUrl: installation.descriptor.baseUrl,
        method: 'POST',
        url: target,
        iat: this.nowSeconds(),
        ttlSeconds: DEFAULT_TTL_SECONDS,
      });
      responses.push(await postJson(target, payload, token, { 'X-Atlassian-Webhook-Identifier': deliveryId }));
    }
    return responses[0];
  }

  /** The last `event` lifecycle call sent, as a network observer saw it (tests replay it as an attacker would). */
  lastLifecycleCall(event: LifecycleEvent): SentLifecycleCall | undefined {
    const call = this.sentLifecycle.get(event);
    return call === undefined ? undefined : { ...call, body: { ...call.body } };
  }

  /** Deletes the user from the site and sends `user_deleted`. */
  async removeUser(accountId: string, opts: EventOptions = {}): Promise<Response | null> {
    const user = this.directory.setActive(accountId, false);
    return this.notify('user_deleted', { ...this.timestamp(opts), user: this.userPayload(user) });
  }

  async deactivateUser(accountId: string, opts: EventOptions = {}): Promise<Response | null> {
    const user = this.directory.setActive(accountId, false);
    return this.notify('user_updated', { ...this.timestamp(opts), user: this.userPayload(user) });
  }

  async reactivateUser(accountId: string, opts: EventOptions = {}): Promise<Response | null> {
    const user = this.directory.setActive(accountId, true);
    return this.notify('user_updated', { ...this.timestamp(opts), user: this.userPayload(user) });
  }

  /** Closes the Atlassian account: gone from the site (`user_deleted`) and reported `closed` by the personal data API. */
  async closeAccount(accountId: string, opts: EventOptions = {}): Promise<Response | null> {
    const user = this.directory.close(accountId);
    return this.notify('user_deleted', { ...this.timestamp(opts), user: this.userPayload(user) });
  }

  /** A profile change the personal data API reports as `updated` to an app that reported an older time. */
  changeProfile(accountId: string, displayName: string): void {
    this.directory.rename(accountId, displayName, this.now());
  }

  /**
   * While on, events still change the site (users removed, deactivated, reactivated...) but their webhooks are
   * lost on the way, as Confluence's are when the app does not answer (it never retries).
   */
  dropWebhooks(drop: boolean): void {
    this.droppingWebhooks = drop;
  }

  async createUser(user: NewUser, opts: EventOptions = {}): Promise<Response | null> {
    const created = this.directory.add(user);
    return this.notify('user_created', { ...this.timestamp(opts), user: this.userPayload(created) });
  }

  async deleteIssue(ctx: IssueContext, opts: EventOptions = {}): Promise<Response | null> {
    this.issues.remove(ctx.issueKey);
    const projectKey = projectKeyOf(ctx);
    return this.notify('jira:issue_deleted', {
      ...this.timestamp(opts),
      issue_event_type_name: 'issue_deleted',
      issue: {
        id: ctx.issueId,
        self: `${this.baseUrl}/rest/api/2/issue/${ctx.issueId}`,
        key: ctx.issueKey,
        fields: { project: { id: ctx.projectId, key: projectKey, self: `${this.baseUrl}/rest/api/2/project/${ctx.projectId}` } },
      },
    });
  }

  /** Jira's project webhooks carry the project id as a number. */
  async deleteProject(projectId: string, key: string, opts: EventOptions = {}): Promise<Response | null> {
    this.issues.removeProject(projectId);
    const numericId = /^\d+$/.test(projectId) ? Number(projectId) : projectId;
    return this.notify('project_deleted', {
      ...this.timestamp(opts),
      project: { self: `${this.baseUrl}/rest/api/2/project/${projectId}`, id: numericId, key, name: key },
    });
  }

  // ---- pages ----------------------------------------------------------------

  /** The simulated issue view for `accountId`, embedding the app's issue panel; registers the issue. */
  hostPageUrl(accountId: string, ctx: IssueContext): string {
    this.issues.put(ctx);
    return `${this.baseUrl}/browse/${encodeURIComponent(ctx.issueKey)}?as=${encodeURIComponent(accountId)}`;
  }

  /** Where Jira shows a generalPages or adminPages module to `accountId`. */
  appPageUrl(accountId: string, moduleKey: string): string {
    const { descriptor } = this.requireInstallation();
    return `${this.baseUrl}/plugins/servlet/ac/${encodeURIComponent(descriptor.key)}/${encodeURIComponent(moduleKey)}?as=${encodeURIComponent(accountId)}`;
  }

  enabledDescriptor(): AppDescriptor | undefined {
    return this.installation?.state === 'enabled' ? this.installation.descriptor : undefined;
  }

  installedApp(): InstalledApp | undefined {
    const installation = this.installation;
    if (installation === undefined) return undefined;
    return {
      descriptor: installation.descriptor,
      sharedSecret: installation.sharedSecret,
      oauthClientId: this.oauthClientId,
      enabled: installation.state === 'enabled',
    };
  }

  /** Serves more of the site beside the Connect routes: the Forge mode's pages and APIs. */
  mount(router: Router): void {
    this.extensions.use(router);
  }

  /** Stops serving; a second call does nothing (a test may take the host down before its teardown does). */
  close(): Promise<void> {
    return closeServer(this.server);
  }

  // ---- internals --------------------------------------------------------------

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /**
   * A lifecycle JWT's claims are its URL and its second, so two calls to one URL within a second would carry
   * the same JWT, which apps rightly refuse as a replay. Jira never installs, uninstalls and reinstalls that
   * fast; the simulator, driven by tests, can, so it waits for the next second (at most about one).
   */
  private async nextLifecycleSecond(url: string): Promise<number> {
    const last = this.lifecycleSignedAt.get(url);
    for (let waited = 0; last !== undefined && this.nowSeconds() <= last && waited < 1_500; waited += 25) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const iat = this.nowSeconds();
    this.lifecycleSignedAt.set(url, iat);
    return iat;
  }

  private timestamp(opts: EventOptions): { timestamp: number } {
    return { timestamp: opts.timestamp ?? this.now() };
  }

  private userPayload(user: SimulatedUser): object {
    return {
      self: `${this.baseUrl}/rest/api/2/user?accountId=${encodeURIComponent(user.accountId)}`,
      accountId: user.accountId,
      accountType: 'atlassian',
      displayName: user.displayName,
      active: user.active,
    };
  }

  /** Sends an event's webhook when Jira would: the app is enabled and declared it. */
  private async notify(event: string, body: object): Promise<Response | null> {
    const installation = this.installation;
    if (installation?.state !== 'enabled' || webhooksFor(installation.descriptor, event).length === 0) return null;
    if (this.droppingWebhooks) return null;
    return this.sendWebhook(event, body);
  }

  private requireInstallation(): Installation {
    if (this.installation === undefined) throw new HostSimulatorError('not_installed', 'install the app first');
    return this.installation;
  }

  private requireModule(moduleKey: string): AppModule {
    const module = findModule(this.requireInstallation().descriptor, moduleKey);
    if (module === undefined) throw new HostSimulatorError('module_not_found', `the descriptor has no module ${moduleKey}`);
    return module;
  }

  private iframeUrl(module: AppModule, values: Record<string, string>, accountId: string, opts: TokenOptions): string {
    const { descriptor } = this.requireInstallation();
    const url = new URL(appUrl(descriptor, substituteContext(module.url, values)));
    // the parameters Jira adds to every Connect iframe; the qsh covers them, not the jwt
    url.searchParams.append('xdm_e', this.baseUrl);
    url.searchParams.append('xdm_c', `channel-${descriptor.key}__${module.key}`);
    url.searchParams.append('cp', '');
    url.searchParams.append('xdm_deprecated_addon_key_do_not_use', descriptor.key);
    url.searchParams.append('lic', 'none');
    url.searchParams.append('cv', PLUGINS_VERSION);
    url.searchParams.append('jwt', this.connectJwt('GET', url.toString(), accountId, opts));
    return url.toString();
  }

  private async fetchDescriptor(appBaseUrl: string): Promise<AppDescriptor> {
    let raw: unknown;
    try {
      const response = await fetch(`${trimSlash(appBaseUrl)}/atlassian-connect.json`, { headers: { Accept: 'application/json' } });
      if (!response.ok) throw new Error(`status ${response.status}`);
      raw = await response.json();
    } catch (error) {
      throw new HostSimulatorError('descriptor_unavailable', `could not fetch the descriptor from ${appBaseUrl}: ${(error as Error).message}`);
    }
    const parsed = descriptorSchema.safeParse(raw);
    if (!parsed.success) throw new HostSimulatorError('descriptor_invalid', `the descriptor is invalid: ${parsed.error.issues[0]?.message ?? ''}`);
    return parsed.data;
  }

  /** Real payload fields; sharedSecret only on `installed`; installationId once the app is adopted by Forge. */
  private lifecyclePayload(descriptor: AppDescriptor, eventType: LifecycleEvent, sharedSecret?: string): object {
    return {
      key: descriptor.key,
      clientKey: this.clientKey,
      ...(this.forgeInstallationId === undefined ? {} : { installationId: this.forgeInstallationId }),
      ...(sharedSecret === undefined ? {} : { sharedSecret }),
      oauthClientId: this.oauthClientId,
      serverVersion: SERVER_VERSION,
      pluginsVersion: PLUGINS_VERSION,
      baseUrl: this.baseUrl,
      displayUrl: this.baseUrl,
      productType: 'jira',
      description: `Atlassian JIRA at ${this.baseUrl}`,
      eventType,
      cloudId: this.cloudId,
    };
  }

  private async notifyLifecycle(descriptor: AppDescriptor, event: LifecycleEvent, signing: LifecycleSigning): Promise<Response | null> {
    if (descriptor.lifecycle[event] === undefined) return null;
    return this.postLifecycle(descriptor, event, this.lifecyclePayload(descriptor, event), signing);
  }

  private async postLifecycle(
    descriptor: AppDescriptor,
    event: LifecycleEvent,
    payload: object,
    signing: LifecycleSigning,
    key: SigningKey = this.signingKey,
  ): Promise<Response> {
    const path = descriptor.lifecycle[event];
    if (path === undefined) throw new Error(`no ${event} callback`);
    const url = appUrl(descriptor, path);
    const lifetime = { iat: await this.nextLifecycleSecond(url), ttlSeconds: DEFAULT_TTL_SECONDS };
    const token =
      signing === 'asymmetric'
        ? signLifecycleToken({ kid: key.kid, privateKeyPem: key.privateKeyPem, clientKey: this.clientKey, audience: descriptor.baseUrl, method: 'POST', url, ...lifetime })
        : signHostToken({ sharedSecret: this.requireInstallation().sharedSecret, clientKey: this.clientKey, appBaseUrl: descriptor.baseUrl, method: 'POST', url, ...lifetime });
    this.sentLifecycle.set(event, { url, authorization: `JWT ${token}`, body: { ...payload } });
    return postJson(url, payload, token);
  }
}

/** Reads and drops a response Jira does not care about, so its connection is freed. */
async function drain(pending: Promise<Response | null>): Promise<void> {
  const response = await pending;
  await response?.arrayBuffer();
}

async function postJson(url: string, body: object, token: string, extraHeaders: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `JWT ${token}`, ...extraHeaders },
    body: JSON.stringify(body),
  });
}

/** Stops `server` and drops its kept-alive connections; a server already stopped is left as it is. */
export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

export async function startHostSimulator(opts: HostSimulatorOptions = {}): Promise<HostSimulator> {
  const app = express();
  app.disable('x-powered-by');
  const server = createServer(app);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const signingKey = generateSigningKey(opts.signingKeyId ?? randomUuid());
  const extensions = express.Router();
  const simulator = new HostSimulator(server, `http://${urlHost}:${port}`, signingKey, opts, extensions);
  app.use(KEYS_PATH, keyServerRouter([signingKey]));
  app.use(restApiRouter(simulator));
  app.use(privacyApiRouter(simulator));
  app.use(hostPagesRouter(simulator));
  app.use(extensions);
  return simulator;
}
