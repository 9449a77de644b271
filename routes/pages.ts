/**
 * Pages of the app's own (not issue panels): the admin page, minted only for users the host
 * confirms as site admins, and each user's "my sessions" page.
 */
import { Router } from 'express';
import { ADMIN_RESOURCE, SELF_RESOURCE } from '../src/allowlist/resource';
import type { AddOn } from '../src/connect/addon';
import type { SiteAdmins } from '../src/connect/site-admins';
import type { Logger } from '../src/observability/logger';
import type { Views } from '../views/views';
import { connectAuthenticated, connectOf } from './connect-auth';
import { framedBy, refusePage, type PageMinter } from './page-mint';

export interface PageDeps {
  addon: AddOn;
  mintPage: PageMinter;
  siteAdmins: SiteAdmins;
  views: Views;
  log: Logger;
}

export function pageRoutes(deps: PageDeps): Router {
  const { addon, mintPage, views } = deps;
  const router = Router();
  const authenticated = connectAuthenticated(addon.authenticate());

  router.get('/pages/admin', ...authenticated, async (req, res, next) => {
    const connect = connectOf(res);
    const allJs = framedBy(res, connect.hostBaseUrl);
    try {
      const accountId = connect.accountId;
      if (accountId === undefined) return refusePage(res, views, 400, 'Bad request', 'This page needs a signed-in user.');
      // The host's iframe alone proves nothing: a Connect JWT for this URL can be had by any user. Ask the host.
      let admin: boolean;
      try {
        admin = await deps.siteAdmins.isSiteAdmin(connect.clientKey, accountId);
      } catch (error) {
        deps.log.warn({ err: error, clientKey: connect.clientKey }, 'could not ask the host who is a site admin');
        return refusePage(res, views, 503, 'Unavailable', 'Jira could not confirm that you are a site admin; try again shortly.');
      }
      if (!admin) return refusePage(res, views, 403, 'Site admins only', 'Only site admins can manage PanelGuard sessions.');
      const minted = await mintPage(req, res, ADMIN_RESOURCE);
      if (minted !== null) res.type('html').send(views.admin({ pageToken: minted.token, accountId: minted.accountId, allJs }));
    } catch (error) {
      next(error);
    }
  });

  router.get('/pages/my-sessions', ...authenticated, async (req, res, next) => {
    const allJs = framedBy(res, connectOf(res).hostBaseUrl);
    try {
      const minted = await mintPage(req, res, SELF_RESOURCE);
      if (minted !== null) res.type('html').send(views.mySessions({ pageToken: minted.token, allJs }));
    } catch (error) {
      next(error);
    }
  });

  return router;
}
