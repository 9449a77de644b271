/** The app's descriptor as Jira reads it: its schema, URLs relative to its baseUrl, module and webhook look-up. */
import { z } from 'zod';

const moduleSchema = z
  .object({
    key: z.string().min(1),
    url: z.string().optional(),
    location: z.string().optional(),
    // jiraIssueContexts carry their URL in target.url
    target: z.object({ url: z.string().optional() }).passthrough().optional(),
  })
  .passthrough();

const webhookSchema = z.object({ event: z.string().min(1), url: z.string().min(1) }).passthrough();

export const descriptorSchema = z
  .object({
    key: z.string().min(1),
    baseUrl: z.string().url(),
    name: z.string().optional(),
    scopes: z.array(z.string()).optional(),
    lifecycle: z.object({
      installed: z.string().min(1),
      uninstalled: z.string().optional(),
      enabled: z.string().optional(),
      disabled: z.string().optional(),
    }),
    modules: z
      .object({
        webPanels: z.array(moduleSchema).optional(),
        jiraIssueContexts: z.array(moduleSchema).optional(),
        generalPages: z.array(moduleSchema).optional(),
        adminPages: z.array(moduleSchema).optional(),
        webhooks: z.array(webhookSchema).optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

export type AppDescriptor = z.infer<typeof descriptorSchema>;
export type LifecycleEvent = keyof AppDescriptor['lifecycle'];
export type ModuleKind = 'webPanels' | 'jiraIssueContexts' | 'generalPages' | 'adminPages';

export interface AppModule {
  kind: ModuleKind;
  key: string;
  /** Relative to the descriptor's baseUrl, context variables still in place. */
  url: string;
  location?: string;
}

const MODULE_KINDS: readonly ModuleKind[] = ['webPanels', 'jiraIssueContexts', 'generalPages', 'adminPages'];

/** Where the right-hand issue view panels go. */
export const ISSUE_VIEW_LOCATION_PREFIX = 'atlassian.jira.view.issue';

/** Connect URLs are relative to the descriptor's baseUrl, whose path they extend. */
export function appUrl(descriptor: AppDescriptor, relative: string): string {
  if (/^https?:\/\//i.test(relative)) return relative;
  const base = descriptor.baseUrl.replace(/\/+$/, '');
  return `${base}${relative.startsWith('/') ? '' : '/'}${relative}`;
}

export function listModules(descriptor: AppDescriptor): AppModule[] {
  const found: AppModule[] = [];
  for (const kind of MODULE_KINDS) {
    for (const module of descriptor.modules?.[kind] ?? []) {
      const url = module.url ?? module.target?.url;
      if (url === undefined) continue;
      found.push({ kind, key: module.key, url, location: module.location });
    }
  }
  return found;
}

export function findModule(descriptor: AppDescriptor, key: string): AppModule | undefined {
  return listModules(descriptor).find((module) => module.key === key);
}

/** The panels Jira shows on an issue view, the right-hand context ones first. */
export function issueViewPanels(descriptor: AppDescriptor): AppModule[] {
  const panels = listModules(descriptor).filter(
    (module) =>
      module.kind === 'jiraIssueContexts' ||
      (module.kind === 'webPanels' && (module.location ?? '').startsWith(ISSUE_VIEW_LOCATION_PREFIX)),
  );
  const rightContext = `${ISSUE_VIEW_LOCATION_PREFIX}.right.context`;
  return [...panels.filter((p) => p.location === rightContext), ...panels.filter((p) => p.location !== rightContext)];
}

export function webhooksFor(descriptor: AppDescriptor, event: string): string[] {
  return (descriptor.modules?.webhooks ?? []).filter((hook) => hook.event === event).map((hook) => hook.url);
}

/**
 * Replaces `{issue.id}` (and the older `${issue.id}`) with URL-encoded values;
 * variables Jira does not know become empty, as Jira does.
 */
export function substituteContext(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\$?\{([A-Za-z0-9_.]+)\}/g, (_match, name: string) =>
    encodeURIComponent(values[name] ?? ''),
  );
}
