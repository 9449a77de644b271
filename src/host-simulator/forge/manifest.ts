/**
 * The Forge app as the simulated site knows it: UI modules, endpoints, triggers, resources and content
 * permissions, read from `forge/manifest.yml` when it exists, else the contract of docs/FORGE.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { HostSimulatorError } from '../errors';

export const UI_MODULE_TYPES = ['jira:issuePanel', 'jira:adminPage', 'jira:globalPage'] as const;
export type UiModuleType = (typeof UI_MODULE_TYPES)[number];

export interface UiModule {
  key: string;
  type: UiModuleType;
  /** The key of the resource (Custom UI directory) it renders. */
  resource: string;
  /** The endpoint its `invokeRemote` calls go to; undefined when it has no remote resolver. */
  endpoint?: string;
  title: string;
}

export interface Endpoint {
  key: string;
  /** `route.path`, appended to the remote's base URL for trigger deliveries. */
  routePath?: string;
  /** Whether calls carry `x-forge-oauth-system` (`auth.appSystemToken`). */
  appSystemToken: boolean;
}

export interface Trigger {
  key: string;
  endpoint: string;
  events: string[];
}

/** What the Custom UI's CSP allows beyond its own origin (`permissions.content` and `permissions.external`). */
export interface ContentPermissions {
  scripts: string[];
  styles: string[];
  fetchClient: string[];
  images: string[];
}

export interface ForgeAppLayout {
  /** Where this came from: the manifest, or the constant below when there is none. */
  source: { kind: 'manifest'; path: string } | { kind: 'constant' };
  /** `app.id` from the manifest, when it is one (not a `${VARIABLE}` left for the Forge CLI). */
  appId?: string;
  uiModules: UiModule[];
  endpoints: Endpoint[];
  triggers: Trigger[];
  preUninstall?: { key: string; endpoint: string };
  /** Resource key → directory, relative to the manifest's folder. */
  resources: Record<string, string>;
  permissions: ContentPermissions;
}

export const INSTALLED_EVENT = 'avi:forge:installed:app';
const APP_ID = /^ari:cloud:ecosystem::app\/[0-9a-f-]{36}$/i;

function eventRoute(trigger: string, endpoint: string, event: string, routePath: string): { endpoint: Endpoint; trigger: Trigger } {
  return { endpoint: { key: endpoint, routePath, appSystemToken: false }, trigger: { key: trigger, endpoint, events: [event] } };
}

const CONTRACT_ROUTES = [
  eventRoute('on-user-deleted', 'events-user-deleted', 'avi:jira:deleted:user', '/forge/events/user-deleted'),
  eventRoute('on-user-updated', 'events-user-updated', 'avi:jira:updated:user', '/forge/events/user-updated'),
  eventRoute('on-user-created', 'events-user-created', 'avi:jira:created:user', '/forge/events/user-created'),
  eventRoute('on-issue-deleted', 'events-issue-deleted', 'avi:jira:deleted:issue', '/forge/events/issue-deleted'),
  eventRoute('on-project-deleted', 'events-project-deleted', 'avi:jira:deleted:project', '/forge/events/project-deleted'),
  eventRoute('on-app-installed', 'lifecycle-installed', INSTALLED_EVENT, '/forge/lifecycle/installed'),
];

/**
 * docs/FORGE.md's module keys and routes, with the endpoint, trigger and resource keys of forge/manifest.yml
 * (a test holds the two together): what the simulator plays when there is no manifest to read.
 */
export const CONTRACT_LAYOUT: ForgeAppLayout = {
  source: { kind: 'constant' },
  uiModules: [
    { key: 'panelguard-issue-panel', type: 'jira:issuePanel', resource: 'issue-panel', endpoint: 'panelguard-ui', title: 'PanelGuard notes' },
    { key: 'panelguard-admin-page', type: 'jira:adminPage', resource: 'admin', endpoint: 'panelguard-admin-ui', title: 'PanelGuard sessions' },
    { key: 'panelguard-my-sessions', type: 'jira:globalPage', resource: 'my-sessions', endpoint: 'panelguard-ui', title: 'My PanelGuard sessions' },
  ],
  endpoints: [
    // every page asks Jira for the names it shows; the admin page also asks who is a site admin
    { key: 'panelguard-ui', appSystemToken: true },
    { key: 'panelguard-admin-ui', appSystemToken: true },
    ...CONTRACT_ROUTES.map((route) => route.endpoint),
    { key: 'lifecycle-uninstalled', routePath: '/forge/lifecycle/uninstalled', appSystemToken: false },
  ],
  triggers: CONTRACT_ROUTES.map((route) => route.trigger),
  preUninstall: { key: 'on-app-uninstalling', endpoint: 'lifecycle-uninstalled' },
  resources: { 'issue-panel': 'static/issue-panel', admin: 'static/admin', 'my-sessions': 'static/my-sessions', icons: 'icons' },
  permissions: { scripts: [], styles: [], fetchClient: [], images: [] },
};

const keyed = z.object({ key: z.string().min(1) }).passthrough();
const uiModuleSchema = keyed.extend({
  resource: z.string().min(1),
  title: z.union([z.string(), z.record(z.unknown())]).optional(),
  resolver: z.object({ endpoint: z.string().optional(), function: z.string().optional() }).passthrough().optional(),
});
// `auth.appSystemToken` is `{ enabled: true }` in current manifests and a bare boolean in older ones
const tokenFlag = z.union([z.boolean(), z.object({ enabled: z.boolean() }).passthrough()]).optional();
const endpointSchema = keyed.extend({
  route: z.object({ path: z.string() }).passthrough().optional(),
  auth: z.object({ appSystemToken: tokenFlag }).passthrough().optional(),
});
const triggerSchema = keyed.extend({ endpoint: z.string().optional(), events: z.array(z.string()).default([]) });
const addresses = z.array(z.union([z.string(), z.object({ address: z.string() }).passthrough()])).optional();

const manifestSchema = z
  .object({
    app: z.object({ id: z.string().optional() }).passthrough().optional(),
    modules: z
      .object({
        'jira:issuePanel': z.array(uiModuleSchema).optional(),
        'jira:adminPage': z.array(uiModuleSchema).optional(),
        'jira:globalPage': z.array(uiModuleSchema).optional(),
        endpoint: z.array(endpointSchema).optional(),
        trigger: z.array(triggerSchema).optional(),
        preUninstall: z.array(keyed.extend({ endpoint: z.string().optional() })).optional(),
      })
      .passthrough()
      .default({}),
    resources: z.array(z.object({ key: z.string(), path: z.string() }).passthrough()).optional(),
    permissions: z
      .object({
        content: z.object({ scripts: z.array(z.string()).optional(), styles: z.array(z.string()).optional() }).passthrough().optional(),
        external: z
          .object({ fetch: z.object({ client: addresses }).passthrough().optional(), images: addresses })
          .passthrough()
          .optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

type Manifest = z.infer<typeof manifestSchema>;

function enabled(flag: z.infer<typeof tokenFlag>): boolean {
  return typeof flag === 'boolean' ? flag : flag?.enabled === true;
}

function addressList(list: z.infer<typeof addresses>): string[] {
  return (list ?? []).map((entry) => (typeof entry === 'string' ? entry : entry.address));
}

function titleOf(title: string | Record<string, unknown> | undefined, key: string): string {
  if (typeof title === 'string') return title;
  const text = title?.['text'] ?? title?.['i18n'];
  return typeof text === 'string' ? text : key;
}

/** The layout a parsed manifest describes; only endpoint-backed triggers reach a remote. */
export function layoutFromManifest(manifest: unknown, manifestPath: string): ForgeAppLayout {
  const parsed = manifestSchema.safeParse(manifest);
  if (!parsed.success) {
    throw new HostSimulatorError('manifest_invalid', `${manifestPath}: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`);
  }
  const m: Manifest = parsed.data;
  const uiModules: UiModule[] = UI_MODULE_TYPES.flatMap((type) =>
    (m.modules[type] ?? []).map((module) => ({
      key: module.key,
      type,
      resource: module.resource,
      ...(module.resolver?.endpoint === undefined ? {} : { endpoint: module.resolver.endpoint }),
      title: titleOf(module.title, module.key),
    })),
  );
  const endpoints: Endpoint[] = (m.modules.endpoint ?? []).map((endpoint) => ({
    key: endpoint.key,
    ...(endpoint.route === undefined ? {} : { routePath: endpoint.route.path }),
    appSystemToken: enabled(endpoint.auth?.appSystemToken),
  }));
  const triggers: Trigger[] = (m.modules.trigger ?? []).flatMap((trigger) =>
    trigger.endpoint === undefined ? [] : [{ key: trigger.key, endpoint: trigger.endpoint, events: trigger.events }],
  );
  const preUninstall = (m.modules.preUninstall ?? []).find((module) => module.endpoint !== undefined);
  // `${FORGE_APP_ID}` is the Forge CLI's to fill in at deploy; unfilled, the simulator picks the app id
  const appId = m.app?.id !== undefined && APP_ID.test(m.app.id) ? m.app.id : undefined;
  return {
    source: { kind: 'manifest', path: manifestPath },
    appId,
    uiModules,
    endpoints,
    triggers,
    preUninstall: preUninstall?.endpoint === undefined ? undefined : { key: preUninstall.key, endpoint: preUninstall.endpoint },
    resources: Object.fromEntries((m.resources ?? []).map((resource) => [resource.key, resource.path])),
    permissions: {
      scripts: m.permissions?.content?.scripts ?? [],
      styles: m.permissions?.content?.styles ?? [],
      fetchClient: addressList(m.permissions?.external?.fetch?.client),
      images: addressList(m.permissions?.external?.images),
    },
  };
}

/**
 * Reads `<forgeDir>/manifest.yml` with @forge/manifest's parser (YAML as the Forge CLI reads it), or
 * answers the contract constant when the file does not exist. The parser loads only when needed.
 */
export async function loadForgeLayout(forgeDir: string): Promise<ForgeAppLayout> {
  const manifestPath = path.join(forgeDir, 'manifest.yml');
  if (!existsSync(manifestPath)) return CONTRACT_LAYOUT;
  const { ManifestParserBuilder } = await import('@forge/manifest');
  const manifest: unknown = new ManifestParserBuilder().build().parseManifest({ content: readFileSync(manifestPath, 'utf8'), filePath: manifestPath });
  return layoutFromManifest(manifest, manifestPath);
}

export function findUiModule(layout: ForgeAppLayout, moduleKey: string): UiModule {
  const module = layout.uiModules.find((candidate) => candidate.key === moduleKey);
  if (module === undefined) throw new HostSimulatorError('module_not_found', `the Forge app has no UI module ${moduleKey}`);
  return module;
}

export function findEndpoint(layout: ForgeAppLayout, endpointKey: string): Endpoint {
  const endpoint = layout.endpoints.find((candidate) => candidate.key === endpointKey);
  if (endpoint === undefined) throw new HostSimulatorError('module_not_found', `the Forge app has no endpoint ${endpointKey}`);
  return endpoint;
}

/** The endpoints whose triggers subscribe to `event`. */
export function endpointsFor(layout: ForgeAppLayout, event: string): Endpoint[] {
  return layout.triggers.filter((trigger) => trigger.events.includes(event)).map((trigger) => findEndpoint(layout, trigger.endpoint));
}
