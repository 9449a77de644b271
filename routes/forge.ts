/**
 * The Forge front door: a Custom UI page's first call mints its page token from the FIT's signed module
 * and context; Jira events and the app's lifecycle arrive as FIT-signed calls without a user. Everything
 * after goes through the same allowlist as Connect (see routes/page-credentials.ts for later calls).
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Allowlist } from '../src/allowlist/allowlist';
import type { RemovalOutcome, Removals } from '../src/allowlist/removals';
import type { Replays } from '../src/allowlist/replays';
import { issueResource, JIRA_ID, projectResource } from '../src/allowlist/resource';
import type { SiteAddress, TenantLifecycle } from '../src/allowlist/tenants';
import { pageOf, type ForgeInvocation } from '../src/forge/invocation';
import type { ForgeSiteAdmins } from '../src/forge/site-admins';
import type { Logger } from '../src/observability/logger';
import type { Settled } from '../src/base/result';
import { sha256Hex } from '../src/tokens/hash';
import { jsonBody } from './body';
import { sendConfirmation } from './confirmation';
import { messageOf, sendError, sendForgeError } from './errors';
import { readBearer } from './bearer';
import { storeWork } from './store-work';
import { forgeInvocationOf, type ForgeDoor } from './page-credentials';

export interface ForgeDeps {
  door: ForgeDoor;
  allowlist: Allowlist;
  removals: Removals;
  tenants: TenantLifecycle;
  replays: Replays;
  siteAdmins: ForgeSiteAdmins;
  /** The app's public base URL: a page's DPoP proofs name it (with the path) as the URL they were made for. */
  baseUrl: string;
  log: Logger;
}

/** The app system token Forge adds to calls when the endpoint asks for one (the admin check needs it). */
const SYSTEM_TOKEN_HEADER = 'x-forge-oauth-system';

const accountId = z.string().min(1).max(128);
const jiraId = z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(JIRA_ID));
/** Forge's Jira events carry `timestamp` as epoch milliseconds in a string; a number is taken too. */
const timestamp = z
  .union([z.number(), z.string().regex(/^[0-9]{1,16}$/)])
  .transform(Number)
  .pipe(z.number().int().nonnegative())
  .optional();
const userEvent = z.object({ timestamp, user: z.object({ accountId, active: z.boolean().optional() }).passthrough() }).passthrough();
const issueDeleted = z.object({ timestamp, issue: z.object({ id: jiraId }).passthrough() }).passthrough();
const projectDeleted = z.object({ timestamp, project: z.object({ id: jiraId }).passthrough() }).passthrough();

const NOT_APPLIED: RemovalOutcome = { applied: false, revoked: 0, confirmation: null };

export function forgeRoutes(deps: ForgeDeps): Router {
  const { door, allowlist, removals, tenants, replays, log } = deps;
  const router = Router();
  // Forge retries an event or lifecycle call answered 503 (a failed result); until then the store, not this answer,
  // is the truth. The net only catches bugs (and the installations' own store).
  const handle = storeWork(log, 'forge');

  router.post('/forge/sessions', handle('mint page token', async (req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    const invocation = await forgeInvocationOf(door, req, 'user');
    if (!invocation.ok) return sendError(res, invocation.code);
    const call = invocation.value;
    const page = pageOf(call);
    if (page === null) return sendForgeError(res, 'forbidden', 'The call comes from no PanelGuard page.');
    const principal = call.principal as string;
    const clientKey = await door.installations.tenantOf(call.installationId);
    if (page.kind === 'admin') {
      const systemToken = req.get(SYSTEM_TOKEN_HEADER);
      // Without the app's token Jira cannot be asked, and a page whose admin cannot be confirmed is not minted.
      if (systemToken === undefined) return sendForgeError(res, 'forbidden', 'Jira could not be asked whether you are a site admin.');
      let admin: boolean;
      try {
        admin = await deps.siteAdmins.isSiteAdmin(call.installationId, principal, { apiBaseUrl: call.apiBaseUrl, systemToken });
      } catch (error) {
        log.warn({ err: error, installationId: call.installationId }, 'could not ask Jira who is a site admin');
        return sendForgeError(res, 'store_unavailable', 'Jira could not confirm that you are a site admin; try again shortly.');
      }
      if (!admin) return sendForgeError(res, 'forbidden', 'Only site admins can manage PanelGuard sessions.');
    }
    const minted = await allowlist.mint({
      clientKey,
      accountId: principal,
      target: page.target,
      // The FIT's time stands where Connect has the page's JWT: a FIT from before a removal mints nothing.
      connectIssuedAt: call.issuedAt,
      ip: req.ip ?? null,
      userAgent: req.get('user-agent') ?? null,
      // Shown only beside a FIT of the same user: a page token copied out of the frame is useless alone.
      proof: { fit: 'principal' },
    });
    if (!minted.ok) return sendForgeError(res, minted.code, minted.code === 'forbidden' ? messageOf('token_revoked') : undefined);
    // invokeRemote never tells the page where the remote is, and a proof must name the URL the server sees.
    res.json({ pageToken: minted.value.token, expiresAt: minted.value.entry.expiresAt, apiBase: deps.baseUrl });
  }));

  /** What an event did, or why it could not be applied; null when it asks for nothing. */
  type Handler<T> = (tenant: string, event: T, at: number) => Promise<Settled<RemovalOutcome> | null>;

  /** A Jira event Forge delivers: within its 5 s timeout, durable before the 2xx, harmless when retried. */
  function onEvent<S extends z.ZodTypeAny>(path: string, event: string, schema: S, apply: Handler<z.infer<S>>): void {
    router.post(path, jsonBody, handle(event, async (req: Request, res: Response) => {
      const invocation = await forgeInvocationOf(door, req, 'none');
      if (!invocation.ok) return sendError(res, invocation.code);
      // Forge posts the event as `{ "payload": { ...event, retryContext? } }`.
      const parsed = schema.safeParse((req.body as { payload?: unknown }).payload);
      if (!parsed.success) return sendError(res, 'bad_request', `Not a ${event} payload: ${parsed.error.issues[0]?.path.join('.')} is missing or invalid.`);
      const tenant = await door.installations.tenantOf(invocation.value.installationId);
      // Events without their own time are ordered by the FIT's: a retry is signed later, and changes nothing a newer event set.
      const at = (parsed.data as { timestamp?: number }).timestamp ?? invocation.value.issuedAt;
      const outcome = await apply(tenant, parsed.data, at);
      if (outcome?.ok === false) return sendForgeError(res, outcome.code);
      const applied = outcome?.value ?? NOT_APPLIED;
      sendConfirmation(res, applied.confirmation);
      res.status(200).json(applied);
    }));
  }

  const cause = (event: string, reason: string) => ({ actor: `forge:${event}`, reason });

  onEvent('/forge/events/user-deleted', 'avi:jira:deleted:user', userEvent, (tenant, e, at) =>
    removals.removeUser(tenant, e.user.accountId, at, cause('avi:jira:deleted:user', 'user_removed')),
  );
  onEvent('/forge/events/user-updated', 'avi:jira:updated:user', userEvent, async (tenant, e, at) => {
    if (e.user.active === false) return removals.removeUser(tenant, e.user.accountId, at, cause('avi:jira:updated:user', 'user_deactivated'));
    if (e.user.active === true) return removals.restoreUser(tenant, e.user.accountId, at);
    return null;
  });
  onEvent('/forge/events/user-created', 'avi:jira:created:user', userEvent, (tenant, e, at) => removals.restoreUser(tenant, e.user.accountId, at));
  onEvent('/forge/events/issue-deleted', 'avi:jira:deleted:issue', issueDeleted, (tenant, e, at) =>
    removals.removeResource(tenant, issueResource(e.issue.id, null).resource, at, cause('avi:jira:deleted:issue', 'issue_deleted')),
  );
  onEvent('/forge/events/project-deleted', 'avi:jira:deleted:project', projectDeleted, (tenant, e, at) =>
    removals.removeResource(tenant, projectResource(e.project.id).resource, at, cause('avi:jira:deleted:project', 'project_deleted')),
  );

  /** A lifecycle call: its FIT is accepted once, like a Connect lifecycle JWT; answers 204 once done. */
  function onLifecycle(event: 'installed' | 'uninstalled'): void {
    router.post(`/forge/lifecycle/${event}`, jsonBody, handle(`lifecycle ${event}`, async (req: Request, res: Response) => {
      const invocation = await forgeInvocationOf(door, req, 'none');
      if (!invocation.ok) return sendError(res, invocation.code);
      const call = invocation.value;
      const tenant = await door.installations.tenantOf(call.installationId);
      const outcome = await replays.acceptLifecycle(
        { clientKey: tenant, tokenHash: sha256Hex(fitOf(req)), issuedAt: call.issuedAt, expiresAt: call.expiresAt },
        () => (event === 'installed' ? tenants.installed(tenant, addressOf(call, tenant), { sharedSecretChanged: false }) : tenants.uninstalled(tenant, addressOf(call, tenant))),
      );
      // A replayed or stale FIT is a 401 as on the Connect door: the call's own signature is refused, not a page's token.
      if (!outcome.ok) return sendError(res, outcome.code);
      log.info({ installationId: call.installationId, tenant, event, revoked: outcome.value?.count ?? 0 }, `forge ${event}`);
      sendConfirmation(res, outcome.value?.confirmation ?? null);
      res.status(204).end();
    }));
  }
  onLifecycle('installed');
  onLifecycle('uninstalled');

  return router;
}

/**
 * Where the site is, for the tenant's record. A tenant adopted from Connect keeps the address its Connect
 * install gave (null); a Forge-only tenant is known by its site URL, or its API base URL when the call has none.
 */
function addressOf(call: ForgeInvocation, tenant: string): SiteAddress {
  if (tenant !== call.installationId) return null;
  return call.siteUrl ?? call.apiBaseUrl;
}

/** The FIT of a call whose FIT already verified. */
function fitOf(req: Request): string {
  const bearer = readBearer(req.headers.authorization);
  if (!bearer.ok) throw new Error('fitOf called on a call without a bearer');
  return bearer.credential;
}
