/** A route of your own behind PanelGuard's guard: GET /api/issues/:issueId/votes, for a page token of that issue. */
import { Router, type Request } from 'express';
import { grantOf } from '../routes/guard';
import { issueResource, JIRA_ID } from '../src/allowlist/resource';
import { startApp, type AppOverrides } from '../src/app/app';
import { loadConfig } from '../src/app/config';

export const voteRoutes: NonNullable<AppOverrides['routes']> = ({ guard }) => {
  const router = Router();
  const issueOf = (req: Request) => (JIRA_ID.test(req.params.issueId) ? issueResource(req.params.issueId, null).resource : null);
  router.get('/api/issues/:issueId/votes', guard.page(issueOf), (_req, res) => {
    res.json({ user: grantOf(res).claims.sub });
  });
  return router;
};

// Run as a program (npx tsx examples/custom-routes.ts), it serves PanelGuard with the route mounted.
if (require.main === module) {
  startApp(loadConfig(), { routes: voteRoutes }).then(
    (app) => console.log(`PanelGuard with /api/issues/:issueId/votes on ${app.baseUrl}`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
