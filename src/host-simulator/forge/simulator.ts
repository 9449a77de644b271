/**
 * The simulated site's Forge side: installs the app, mints FITs, serves the Custom UI from a CDN of
 * its own with the bridge @forge/bridge expects, proxies `invokeRemote`, and delivers trigger events.
 * It shares the site's user directory and issues with the Connect side.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { HostSimulatorError } from '../errors';
import type { NewUser } from '../directory';
import type { IssueContext } from '../issues';
import { closeServer, type HostSimulator } from '../simulator';
import { PROJECT_ROOT } from '../../app/paths';
import { randomId, randomSecret, randomUuid } from '../../tokens/random';
import { appAri, appUuidOf, environmentAri, extensionAri, installationAri } from './ari';
import { cdnRouter, JWKS_PATH, type CdnHost } from './cdn';
import { deliver, EVENT_POLICY, PRE_UNINSTALL_POLICY, type Delivery, type DeliveryPolicy, type DeliveryTarget } from './delivery';
import {
  ISSUE_DEFAULTS,
  issueDeletedEvent,
  projectDeletedEvent,
  userEvent,
  type ForgeIssue,
  type InstalledEvent,
  type PreUninstallEvent,
} from './events';
import { FitIssuer, fitClaims, forgeClaims, type FitAppClaims, type FitClaims, type FitContextClaims, type FitForgery, type FitLicense } from './fit';
import { FORGE_PAGES_PREFIX, forgeHostPagesRouter, type BridgeAnswer, type ForgeHostPagesHost, type UiCall } from './host-pages';
import {
  asBridgeResolves,
  ForgeInvokeError,
  INVOKE_TIMEOUT_MS,
  invokeRemoteEndpoint,
  invokeRequestSchema,
  remoteUrl,
  type BridgeInvokeResult,
  type InvokeRequest,
} from './invoke';
import { endpointsFor, findEndpoint, findUiModule, INSTALLED_EVENT, loadForgeLayout, type Endpoint, type ForgeAppLayout, type UiModule } from './manifest';
import { productApiRouter, SystemTokens, type ProductApiHost } from './product-api';

export type EnvironmentType = 'DEVELOPMENT' | 'STAGING' | 'PRODUCTION';

export interface ForgeSimulatorOptions {
  /** `ari:cloud:ecosystem::app/<uuid>`; default the manifest's `app.id`, else a fresh one. */
  appId?: string;
  /** Where manifest.yml and the Custom UI resources are; default `<project>/forge`. */
  forgeDir?: string;
  /** The app's layout itself, instead of reading the manifest (tests). */
  layout?: ForgeAppLayout;
  /** Resource key → directory, over the manifest's (tests serve fixtures). */
  resources?: Record<string, string>;
  /** The CDN's port; default any free one. */
  cdnPort?: number;
  environmentType?: EnvironmentType;
  /** `app.appVersion`; default 1.0.0 (and `app.version` its major). */
  appVersion?: string;
  /** Paid production apps carry a license in FITs and in the view context; none by default. */
  license?: FitLicense;
  /** Trigger deliveries; default the documented 5 s timeout and 4 retries 60 s apart. */
  eventPolicy?: Partial<DeliveryPolicy>;
  /** UI calls; default the documented 25 s. */
  invokeTimeoutMs?: number;
  /** Waits between delivery attempts; default a timer. Tests pass one that resolves at once. */
  sleep?: (ms: number) => Promise<void>;
}

/** What a Custom UI's `view.getContext()` resolves to. */
export interface ViewContext {
  accountId: string;
  cloudId: string;
  extension: Record<string, unknown>;
  license?: FitLicense;
  localId: string;
  locale: string;
  moduleKey: string;
  siteUrl: string;
  timezone: string;
  environmentId: string;
  environmentType: EnvironmentType;
}

/** A bridge call a page's frame made, as the host received it. */
export interface BridgeCallRecord {
  name: string;
  moduleKey: string;
  accountId: string;
  /** The remote path an `invoke` asked for; null for other calls. */
  path: string | null;
}

export interface EventOptions {
  /** Epoch milliseconds for the event's `timestamp`; default now. */
  timestamp?: number;
  /** `atlassianId`: who caused the event. */
  actor?: string;
}

export interface SendOptions {
  /** Every attempt carries a FIT with these changes (tests of a remote's refusals). */
  forgery?: FitForgery;
  /** Overrides the delivery policy for this event, e.g. `{ maxRetries: 0 }`. */
  policy?: Partial<DeliveryPolicy>;
}

export type InvokeRemoteInput = Omit<InvokeRequest, 'invokeType'>;

interface Installation {
  id: string;
  uuid: string;
  remoteBaseUrl: string;
}

type View = UiCall & { location: string };

/** The newest views are kept; an older page asking again is told to reload. */
const MAX_VIEWS = 5_000;
const PRE_UNINSTALL_EVENT = 'core:preUninstall';

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export class ForgeSimulator implements ForgeHostPagesHost, CdnHost, ProductApiHost {
  /** The FIT's `aud`: the app server's FORGE_APP_ID. */
  readonly appId: string;
  readonly appUuid: string;
  /** `ari:cloud:ecosystem::environment/<app uuid>/<environment uuid>`. */
  readonly environmentId: string;
  readonly environmentUuid: string;
  readonly environmentType: EnvironmentType;
  readonly appVersion: string;
  /** Forge's CDN: the Custom UI and the JWKS. */
  readonly cdnUrl: string;
  /** The app server's FORGE_JWKS_URL. */
  readonly jwksUrl: string;
  /** The FIT's `app.apiBaseUrl`: the site's REST API as a remote reaches it. */
  readonly apiBaseUrl: string;
  readonly layout: ForgeAppLayout;
  readonly systemTokens = new SystemTokens();
  readonly resourcePrefix: string;
  readonly hostOrigin: string;
  readonly cdnOrigin: string;

  private readonly issuer = new FitIssuer();
  private readonly views = new Map<string, View>();
  private readonly received: BridgeCallRecord[] = [];
  private readonly eventPolicy: DeliveryPolicy;
  private readonly invokeTimeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly resourceDirs: Record<string, string>;
  private installation: Installation | undefined;

  /** Use startForgeSimulator. */
  constructor(
    private readonly site: HostSimulator,
    private readonly server: Server,
    cdnUrl: string,
    layout: ForgeAppLayout,
    appId: string,
    private readonly options: ForgeSimulatorOptions,
  ) {
    const appUuid = appUuidOf(appId);
    if (appUuid === undefined) throw new HostSimulatorError('manifest_invalid', `${appId} is not an app id (ari:cloud:ecosystem::app/<uuid>)`);
    this.appId = appId;
    this.appUuid = appUuid;
    this.environmentUuid = randomUuid();
    this.environmentId = environmentAri(appUuid, this.environmentUuid);
    this.environmentType = options.environmentType ?? 'DEVELOPMENT';
    this.appVersion = options.appVersion ?? '1.0.0';
    this.cdnUrl = cdnUrl;
    this.cdnOrigin = new URL(cdnUrl).origin;
    this.jwksUrl = `${cdnUrl}${JWKS_PATH}`;
    this.apiBaseUrl = `${site.baseUrl}/ex/jira/${site.cloudId}`;
    this.hostOrigin = new URL(site.baseUrl).origin;
    this.layout = layout;
    this.resourcePrefix = `/${appUuid}/${this.environmentUuid}`;
    this.eventPolicy = { ...EVENT_POLICY, ...options.eventPolicy };
    this.invokeTimeoutMs = options.invokeTimeoutMs ?? INVOKE_TIMEOUT_MS;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    const forgeDir = options.forgeDir ?? path.join(PROJECT_ROOT, 'forge');
    this.resourceDirs = {
      ...Object.fromEntries(Object.entries(layout.resources).map(([key, dir]) => [key, path.resolve(forgeDir, dir)])),
      ...options.resources,
    };
  }

  get directory() {
    return this.site.directory;
  }

  get issues() {
    return this.site.issues;
  }

  get userLookups() {
    return this.site.userLookups;
  }

  get issueLookups() {
    return this.site.issueLookups;
  }

  get projectLookups() {
    return this.site.projectLookups;
  }

  get cloudId(): string {
    return this.site.cloudId;
  }

  now(): number {
    return this.site.now();
  }

  /** The live installation's id (`ari:cloud:ecosystem::installation/<uuid>`); undefined when not installed. */
  installationId(): string | undefined {
    return this.installation?.id;
  }

  /** The kid genuine FITs carry now. */
  get signingKeyId(): string {
    return this.issuer.kid;
  }

  jwks() {
    return this.issuer.jwks();
  }

  /** Signs with a new key from now on; the old one stays in the JWKS unless `retirePrevious`. Answers the new kid. */
  rotateSigningKey(opts: { retirePrevious?: boolean } = {}): string {
    return this.issuer.rotate(opts);
  }

  get permissions() {
    return this.layout.permissions;
  }

  resourceDir(resourceKey: string): string | undefined {
    return this.resourceDirs[resourceKey];
  }

  // ---- lifecycle ----------------------------------------------------------

  /**
   * Installs the app for the remote at `remoteBaseUrl` under a new installation id, then delivers
   * `avi:forge:installed:app`. The app is installed whatever the remote answers, as on Forge.
   */
  async install(remoteBaseUrl: string, opts: { installerAccountId?: string } = {}): Promise<Delivery | null> {
    if (this.installation !== undefined) throw new HostSimulatorError('already_installed', 'the Forge app is already installed; uninstall it first');
    const uuid = randomUuid();
    this.installation = { id: installationAri(uuid), uuid, remoteBaseUrl: trimSlash(remoteBaseUrl) };
    const event: InstalledEvent = {
      id: uuid,
      ...(opts.installerAccountId === undefined ? {} : { installerAccountId: opts.installerAccountId }),
      app: { id: this.appUuid, version: this.appVersion },
      environment: { id: this.environmentUuid },
    };
    return this.notify(INSTALLED_EVENT, event);
  }

  /**
   * Calls the preUninstall endpoint (one attempt, 55 s), then uninstalls whatever it answered: the
   * installation id and its system tokens end. Answers the call, or null without a preUninstall module.
   */
  async uninstall(): Promise<Delivery | null> {
    const installation = this.requireInstallation();
    let delivery: Delivery | null = null;
    const preUninstall = this.layout.preUninstall;
    if (preUninstall !== undefined) {
      const event: PreUninstallEvent = { context: { cloudId: this.cloudId, moduleKey: preUninstall.key }, contextToken: randomSecret(48) };
      const endpoint = findEndpoint(this.layout, preUninstall.endpoint);
      delivery = await deliver(this.target(PRE_UNINSTALL_EVENT, endpoint, installation), event, PRE_UNINSTALL_POLICY, this.sleep);
    }
    this.installation = undefined;
    this.systemTokens.revokeInstallation(installation.id);
    return delivery;
  }

  // ---- FITs ---------------------------------------------------------------

  /** The claims of a genuine FIT for a call from `call.moduleKey` by `call.accountId`. */
  fitClaims(call: UiCall): FitClaims {
    const installation = this.requireInstallation();
    const module = findUiModule(this.layout, call.moduleKey);
    return fitClaims({
      app: this.appClaims(installation),
      module: { type: module.type, key: module.key },
      context: this.contextClaims(call, module, this.pageUrl(call)),
      principal: call.accountId,
      license: this.options.license,
      now: this.nowSeconds(),
    });
  }

  /** A FIT as Forge puts on a UI call; with `forgery`, one a remote must refuse. */
  fit(call: UiCall, forgery?: FitForgery): string {
    return this.sign(this.fitClaims(call), forgery);
  }

  /** The claims of the FIT that delivers `event` to its (first) endpoint: module `core:endpoint`, no principal, no context. */
  eventFitClaims(event: string): FitClaims {
    const installation = this.requireInstallation();
    const endpoint = this.endpointFor(event);
    return this.triggerClaims(endpoint, installation);
  }

  eventFit(event: string, forgery?: FitForgery): string {
    return this.sign(this.eventFitClaims(event), forgery);
  }

  /** The `x-forge-oauth-system` token Forge hands the remote now. */
  systemToken(): string {
    return this.systemTokens.forInstallation(this.requireInstallation().id, this.now());
  }

  // ---- UI calls -------------------------------------------------------------

  /** What `view.getContext()` resolves to in that module's frame. */
  viewContext(call: UiCall, location: string = this.pageUrl(call)): ViewContext {
    this.requireInstallation();
    const module = findUiModule(this.layout, call.moduleKey);
    const context = this.contextClaims(call, module, location);
    return {
      accountId: call.accountId,
      cloudId: context.cloudId,
      extension: context.extension,
      ...(this.options.license === undefined ? {} : { license: this.options.license }),
      localId: context.localId,
      locale: 'en-US',
      moduleKey: module.key,
      siteUrl: context.siteUrl,
      timezone: 'UTC',
      environmentId: this.environmentUuid,
      environmentType: this.environmentType,
    };
  }

  /**
   * What Forge does for a frame's `callBridge('invoke', request)`: a fresh FIT for the call (forged
   * when asked), the app system token, the caller's own headers, then the remote's answer as the
   * bridge gets it. Rejects with ForgeInvokeError where `invokeRemote` rejects.
   */
  async bridgeInvoke(call: UiCall, request: unknown, forgery?: FitForgery): Promise<BridgeInvokeResult> {
    const parsed = invokeRequestSchema.safeParse(request);
    if (!parsed.success) throw new ForgeInvokeError('bad_request', 'invokeRemote needs a path and a method of GET, POST, PUT, DELETE or PATCH');
    if (parsed.data.invokeType !== undefined && parsed.data.invokeType !== 'ui-remote-fetch') {
      throw new ForgeInvokeError('bad_request', `${parsed.data.invokeType} is not simulated; only invokeRemote (ui-remote-fetch) is`);
    }
    const installation = this.requireInstallation();
    const module = findUiModule(this.layout, call.moduleKey);
    if (module.endpoint === undefined) throw new ForgeInvokeError('bad_request', `the module ${module.key} has no remote resolver endpoint`);
    const endpoint = findEndpoint(this.layout, module.endpoint);
    return invokeRemoteEndpoint({
      url: remoteUrl(installation.remoteBaseUrl, parsed.data.path),
      request: parsed.data,
      fit: this.sign(this.fitClaims(call), forgery),
      systemToken: endpoint.appSystemToken ? this.systemTokens.forInstallation(installation.id, this.now()) : undefined,
      timeoutMs: this.invokeTimeoutMs,
    });
  }

  /** `invokeRemote` from `call`'s frame, resolved as @forge/bridge resolves it: `{ status, headers, body }`. */
  async invokeRemote(call: UiCall, request: InvokeRemoteInput, forgery?: FitForgery): Promise<{ status: number; headers: Record<string, string>; body?: unknown }> {
    return asBridgeResolves(await this.bridgeInvoke(call, { ...request, invokeType: 'ui-remote-fetch' }, forgery));
  }

  /** The page that shows `moduleKey` to `accountId` (the issue view for an issue panel); registers the issue. */
  hostPageUrl(accountId: string, moduleKey: string, issue?: IssueContext): string {
    if (issue !== undefined) this.site.issues.put(issue);
    return this.pageUrl({ accountId, moduleKey, issue });
  }

  /** Every bridge call the site's pages received from their frames, oldest first. */
  bridgeCalls(): BridgeCallRecord[] {
    return this.received.map((call) => ({ ...call }));
  }

  installedUiModules(): UiModule[] {
    return this.installation === undefined ? [] : this.layout.uiModules;
  }

  openView(call: UiCall, location: string): { viewId: string; frameUrl: string } {
    const module = findUiModule(this.layout, call.moduleKey);
    const viewId = randomId();
    this.views.set(viewId, { ...call, location });
    if (this.views.size > MAX_VIEWS) this.views.delete(this.views.keys().next().value as string);
    return { viewId, frameUrl: `${this.cdnUrl}${this.resourcePrefix}/${encodeURIComponent(module.resource)}/index.html` };
  }

  async answerBridge(viewId: string, name: string, payload: unknown): Promise<BridgeAnswer> {
    const view = this.views.get(viewId);
    if (view === undefined) return { ok: false, error: 'This page is no longer open; reload it.' };
    const path = name === 'invoke' && typeof payload === 'object' && payload !== null && 'path' in payload && typeof payload.path === 'string' ? payload.path : null;
    this.received.push({ name, moduleKey: view.moduleKey, accountId: view.accountId, path });
    try {
      switch (name) {
        case 'getContext':
          return { ok: true, value: this.viewContext(view, view.location) };
        case 'invoke':
          if (typeof payload === 'object' && payload !== null && 'functionKey' in payload) {
            return { ok: false, error: 'Forge functions are not simulated; this app calls its remote with invokeRemote.' };
          }
          return { ok: true, value: await this.bridgeInvoke(view, payload) };
        default:
          return { ok: false, error: `The host simulator does not implement the bridge call ${name}.` };
      }
    } catch (error) {
      if (error instanceof ForgeInvokeError || error instanceof HostSimulatorError) return { ok: false, error: error.message };
      return { ok: false, error: 'An unexpected error happened' };
    }
  }

  // ---- events ----------------------------------------------------------------

  /**
   * Delivers `payload` as `event` to every endpoint whose trigger subscribes to it; answers the first
   * endpoint's delivery. Throws when the app is not installed or nothing subscribes.
   */
  async sendEvent(event: string, payload: object, opts: SendOptions = {}): Promise<Delivery> {
    const installation = this.requireInstallation();
    const endpoints = endpointsFor(this.layout, event);
    if (endpoints.length === 0) throw new HostSimulatorError('trigger_not_declared', `no trigger of the Forge app subscribes to ${event}`);
    const policy = { ...this.eventPolicy, ...opts.policy };
    const deliveries: Delivery[] = [];
    for (const endpoint of endpoints) {
      deliveries.push(await deliver(this.target(event, endpoint, installation, opts.forgery), payload, policy, this.sleep));
    }
    return deliveries[0];
  }

  /** Deletes the user from the site and sends `avi:jira:deleted:user`. */
  async removeUser(accountId: string, opts: EventOptions = {}): Promise<Delivery | null> {
    const user = this.site.directory.setActive(accountId, false);
    return this.notify('avi:jira:deleted:user', userEvent('avi:jira:deleted:user', user, this.timestamp(opts)));
  }

  /** Deactivates the user and sends `avi:jira:updated:user` with `user.active` false. */
  async deactivateUser(accountId: string, opts: EventOptions = {}): Promise<Delivery | null> {
    const user = this.site.directory.setActive(accountId, false);
    return this.notify('avi:jira:updated:user', userEvent('avi:jira:updated:user', user, this.timestamp(opts)));
  }

  async reactivateUser(accountId: string, opts: EventOptions = {}): Promise<Delivery | null> {
    const user = this.site.directory.setActive(accountId, true);
    return this.notify('avi:jira:updated:user', userEvent('avi:jira:updated:user', user, this.timestamp(opts)));
  }

  async createUser(user: NewUser, opts: EventOptions = {}): Promise<Delivery | null> {
    const created = this.site.directory.add(user);
    return this.notify('avi:jira:created:user', userEvent('avi:jira:created:user', created, this.timestamp(opts)));
  }

  async deleteIssue(issue: ForgeIssue, opts: EventOptions = {}): Promise<Delivery | null> {
    this.site.issues.remove(issue.issueKey);
    return this.notify('avi:jira:deleted:issue', issueDeletedEvent(issue, this.timestamp(opts), opts.actor));
  }

  async deleteProject(project: { id: string; key: string; projectType?: string }, opts: EventOptions = {}): Promise<Delivery | null> {
    this.site.issues.removeProject(project.id);
    return this.notify('avi:jira:deleted:project', projectDeletedEvent(project, this.timestamp(opts), opts.actor));
  }

  /** Stops the CDN; a second call does nothing. The site's own pages stop with the site. */
  close(): Promise<void> {
    return closeServer(this.server);
  }

  // ---- internals --------------------------------------------------------------

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  private timestamp(opts: EventOptions): number {
    return opts.timestamp ?? this.now();
  }

  private requireInstallation(): Installation {
    if (this.installation === undefined) throw new HostSimulatorError('not_installed', 'install the Forge app first');
    return this.installation;
  }

  private sign(claims: FitClaims, forgery?: FitForgery): string {
    if (forgery === undefined) return this.issuer.sign(claims);
    return this.issuer.sign(forgeClaims(claims, forgery, this.nowSeconds()), forgery.signing);
  }

  private appClaims(installation: Installation): Omit<FitAppClaims, 'module' | 'license'> {
    return {
      id: this.appId,
      version: this.appVersion.split('.')[0] ?? this.appVersion,
      appVersion: this.appVersion,
      installationId: installation.id,
      apiBaseUrl: this.apiBaseUrl,
      installation: { id: installation.id, contexts: [{ name: 'jira', apiBaseUrl: this.apiBaseUrl, cloudId: this.cloudId }] },
      environment: { type: this.environmentType, id: this.environmentId },
    };
  }

  private contextClaims(call: UiCall, module: UiModule, location: string): FitContextClaims {
    return {
      localId: extensionAri(this.appUuid, this.environmentUuid, module.key),
      cloudId: this.cloudId,
      moduleKey: module.key,
      siteUrl: this.site.baseUrl,
      extension: this.extension(call, module, location),
    };
  }

  /** The extension data the module reference documents for each module type. */
  private extension(call: UiCall, module: UiModule, location: string): Record<string, unknown> {
    if (module.type !== 'jira:issuePanel') return { type: module.type, location };
    const issue: ForgeIssue | undefined = call.issue;
    if (issue === undefined) throw new HostSimulatorError('issue_unknown', `${module.key} is an issue panel: say which issue it is on`);
    const projectKey = issue.projectKey ?? issue.issueKey.replace(/-\d+$/, '');
    return {
      type: module.type,
      issue: { id: issue.issueId, key: issue.issueKey, type: issue.issueType ?? ISSUE_DEFAULTS.issueType, typeId: issue.issueTypeId ?? ISSUE_DEFAULTS.issueTypeId },
      project: { id: issue.projectId, key: projectKey, type: issue.projectType ?? ISSUE_DEFAULTS.projectType },
      isNewToIssue: false,
      location,
    };
  }

  private pageUrl(call: UiCall): string {
    const as = `?as=${encodeURIComponent(call.accountId)}`;
    const module = findUiModule(this.layout, call.moduleKey);
    if (module.type === 'jira:issuePanel') {
      if (call.issue === undefined) throw new HostSimulatorError('issue_unknown', `${module.key} is an issue panel: say which issue it is on`);
      return `${this.site.baseUrl}${FORGE_PAGES_PREFIX}/browse/${encodeURIComponent(call.issue.issueKey)}${as}`;
    }
    return `${this.site.baseUrl}${FORGE_PAGES_PREFIX}/apps/${encodeURIComponent(module.key)}${as}`;
  }

  private triggerClaims(endpoint: Endpoint, installation: Installation): FitClaims {
    return fitClaims({
      app: this.appClaims(installation),
      module: { type: 'core:endpoint', key: endpoint.key },
      license: this.options.license,
      now: this.nowSeconds(),
    });
  }

  private endpointFor(event: string): Endpoint {
    const endpoint = event === PRE_UNINSTALL_EVENT && this.layout.preUninstall !== undefined
      ? findEndpoint(this.layout, this.layout.preUninstall.endpoint)
      : endpointsFor(this.layout, event)[0];
    if (endpoint === undefined) throw new HostSimulatorError('trigger_not_declared', `no trigger of the Forge app subscribes to ${event}`);
    return endpoint;
  }

  private target(event: string, endpoint: Endpoint, installation: Installation, forgery?: FitForgery): DeliveryTarget {
    if (endpoint.routePath === undefined) throw new HostSimulatorError('trigger_not_declared', `the endpoint ${endpoint.key} has no route.path`);
    return {
      event,
      endpoint: endpoint.key,
      url: remoteUrl(installation.remoteBaseUrl, endpoint.routePath),
      fit: () => this.sign(this.triggerClaims(endpoint, installation), forgery),
      systemToken: endpoint.appSystemToken ? () => this.systemTokens.forInstallation(installation.id, this.now()) : undefined,
    };
  }

  /** Sends an event when Forge would: the app is installed and a trigger subscribes to it. */
  private async notify(event: string, payload: object): Promise<Delivery | null> {
    if (this.installation === undefined || endpointsFor(this.layout, event).length === 0) return null;
    return this.sendEvent(event, payload);
  }
}

/**
 * Turns on Forge mode for `site`: a CDN on its own port (Custom UI and JWKS) and, on the site, the
 * Forge host pages and the REST API at `apiBaseUrl`. Install the app with `install(remoteBaseUrl)`.
 */
export async function startForgeSimulator(site: HostSimulator, options: ForgeSimulatorOptions = {}): Promise<ForgeSimulator> {
  const layout = options.layout ?? (await loadForgeLayout(options.forgeDir ?? path.join(PROJECT_ROOT, 'forge')));
  const appId = options.appId ?? layout.appId ?? appAri(randomUuid());
  if (appUuidOf(appId) === undefined) throw new HostSimulatorError('manifest_invalid', `${appId} is not an app id (ari:cloud:ecosystem::app/<uuid>)`);
  const app = express();
  app.disable('x-powered-by');
  const server = createServer(app);
  const host = new URL(site.baseUrl).hostname.replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.cdnPort ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const forge = new ForgeSimulator(site, server, `http://${urlHost}:${port}`, layout, appId, options);
  app.use(cdnRouter(forge));
  site.mount(productApiRouter(forge));
  site.mount(forgeHostPagesRouter(forge));
  return forge;
}
