/** The admin API: a tenant's sessions, revoking a user or the whole site, the session policy and the audit log. */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AuditTrail } from '../src/allowlist/audit-trail';
import type { LastSeenTracker } from '../src/allowlist/last-seen';
import type { Policies } from '../src/allowlist/policies';
import type { Sessions } from '../src/allowlist/sessions';
import { policyProblems } from '../src/allowlist/policy-rules';
import { AUDIT_KINDS, type Policy } from '../src/allowlist/types';
import type { Logger } from '../src/observability/logger';
import type { OperatorTokens } from '../src/tokens/operator-tokens';
import { isEntryCursor } from '../src/store/paging';
import { adminOf, requireAdmin } from './admin-auth';
import { jsonBody } from './body';
import type { Guard } from './guard';
import { sendConfirmation } from './confirmation';
import { sendError, sendFieldErrors, type FieldProblem } from './errors';
import { storeWork } from './store-work';
import type { NetworkPrefixes } from '../src/allowlist/network';
import { actorAccountOf, issueIdOf, projectIdOf, type PageNames } from './names';
import { namesOfSessions, sessionJson } from './sessions-json';

export interface AdminDeps {
  guard: Guard;
  operators: OperatorTokens;
  sessions: Sessions;
  policies: Policies;
  auditTrail: AuditTrail;
  lastSeen: LastSeenTracker;
  names: PageNames;
  /** How coarse a device's network is, as sessions are grouped by it. */
  prefixes: NetworkPrefixes;
  log: Logger;
}

const accountId = z.string().min(1).max(128);
const sessionId = z.string().regex(/^[0-9a-f]{64}$/);
const limit = z.coerce.number().int().min(1).max(200).default(50);
/** Epoch milliseconds, or an ISO 8601 time. */
const time = z.union([
  z.string().regex(/^[0-9]{1,15}$/).transform(Number),
  z.string().datetime({ offset: true }).transform((value) => Date.parse(value)),
]);

const sessionsQuery = z.object({
  user: accountId.optional(),
  resource: z.string().min(1).max(255).optional(),
  // Checked here, so that the store never sees a cursor it did not give out.
  after: z.string().min(1).max(512).refine(isEntryCursor, 'not a cursor this API gave out').optional(),
  limit,
});
const auditQuery = z.object({
  kind: z.enum(AUDIT_KINDS).optional(),
  user: accountId.optional(),
  since: time.optional(),
  until: time.optional(),
  before: z.coerce.number().int().positive().optional(),
  limit,
});
const theftResponse = z.enum(['revoke', 'report']);
// Every field may be left out: it keeps its current value, so an admin can change one setting without restating the rest.
const policySettings = z.object({
  idleTimeoutSeconds: z.number().int(),
  absoluteLifetimeSeconds: z.number().int(),
  theftResponse,
  agentChangeResponse: theftResponse,
  keyBinding: z.boolean(),
});
const policyBody = policySettings
  .partial()
  .strict()
  .refine((change) => Object.keys(change).length > 0, 'name at least one setting to change');

function problem(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue === undefined ? 'The request is not valid.' : `${issue.path.join('.') || 'body'}: ${issue.message}`;
}

/** Each input a zod error faults, by its name in the body ('body' for the body as a whole), first one first. */
function fieldProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: key, message: 'is not a setting' }))
      : [{ field: issue.path.map(String).join('.') || 'body', message: issue.message }],
  );
}

/** The settings of a change that are well formed on their own: the policy's bounds are checked on these too. */
function wellFormedSettings(body: unknown): Partial<Policy> {
  if (typeof body !== 'object' || body === null) return {};
  const settings: Partial<Policy> = {};
  for (const [key, schema] of Object.entries(policySettings.shape)) {
    const value = schema.safeParse((body as Record<string, unknown>)[key]);
    if (value.success && key in body) Object.assign(settings, { [key]: value.data });
  }
  return settings;
}

export function adminRoutes(deps: AdminDeps): Router {
  const { sessions, policies, log } = deps;
  const router = Router();
  router.use('/api/admin', requireAdmin(deps.guard, deps.operators));

  // The core answers a store failure as store_unavailable; this net only catches what a bug lets through.
  const handle = storeWork(log, 'admin');

  // Who the page is signed in as, by name: the page shows it, and a Forge page has no other way to learn the name.
  router.get('/api/admin/me', handle('name the caller', async (req, res) => {
    const { clientKey, actor } = adminOf(res);
    const self = actorAccountOf(actor);
    const labels = await deps.names(req, res, clientKey, { accountIds: [self], issueIds: [], projectIds: [] });
    res.json({ accountId: self, displayName: labels.displayName(self) });
  }));

  router.get('/api/admin/sessions', handle('list sessions', async (req, res) => {
    const query = sessionsQuery.safeParse(req.query);
    if (!query.success) return sendError(res, 'bad_request', problem(query.error));
    const { clientKey } = adminOf(res);
    const listed = await sessions.list(clientKey, { accountId: query.data.user, resource: query.data.resource, after: query.data.after, limit: query.data.limit });
    if (!listed.ok) return sendError(res, listed.code);
    const page = listed.value;
    const labels = await deps.names(req, res, clientKey, namesOfSessions(page.entries));
    res.json({ sessions: page.entries.map((entry) => sessionJson(entry, deps.lastSeen.newest(entry.idHash), labels, deps.prefixes)), next: page.next });
  }));

  router.delete('/api/admin/users/:accountId/sessions', handle('revoke user', async (req, res) => {
    const user = accountId.safeParse(req.params.accountId);
    if (!user.success) return sendError(res, 'bad_request', 'accountId: not a valid account id');
    const { clientKey, actor } = adminOf(res);
    const revoked = await sessions.revokeUser(clientKey, user.data, actor);
    if (!revoked.ok) return sendError(res, revoked.code);
    const revocation = revoked.value;
    if (revocation === null) return sendError(res, 'not_found', 'This site has no sessions and no record of that user.');
    sendConfirmation(res, revocation.confirmation);
    res.status(204).end();
  }));

  router.delete('/api/admin/users/:accountId/sessions/:id', handle('end a session', async (req, res) => {
    const user = accountId.safeParse(req.params.accountId);
    if (!user.success) return sendError(res, 'bad_request', 'accountId: not a valid account id');
    const id = sessionId.safeParse(req.params.id);
    if (!id.success) return sendError(res, 'bad_request', 'id: not a session id');
    const { clientKey, actor } = adminOf(res);
    const ended = await sessions.endSession(clientKey, user.data, id.data, actor);
    if (!ended.ok) return sendError(res, ended.code);
    const revocation = ended.value;
    if (revocation === null) return sendError(res, 'not_found', 'That user has no live session with that id on this site.');
    sendConfirmation(res, revocation.confirmation);
    res.status(204).end();
  }));

  router.delete('/api/admin/sessions', handle('reset site', async (_req, res) => {
    const { clientKey, actor } = adminOf(res);
    const reset = await sessions.resetTenant(clientKey, actor);
    if (!reset.ok) return sendError(res, reset.code);
    const revocation = reset.value;
    sendConfirmation(res, revocation.confirmation);
    res.json({ revoked: revocation.count, confirmation: revocation.confirmation });
  }));

  router.get('/api/admin/policy', handle('read policy', async (_req, res) => {
    const read = await policies.get(adminOf(res).clientKey);
    if (!read.ok) return sendError(res, read.code);
    res.json(read.value);
  }));

  router.put('/api/admin/policy', jsonBody, handle('change policy', async (req, res) => {
    const body = policyBody.safeParse(req.body);
    const { clientKey, actor } = adminOf(res);
    const read = await policies.get(clientKey);
    if (!read.ok) return sendError(res, read.code);
    const { policy: current } = read.value;
    if (!body.success) {
      // Name every bad setting at once: those zod refuses, then those outside the policy's bounds among the rest.
      const fields = fieldProblems(body.error);
      const bounds = policyProblems({ ...current, ...wellFormedSettings(req.body) }).filter((p) => !fields.some((f) => f.field === p.field));
      return sendFieldErrors(res, problem(body.error), [...fields, ...bounds]);
    }
    const changed = await policies.set(clientKey, { ...current, ...body.data }, actor);
    if (!changed.ok) return changed.code === 'bad_request' ? sendFieldErrors(res, changed.problem, changed.problems) : sendError(res, changed.code);
    res.json({ policy: changed.value });
  }));

  router.get('/api/admin/audit', handle('read audit', async (req, res) => {
    const query = auditQuery.safeParse(req.query);
    if (!query.success) return sendError(res, 'bad_request', problem(query.error));
    const { kind, user, since, until, before } = query.data;
    const { clientKey } = adminOf(res);
    const listed = await deps.auditTrail.list(clientKey, { kind, accountId: user, since, until, before, limit: query.data.limit });
    if (!listed.ok) return sendError(res, listed.code);
    const page = listed.value;
    const labels = await deps.names(req, res, clientKey, {
      accountIds: page.records.flatMap((record) => [record.accountId, actorAccountOf(record.actor)]),
      issueIds: page.records.map((record) => issueIdOf(record.resource)),
      projectIds: page.records.map((record) => projectIdOf(record.resource)),
    });
    res.json({
      records: page.records.map((record) => ({
        id: record.id,
        at: record.at,
        kind: record.kind,
        accountId: record.accountId,
        displayName: labels.displayName(record.accountId),
        actor: record.actor,
        actorDisplayName: labels.displayName(actorAccountOf(record.actor)),
        issueKey: labels.issueKey(issueIdOf(record.resource)),
        projectKey: labels.projectKey(projectIdOf(record.resource)),
        reason: record.reason,
        resource: record.resource,
        count: record.count,
        confirmation: record.confirmation,
        detail: record.detail ?? null,
      })),
      nextBefore: page.nextBefore,
    });
  }));

  return router;
}
