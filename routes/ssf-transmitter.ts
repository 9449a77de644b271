/**
 * PanelGuard as an SSF transmitter over HTTP: its configuration metadata and JWKS for receivers, and the admin API
 * through which each site's admins (or its operator) set the receivers its revocations are pushed to.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Logger } from '../src/observability/logger';
import type { OperatorTokens } from '../src/tokens/operator-tokens';
import { jwks, transmitterMetadata } from '../src/signals/ssf-transmitter/metadata';
import type { QueuedSet, Receiver } from '../src/signals/ssf-transmitter/outbox';
import { endpointProblem, maskAuthorization, type ReceiverAdmin } from '../src/signals/ssf-transmitter/receivers';
import { jtiOf } from '../src/signals/ssf-transmitter/set';
import type { SigningKey } from '../src/signals/ssf-transmitter/signing-key';
import { adminOf, requireAdmin } from './admin-auth';
import { jsonBody } from './body';
import { sendError } from './errors';
import { storeWork } from './store-work';
import type { Guard } from './guard';

export interface TransmitterRouteDeps {
  /** The transmitter's issuer: the app's public base URL. */
  issuer: string;
  signingKey: () => Promise<SigningKey>;
  receivers: ReceiverAdmin;
  guard: Guard;
  operators: OperatorTokens;
  /** Production takes https endpoints only, and none at a local or private address. */
  production: boolean;
  log: Logger;
}

/** Receivers may cache the metadata and keys for a few minutes; a new key is found by its kid on the next fetch. */
const PUBLIC_CACHE = 'public, max-age=300';

// Printable ASCII only: the value goes into a header as it is, so a line break would be a header of its own.
const headerValue = z.string().min(1).max(4096).regex(/^[\x20-\x7e]+$/, 'must be printable ASCII on one line').refine((value) => value.trim() === value, 'must not start or end with a space');

const receiverBody = z
  .object({
    endpointUrl: z.string().max(2048).url(),
    audience: z.string().min(1).max(512).regex(/^[^\x00-\x1f\x7f]+$/, 'must be text on one line'),
    authorization: headerValue.nullable().optional(),
  })
  .strict();

const outboxQuery = z.object({
  state: z.enum(['pending', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const receiverId = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/);

function problem(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue === undefined ? 'The request is not valid.' : `${issue.path.join('.') || 'body'}: ${issue.message}`;
}

/** A receiver as admins see it: its authorization reduced to the scheme. */
function receiverJson(receiver: Receiver) {
  return {
    id: receiver.id,
    endpointUrl: receiver.endpointUrl,
    audience: receiver.audience,
    authorization: maskAuthorization(receiver.authorization),
    createdAt: receiver.createdAt,
    updatedAt: receiver.updatedAt,
  };
}

function setJson(set: QueuedSet) {
  return {
    jti: jtiOf(set),
    txn: set.noticeId,
    receiverId: set.receiverId,
    accountId: set.accountId,
    session: set.session,
    actor: set.actor,
    reason: set.reason,
    eventAt: set.eventAt,
    state: set.state,
    attempts: set.attempts,
    nextAttemptAt: set.state === 'pending' ? set.nextAttemptAt : null,
    lastAttemptAt: set.lastAttemptAt,
    lastError: set.lastError,
  };
}

export function transmitterRoutes(deps: TransmitterRouteDeps): Router {
  const { receivers, log } = deps;
  const router = Router();

  router.get('/.well-known/ssf-configuration', (_req, res) => {
    res.set('Cache-Control', PUBLIC_CACHE).json(transmitterMetadata(deps.issuer));
  });

  router.get('/.well-known/jwks.json', async (_req, res) => {
    try {
      res.set('Cache-Control', PUBLIC_CACHE).json(jwks(await deps.signingKey()));
    } catch (error) {
      log.error({ err: error }, 'the SSF signing key could not be loaded');
      sendError(res, 'internal_error');
    }
  });

  router.use('/api/admin/ssf', requireAdmin(deps.guard, deps.operators));

  const handle = storeWork(log, 'admin');

  router.get('/api/admin/ssf/receivers', handle('list receivers', async (_req, res) => {
    const listed = await receivers.list(adminOf(res).clientKey);
    if (!listed.ok) return sendError(res, listed.code);
    res.json({ receivers: listed.value.map(receiverJson) });
  }));

  router.post('/api/admin/ssf/receivers', jsonBody, handle('put receiver', async (req, res) => {
    const body = receiverBody.safeParse(req.body);
    if (!body.success) return sendError(res, 'bad_request', problem(body.error));
    const endpoint = new URL(body.data.endpointUrl);
    const wrong = endpointProblem(endpoint, deps.production);
    if (wrong !== null) return sendError(res, 'bad_request', `endpointUrl: ${wrong}`);
    if (endpoint.href.length > 2048) return sendError(res, 'bad_request', 'endpointUrl: must be at most 2048 characters');
    const { clientKey, actor } = adminOf(res);
    // The URL as parsed, so that two spellings of one endpoint are one receiver.
    const settings = { endpointUrl: endpoint.href, audience: body.data.audience, authorization: body.data.authorization ?? null };
    const put = await receivers.put(clientKey, settings, actor);
    if (!put.ok) return sendError(res, put.code);
    res.status(put.value.created ? 201 : 200).json({ receiver: receiverJson(put.value.receiver) });
  }));

  router.delete('/api/admin/ssf/receivers/:id', handle('remove receiver', async (req, res) => {
    const id = receiverId.safeParse(req.params.id);
    if (!id.success) return sendError(res, 'not_found', 'This site has no receiver by that id.');
    const { clientKey, actor } = adminOf(res);
    const removed = await receivers.remove(clientKey, id.data, actor);
    if (!removed.ok) return sendError(res, removed.code);
    if (!removed.value) return sendError(res, 'not_found', 'This site has no receiver by that id.');
    res.status(204).end();
  }));

  router.get('/api/admin/ssf/outbox', handle('read outbox', async (req, res) => {
    const query = outboxQuery.safeParse(req.query);
    if (!query.success) return sendError(res, 'bad_request', problem(query.error));
    const outbox = await receivers.outbox(adminOf(res).clientKey, query.data);
    if (!outbox.ok) return sendError(res, outbox.code);
    res.json({ counts: outbox.value.counts, sets: outbox.value.sets.map(setJson) });
  }));

  return router;
}
