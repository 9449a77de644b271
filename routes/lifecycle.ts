/**
 * The host's lifecycle callbacks. With the signed-install migration, installed and
 * uninstalled come signed RS256 (ACE fetches the key from the install-key server);
 * enabled and disabled stay signed HS256 with the tenant's shared secret.
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { TenantLifecycle } from '../src/allowlist/tenants';
import { connectContext, type AddOn } from '../src/connect/addon';
import type { Logger } from '../src/logger';
import { sendConfirmation } from './confirmation';
import { sendError } from './errors';

const lifecyclePayload = z
  .object({
    key: z.string().min(1),
    clientKey: z.string().min(1).max(255),
    baseUrl: z.string().url(),
  })
  .passthrough();

type LifecycleEvent = 'uninstalled' | 'enabled' | 'disabled';

const installPayload = lifecyclePayload.extend({ sharedSecret: z.string().min(32) });

export function lifecycleRoutes(addon: AddOn, tenants: TenantLifecycle, log: Logger): Router {
  const router = Router();

  const wrongApp = (res: Response, key: string): boolean => {
    if (key === addon.key) return false;
    sendError(res, 'bad_request', 'The payload names another app.');
    return true;
  };

  router.post('/installed', addon.verifyInstallation(), async (req: Request, res: Response) => {
    const body = installPayload.safeParse(req.body);
    if (!body.success) return sendError(res, 'bad_request', 'Not an install payload.');
    if (wrongApp(res, body.data.key)) return;
    try {
      await addon.settings.saveInstallation(req.body, body.data.clientKey);
      const revocation = await tenants.installed(body.data.clientKey, body.data.baseUrl);
      log.info({ clientKey: body.data.clientKey, baseUrl: body.data.baseUrl }, 'tenant installed');
      sendConfirmation(res, revocation?.confirmation ?? null);
      res.status(204).end();
    } catch (error) {
      log.error({ err: error }, 'install failed');
      sendError(res, 'store_unavailable');
    }
  });

  function on(event: LifecycleEvent, authenticate: RequestHandler): void {
    router.post(`/${event}`, authenticate, async (req: Request, res: Response) => {
      const body = lifecyclePayload.safeParse(req.body);
      if (!body.success) return sendError(res, 'bad_request', `Not an ${event} payload.`);
      if (wrongApp(res, body.data.key)) return;
      if (body.data.clientKey !== connectContext(req).clientKey) {
        return sendError(res, 'forbidden', 'The payload names another site than the one that signed it.');
      }
      try {
        const revocation = await tenants[event](body.data.clientKey, body.data.baseUrl);
        log.info({ clientKey: body.data.clientKey, event, revoked: revocation?.count ?? 0, confirmation: revocation?.confirmation }, 'tenant lifecycle');
        sendConfirmation(res, revocation?.confirmation ?? null);
        res.status(204).end();
      } catch (error) {
        log.error({ err: error, event }, 'lifecycle failed');
        sendError(res, 'store_unavailable');
      }
    });
  }
  on('uninstalled', addon.authenticateInstall());
  on('enabled', addon.authenticate());
  on('disabled', addon.authenticate());

  return router;
}
