/**
 * Webhooks the descriptor declares. ACE checks each one's Connect JWT and qsh; the
 * answer is sent only once the revocation is durable and every live node has confirmed
 * it dropped the revoked tokens (or the confirmation bound passed: the header says which).
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { issueResource, JIRA_ID, projectResource } from '../src/allowlist/resource';
import type { RemovalOutcome, Removals } from '../src/allowlist/removals';
import type { Replays } from '../src/allowlist/replays';
import type { AddOn } from '../src/connect/addon';
import type { Logger } from '../src/observability/logger';
import type { Settled } from '../src/base/result';
import { jsonBody } from './body';
import { sendConfirmation } from './confirmation';
import { connectAuthenticated, connectOf } from './connect-auth';
import { sendError } from './errors';
import { storeWork } from './store-work';

const timestamp = z.number().int().nonnegative();
const accountId = z.string().min(1).max(128);

const userEvent = z.object({
  timestamp,
  user: z.object({ accountId, active: z.boolean().optional() }).passthrough(),
});
const issueDeleted = z.object({
  timestamp,
  issue: z.object({ id: z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(JIRA_ID)) }).passthrough(),
});
const projectDeleted = z.object({
  timestamp,
  project: z.object({ id: z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(JIRA_ID)) }).passthrough(),
});

const NOT_APPLIED: RemovalOutcome = { applied: false, revoked: 0, confirmation: null };

/** Jira's id of one webhook event, the same on every retry of it. */
const DELIVERY_HEADER = 'x-atlassian-webhook-identifier';
const deliveryId = z.string().regex(/^[\x21-\x7e]{1,128}$/);

/** What an event did, or why it could not be applied; null when it asks for nothing. */
type Handler<T> = (clientKey: string, event: T) => Promise<Settled<RemovalOutcome> | null>;

export interface WebhookDeps {
  addon: AddOn;
  removals: Removals;
  replays: Replays;
  log: Logger;
}

export function webhookRoutes({ addon, removals, replays, log }: WebhookDeps): Router {
  const router = Router();
  // The host retries a webhook that did not get its 2xx (a failed result answers 503); until then the store,
  // not this answer, is the truth. The net only catches bugs.
  const handle = storeWork(log, 'webhook');

  function on<S extends z.ZodTypeAny>(path: string, event: string, schema: S, apply: Handler<z.infer<S>>): void {
    router.post(path, jsonBody, ...connectAuthenticated(addon.authenticate()), handle(event, async (req: Request, res: Response) => {
      const parsed = schema.safeParse(req.body);
      if (!parsed.success) return sendError(res, 'bad_request', `Not a ${event} payload: ${parsed.error.issues[0]?.path.join('.')} is missing or invalid.`);
      const header = req.get(DELIVERY_HEADER);
      const delivery = header === undefined ? null : deliveryId.safeParse(header);
      if (delivery?.success === false) return sendError(res, 'bad_request', `${DELIVERY_HEADER} is not a valid event id.`);
      const eventId = delivery?.data ?? null;
      const { clientKey } = connectOf(res);
      // A retry of an event already applied changes nothing and announces nothing again.
      if (eventId !== null) {
        const seen = await replays.wasApplied(clientKey, eventId);
        if (!seen.ok) return sendError(res, seen.code);
        if (seen.value) {
          res.status(200).json({ ...NOT_APPLIED, duplicate: true });
          return;
        }
      }
      const outcome = await apply(clientKey, parsed.data);
      if (outcome?.ok === false) return sendError(res, outcome.code);
      // Recorded once applied, not before: a delivery that failed half-way must be applied by its retry.
      if (eventId !== null) {
        const recorded = await replays.applied(clientKey, eventId);
        if (!recorded.ok) return sendError(res, recorded.code);
      }
      const applied = outcome?.value ?? NOT_APPLIED;
      sendConfirmation(res, applied.confirmation);
      res.status(200).json(applied);
    }));
  }

  const cause = (event: string, reason: string) => ({ actor: `webhook:${event}`, reason });

  on('/webhooks/user-deleted', 'user_deleted', userEvent, (clientKey, e) =>
    removals.removeUser(clientKey, e.user.accountId, e.timestamp, cause('user_deleted', 'user_removed')),
  );
  on('/webhooks/user-updated', 'user_updated', userEvent, async (clientKey, e) => {
    if (e.user.active === false) {
      return removals.removeUser(clientKey, e.user.accountId, e.timestamp, cause('user_updated', 'user_deactivated'));
    }
    if (e.user.active === true) return removals.restoreUser(clientKey, e.user.accountId, e.timestamp);
    return null;
  });
  on('/webhooks/user-created', 'user_created', userEvent, (clientKey, e) =>
    removals.restoreUser(clientKey, e.user.accountId, e.timestamp),
  );
  on('/webhooks/issue-deleted', 'jira:issue_deleted', issueDeleted, (clientKey, e) =>
    removals.removeResource(clientKey, issueResource(e.issue.id, null).resource, e.timestamp, cause('jira:issue_deleted', 'issue_deleted')),
  );
  on('/webhooks/project-deleted', 'project_deleted', projectDeleted, (clientKey, e) =>
    removals.removeResource(clientKey, projectResource(e.project.id).resource, e.timestamp, cause('project_deleted', 'project_deleted')),
  );

  return router;
}
