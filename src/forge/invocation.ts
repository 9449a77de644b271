/**
 * A Forge invocation: the claims of a verified Forge Invocation Token (FIT) that PanelGuard acts on,
 * parsed from the token's payload into typed values, and the page each UI module stands for.
 */
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

/**
 * Reads the claims PanelGuard acts on from a verified FIT's payload; null when any it reads is missing or
 * malformed. Checked by hand, not by a schema: every Forge call has a FIT of its own, and a schema library
 * cost as much again as the RSA signature check (22 µs a FIT, measured). The rules are a schema's: objects
 * that may hold more than is read; strings of bounded length; URLs that parse; Jira ids as decimal digits,
 * sent as a string or a number.
 */
export function invocationOf(payload: unknown): ForgeInvocation | null {
  if (!isRecord(payload)) return null;
  const { app, context, principal, iat, exp, jti } = payload;
  if (!isRecord(app) || !isText(app.id) || !isInstallationId(app.installationId) || !isUrl(app.apiBaseUrl)) return null;
  if (app.module !== undefined && !(isRecord(app.module) && isText(app.module.key) && isText(app.module.type))) return null;
  if (principal !== undefined && !isText(principal, MAX_PRINCIPAL_LENGTH)) return null;
  if (typeof iat !== 'number' || typeof exp !== 'number') return null;
  if (jti !== undefined && !isText(jti)) return null;
  const where = context === undefined ? NO_CONTEXT : contextOf(context);
  if (where === null) return null;
  return {
    installationId: app.installationId,
    apiBaseUrl: app.apiBaseUrl,
    principal: principal ?? null,
    moduleKey: where.moduleKey,
    extension: where.extension,
    siteUrl: where.siteUrl,
    issuedAt: iat * 1000,
    expiresAt: exp * 1000,
  };
}

type Where = Pick<ForgeInvocation, 'moduleKey' | 'extension' | 'siteUrl'>;

const NO_CONTEXT: Where = { moduleKey: null, extension: null, siteUrl: null };
const MAX_TEXT_LENGTH = 255;
const MAX_PRINCIPAL_LENGTH = 128;
const MAX_URL_LENGTH = 1024;

/** The UI call's context: where it ran and what it showed; null when malformed. */
function contextOf(context: unknown): Where | null {
  if (!isRecord(context)) return null;
  const { cloudId, moduleKey, siteUrl, extension } = context;
  if (cloudId !== undefined && !isText(cloudId)) return null;
  if (moduleKey !== undefined && !isText(moduleKey)) return null;
  if (siteUrl !== undefined && !isUrl(siteUrl)) return null;
  let shown: ForgeInvocation['extension'] = null;
  if (extension !== undefined) {
    if (!isRecord(extension) || !isText(extension.type)) return null;
    const issueId = idOf(extension.issue);
    const projectId = idOf(extension.project);
    if (issueId === undefined || projectId === undefined) return null;
    shown = { type: extension.type, issueId, projectId };
  }
  return { moduleKey: moduleKey ?? null, extension: shown, siteUrl: siteUrl ?? null };
}

/** An issue's or project's id (`{ id }`, a string or a number of decimal digits): null when absent, undefined when malformed. */
function idOf(holder: unknown): string | null | undefined {
  if (holder === undefined) return null;
  if (!isRecord(holder)) return undefined;
  const id = typeof holder.id === 'number' ? String(holder.id) : holder.id;
  return typeof id === 'string' && JIRA_ID.test(id) ? id : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isText(value: unknown, max = MAX_TEXT_LENGTH): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= max;
}

function isInstallationId(value: unknown): value is string {
  return typeof value === 'string' && INSTALLATION_ID.test(value);
}

/** An absolute URL WHATWG's parser takes, of bounded length. */
function isUrl(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_URL_LENGTH && URL.canParse(value);
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
