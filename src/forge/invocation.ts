/**
 * A Forge invocation: the claims of a verified Forge Invocation Token (FIT) that PanelGuard acts on,
 * parsed from the token's payload into typed values, and the page each UI module stands for.
 */
import { z } from 'zod';
import { ADMIN_RESOURCE, issueResource, JIRA_ID, SELF_RESOURCE, type ResourceRef } from '../allowlist/resource';
import { INSTALLATION_ID } from './installations';

export const FIT_ISSUER = 'forge/invocation-token';
export const FORGE_APP_ID = /^ari:cloud:ecosystem::app\/[0-9a-f-]{36}$/;

/** The module keys the manifest declares for PanelGuard's three pages. */
export const FORGE_MODULES = {
  issuePanel: 'panelguard-issue-panel',
  adminPage: 'panelguard-admin-page',
  mySessions: 'panelguard-my-sessions',
} as const;

const text = z.string().min(1).max(255);
const jiraId = z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(JIRA_ID));

const claimsSchema = z.object({
  app: z
    .object({
      id: text,
      installationId: z.string().regex(INSTALLATION_ID),
      apiBaseUrl: z.string().url().max(1024),
      module: z.object({ key: text, type: text }).passthrough().optional(),
    })
    .passthrough(),
  context: z
    .object({
      cloudId: text.optional(),
      moduleKey: text.optional(),
      siteUrl: z.string().url().max(1024).optional(),
      extension: z
        .object({
          type: text,
          issue: z.object({ id: jiraId }).passthrough().optional(),
          project: z.object({ id: jiraId }).passthrough().optional(),
        })
        .passthrough()
        .optional(),
    })
    .passthrough()
    .optional(),
  principal: z.string().min(1).max(128).optional(),
  iat: z.number(),
  exp: z.number(),
  jti: z.string().min(1).max(255).optional(),
});

export interface ForgeInvocation {
  installationId: string;
  /** Where the app calls the product's REST API for this installation. */
  apiBaseUrl: string;
  /** The invoking user; null for events and lifecycle calls. */
  principal: string | null;
  /** The UI module that called, and what it was showing; null outside UI modules. */
  moduleKey: string | null;
  extension: { type: string; issueId: string | null; projectId: string | null } | null;
  siteUrl: string | null;
  issuedAt: number;
  expiresAt: number;
}

/** Reads the claims PanelGuard acts on from a verified FIT's payload; null when they are missing or malformed. */
export function invocationOf(payload: unknown): ForgeInvocation | null {
  const parsed = claimsSchema.safeParse(payload);
  if (!parsed.success) return null;
  const { app, context, principal, iat, exp } = parsed.data;
  const extension = context?.extension;
  return {
    installationId: app.installationId,
    apiBaseUrl: app.apiBaseUrl,
    principal: principal ?? null,
    moduleKey: context?.moduleKey ?? null,
    extension:
      extension === undefined
        ? null
        : { type: extension.type, issueId: extension.issue?.id ?? null, projectId: extension.project?.id ?? null },
    siteUrl: context?.siteUrl ?? null,
    issuedAt: iat * 1000,
    expiresAt: exp * 1000,
  };
}

/** The page a UI call stands for, from the FIT's signed module and context; null for any other module or a context that does not fit. */
export type ForgePage = { kind: 'issue'; target: ResourceRef } | { kind: 'admin'; target: ResourceRef } | { kind: 'self'; target: ResourceRef };

export function pageOf(invocation: ForgeInvocation): ForgePage | null {
  const { moduleKey, extension } = invocation;
  if (extension === null) return null;
  if (moduleKey === FORGE_MODULES.issuePanel && extension.type === 'jira:issuePanel' && extension.issueId !== null) {
    return { kind: 'issue', target: issueResource(extension.issueId, extension.projectId) };
  }
  if (moduleKey === FORGE_MODULES.adminPage && extension.type === 'jira:adminPage') return { kind: 'admin', target: ADMIN_RESOURCE };
  if (moduleKey === FORGE_MODULES.mySessions && extension.type === 'jira:globalPage') return { kind: 'self', target: SELF_RESOURCE };
  return null;
}
