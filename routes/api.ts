/** The panel's API: notes on one issue, behind the guard. */
import { Router } from 'express';
import { z } from 'zod';
import { issueResource, JIRA_ID } from '../src/allowlist/resource';
import { NOTE_MAX_LENGTH, type Notes } from '../src/notes/notes';
import type { Logger } from '../src/observability/logger';
import { jsonBody } from './body';
import { sendError } from './errors';
import { grantOf, type Guard } from './guard';
import type { PageNames } from './names';
import { storeWork } from './store-work';

const newNote = z.object({ text: z.string().trim().min(1).max(NOTE_MAX_LENGTH) }).strict();

export function apiRoutes(guard: Guard, notes: Notes, names: PageNames, log: Logger): Router {
  const router = Router();
  // Only the store can fail here; guarantee 4: answer 503, never a partial 200.
  const handle = storeWork(log, 'notes');
  const guardIssue = guard.page((req) =>
    JIRA_ID.test(req.params.issueId) ? issueResource(req.params.issueId, null).resource : null,
  );

  router.get('/api/issues/:issueId/notes', guardIssue, handle('list notes', async (req, res) => {
    const { claims } = grantOf(res);
    const list = await notes.list(claims.aud, req.params.issueId);
    // Each writer's display name beside their id; the id stands in where the host cannot say.
    const labels = await names(req, res, claims.aud, { accountIds: list.map((note) => note.accountId), issueIds: [], projectIds: [] });
    res.json({
      notes: list.map(({ id, accountId, text, createdAt }) => ({ id, accountId, displayName: labels.displayName(accountId), text, createdAt })),
    });
  }));

  router.post('/api/issues/:issueId/notes', guardIssue, jsonBody, handle('add note', async (req, res) => {
    const body = newNote.safeParse(req.body);
    if (!body.success) {
      return sendError(res, 'bad_request', `A note is {"text": "..."} with 1 to ${NOTE_MAX_LENGTH} characters.`);
    }
    const { claims } = grantOf(res);
    const note = await notes.add(claims.aud, req.params.issueId, claims.sub, body.data.text);
    const labels = await names(req, res, claims.aud, { accountIds: [note.accountId], issueIds: [], projectIds: [] });
    res.status(201).json({
      note: { id: note.id, accountId: note.accountId, displayName: labels.displayName(note.accountId), text: note.text, createdAt: note.createdAt },
    });
  }));

  return router;
}
