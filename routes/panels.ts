/** Pages the host renders in iframes: each load is a Connect JWT in, a fresh page token out. */
import { Router } from 'express';
import { z } from 'zod';
import { issueResource, JIRA_ID } from '../src/allowlist/resource';
import type { AddOn } from '../src/connect/addon';
import type { Views } from '../views/views';
import { connectAuthenticated, connectOf } from './connect-auth';
import { framedBy, refusePage, type PageMinter } from './page-mint';

const issuePanelQuery = z.object({
  issueId: z.string().regex(JIRA_ID),
  issueKey: z.string().regex(/^[A-Z][A-Z0-9_]{0,254}-[0-9]{1,18}$/),
  projectId: z.string().regex(JIRA_ID),
});

export function panelRoutes(addon: AddOn, mintPage: PageMinter, views: Views): Router {
  const router = Router();

  router.get('/panels/issue-notes', ...connectAuthenticated(addon.authenticate()), async (req, res, next) => {
    const allJs = framedBy(res, connectOf(res).hostBaseUrl);
    const query = issuePanelQuery.safeParse(req.query);
    if (!query.success) return refusePage(res, views, 400, 'Bad request', 'The panel needs an issue and a signed-in user.');
    try {
      const minted = await mintPage(req, res, issueResource(query.data.issueId, query.data.projectId));
      if (minted !== null) {
        res.type('html').send(views.issueNotes({ pageToken: minted.token, issueId: query.data.issueId, issueKey: query.data.issueKey, allJs }));
      }
    } catch (error) {
      next(error);
    }
  });

  return router;
}
