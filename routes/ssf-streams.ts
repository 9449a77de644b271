/** The admin API's Shared Signals streams: which transmitters the site takes Security Event Tokens from. */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { INSTALLATION_ID } from '../src/forge/installations';
import type { Logger } from '../src/observability/logger';
import type { OperatorTokens } from '../src/tokens/operator-tokens';
import { PUSH_DELIVERY } from '../src/signals/ssf-receiver/transmitters';
import { MAX_AUDIENCE_LENGTH, MAX_ISSUER_LENGTH, type SsfStream, type StreamAdmin } from '../src/signals/ssf-receiver/streams';
import { SUBJECT_MAPPINGS, type SubjectMapping } from '../src/signals/ssf-receiver/subjects';
import { adminOf, requireAdmin } from './admin-auth';
import { jsonBody } from './body';
import { sendError } from './errors';
import { storeWork } from './store-work';
import type { Guard } from './guard';

export interface SsfStreamDeps {
  guard: Guard;
  operators: OperatorTokens;
  streams: StreamAdmin;
  /** The app's public base URL: where transmitters push (`/ssf/events`). */
  baseUrl: string;
  log: Logger;
}

const streamBody = z
  .object({
    issuer: z.string().min(1).max(MAX_ISSUER_LENGTH),
    audience: z.string().min(1).max(MAX_AUDIENCE_LENGTH).regex(/^[\x21-\x7e]+$/, 'must be printable characters without spaces').optional(),
    subjects: z.enum(SUBJECT_MAPPINGS as [SubjectMapping, ...SubjectMapping[]]),
  })
  .strict();
const streamId = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/);

function problem(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue === undefined ? 'The request is not valid.' : `${issue.path.join('.') || 'body'}: ${issue.message}`;
}

export function ssfStreamRoutes(deps: SsfStreamDeps): Router {
  const { streams, log } = deps;
  const router = Router();
  router.use('/api/admin/ssf/streams', requireAdmin(deps.guard, deps.operators));

  // What to tell the transmitter: where to push, and how (SSF 1.0 6.1.1).
  const streamJson = (stream: SsfStream) => ({
    id: stream.id,
    issuer: stream.issuer,
    audience: stream.audience,
    subjects: stream.subjects,
    createdAt: stream.createdAt,
    verifiedAt: stream.verifiedAt,
    delivery: { method: PUSH_DELIVERY, endpoint_url: `${deps.baseUrl}/ssf/events` },
  });

  const handle = storeWork(log, 'admin');

  router.get('/api/admin/ssf/streams', handle('list streams', async (_req, res) => {
    const listed = await streams.list(adminOf(res).clientKey);
    if (!listed.ok) return sendError(res, listed.code);
    res.json({ streams: listed.value.map(streamJson) });
  }));

  router.post('/api/admin/ssf/streams', jsonBody, handle('add stream', async (req, res) => {
    const body = streamBody.safeParse(req.body);
    if (!body.success) return sendError(res, 'bad_request', problem(body.error));
    const { clientKey, actor } = adminOf(res);
    // Emails are looked up through the Connect install (ACE's client); a site installed through Forge alone has none.
    if (body.data.subjects === 'email' && INSTALLATION_ID.test(clientKey)) {
      return sendError(res, 'bad_request', 'subjects: email needs the Connect install to ask Jira who has an email; use account_id on a Forge-only site.');
    }
    const created = await streams.create(clientKey, body.data, actor);
    if (!created.ok) {
      if (created.code === 'store_unavailable') return sendError(res, created.code);
      return sendError(res, created.code === 'exists' ? 'conflict' : 'bad_request', created.problem);
    }
    res.status(201).json({ stream: streamJson(created.value) });
  }));

  router.delete('/api/admin/ssf/streams/:id', handle('delete stream', async (req, res) => {
    const id = streamId.safeParse(req.params.id);
    const { clientKey, actor } = adminOf(res);
    if (!id.success) return sendError(res, 'not_found', 'This site has no stream with that id.');
    const removed = await streams.remove(clientKey, id.data, actor);
    if (!removed.ok) return sendError(res, removed.code);
    if (!removed.value) return sendError(res, 'not_found', 'This site has no stream with that id.');
    res.status(204).end();
  }));

  return router;
}
