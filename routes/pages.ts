/**
 * Pages of the app's own (not issue panels): the admin page, minted only for users the host
 * confirms as site admins, and each user's "my sessions" page.
 */
import { Router, type Request, type Response } from 'express';
import type { Allowlist, MintedToken } from '../src/allowlist/allowlist';
import { ADMIN_RESOURCE, SELF_RESOURCE, type ResourceRef } from '../src/allowlist/resource';
import type { Result } from '../src/allowlist/result';
import { connectContext, connectIssuedAt, type AddOn } from '../src/connect/addon';
import type { SiteAdmins } from '../src/connect/site-admins';
import type { Logger } from '../src/logger';
import type { Views } from '../views/views';
import { messageOf, statusOf } from './errors';
import { framedBy } from './panels';

export interface PageDeps {
  addon: AddOn;
  allowlist: Allowlist;
  siteAdmins: SiteAdmins;
  views: Views;
  log: Logger;
}

export function pageRoutes(deps: PageDeps): Router {
  const { addon, allowlist, views } = deps;
  const router = Router();

  const refuse = (res: Response, status: number, title: string, message: string) => {
    res.status(status).type('html').send(views.denied({ title, message }));
  };

  /** Mints a page token for the signed-in user and `target`, or answers the denial page itself (then null). */
  async function mintFor(req: Request, res: Response, target: ResourceRef): Promise<{ token: string; accountId: string } | null> {
    const context = connectContext(req);
    const accountId = context.userAccountId;
    const issuedAt = connectIssuedAt(req);
    if (accountId === undefined || issuedAt === null) {
      refuse(res, 400, 'Bad request', 'This page needs a signed-in user.');
      return null;
    }
    const minted: Result<MintedToken> = await allowlist.mint({
      clientKey: context.clientKey,
      accountId,
      target,
      connectIssuedAt: issuedAt,
      ip: req.ip ?? null,
      userAgent: req.get('user-agent') ?? null,
    });
    if (!minted.ok) {
      const revoked = minted.code === 'forbidden';
      refuse(res, statusOf(minted.code), revoked ? 'Access revoked' : 'Unavailable', messageOf(revoked ? 'token_revoked' : minted.code));
      return null;
    }
    return { token: minted.value.token, accountId };
  }

  router.get('/pages/admin', addon.authenticate(), async (req, res, next) => {
    const context = connectContext(req);
    framedBy(res, context.hostBaseUrl);
    try {
      const accountId = context.userAccountId;
      if (accountId === undefined) return refuse(res, 400, 'Bad request', 'This page needs a signed-in user.');
      // The host's iframe alone proves nothing: a Connect JWT for this URL can be had by any user. Ask the host.
      let admin: boolean;
      try {
        admin = await deps.siteAdmins.isSiteAdmin(context.clientKey, accountId);
      } catch (error) {
        deps.log.warn({ err: error, clientKey: context.clientKey }, 'could not ask the host who is a site admin');
        return refuse(res, 503, 'Unavailable', 'Jira could not confirm that you are a site admin; try again shortly.');
      }
      if (!admin) return refuse(res, 403, 'Site admins only', 'Only site admins can manage PanelGuard sessions.');
      const minted = await mintFor(req, res, ADMIN_RESOURCE);
      if (minted !== null) res.type('html').send(views.admin({ pageToken: minted.token, accountId: minted.accountId }));
    } catch (error) {
      next(error);
    }
  });

  router.get('/pages/my-sessions', addon.authenticate(), async (req, res, next) => {
    framedBy(res, connectContext(req).hostBaseUrl);
    try {
      const minted = await mintFor(req, res, SELF_RESOURCE);
      if (minted !== null) res.type('html').send(views.mySessions({ pageToken: minted.token }));
    } catch (error) {
      next(error);
    }
  });

  return router;
}
