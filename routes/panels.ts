/** Pages the host renders in iframes: each load is a Connect JWT in, a fresh page token out. */
import { Router, type Response } from 'express';
import { z } from 'zod';
import type { Allowlist } from '../src/allowlist/allowlist';
import { issueResource, JIRA_ID } from '../src/allowlist/resource';
import { connectContext, connectIssuedAt, type AddOn } from '../src/connect/addon';
import type { Views } from '../views/views';
import { messageOf, statusOf } from './errors';

const issuePanelQuery = z.object({
  issueId: z.string().regex(JIRA_ID),
  issueKey: z.string().regex(/^[A-Z][A-Z0-9_]{0,254}-[0-9]{1,18}$/),
  projectId: z.string().regex(JIRA_ID),
});

/** Only the tenant's own site may frame the page; nothing it loads may leak its URL (which holds the Connect JWT). */
export function framedBy(res: Response, hostBaseUrl: string | undefined): void {
  const ancestor = hostBaseUrl === undefined ? "'none'" : new URL(hostBaseUrl).origin;
  res.set({
    'Content-Security-Policy': `default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors ${ancestor}`,
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  });
}

export function panelRoutes(addon: AddOn, allowlist: Allowlist, views: Views): Router {
  const router = Router();

  router.get('/panels/issue-notes', addon.authenticate(), async (req, res, next) => {
    const context = connectContext(req);
    framedBy(res, context.hostBaseUrl);
    const query = issuePanelQuery.safeParse(req.query);
    const accountId = context.userAccountId;
    const issuedAt = connectIssuedAt(req);
    if (!query.success || accountId === undefined || issuedAt === null) {
      res.status(400).type('html').send(views.denied({ title: 'Bad request', message: 'The panel needs an issue and a signed-in user.' }));
      return;
    }
    try {
      const minted = await allowlist.mint({
        clientKey: context.clientKey,
        accountId,
        target: issueResource(query.data.issueId, query.data.projectId),
        connectIssuedAt: issuedAt,
        ip: req.ip ?? null,
        userAgent: req.get('user-agent') ?? null,
      });
      if (!minted.ok) {
        // A removed user or deleted resource: the page says so in the words the panel script uses.
        const revoked = minted.code === 'forbidden';
        const page = revoked
          ? { title: 'Access revoked', message: messageOf('token_revoked') }
          : { title: 'Unavailable', message: messageOf(minted.code) };
        res.status(statusOf(minted.code)).type('html').send(views.denied(page));
        return;
      }
      res.type('html').send(
        views.issueNotes({ pageToken: minted.value.token, issueId: query.data.issueId, issueKey: query.data.issueKey }),
      );
    } catch (error) {
      next(error);
    }
  });

  return router;
}
