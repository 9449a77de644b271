/** The host's lifecycle callbacks, verified by ACE's signed-install (RS256) check. */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { TenantLifecycle } from '../src/allowlist/tenants';
import type { AddOn } from '../src/connect/addon';
import type { Logger } from '../src/logger';
import { sendError } from './errors';

const lifecyclePayload = z
  .object({
    key: z.string().min(1),
    clientKey: z.string().min(1).max(255),
    baseUrl: z.string().url(),
  })
  .passthrough();

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
      await tenants.installed(body.data.clientKey, body.data.baseUrl);
      log.info({ clientKey: body.data.clientKey, baseUrl: body.data.baseUrl }, 'tenant installed');
      res.status(204).end();
    } catch (error) {
      log.error({ err: error }, 'install failed');
      sendError(res, 'store_unavailable');
    }
  });

  function on(event: 'uninstalled' | 'enabled' | 'disabled'): void {
    router.post(`/${event}`, addon.authenticateInstall(), async (req: Request, res: Response) => {
      const body = lifecyclePayload.safeParse(req.body);
      if (!body.success) return sendError(res, 'bad_request', `Not an ${event} payload.`);
      if (wrongApp(res, body.data.key)) return;
      try {
        const revoked = await tenants[event](body.data.clientKey, body.data.baseUrl);
        log.info({ clientKey: body.data.clientKey, event, revoked }, 'tenant lifecycle');
        res.status(204).end();
      } catch (error) {
        log.error({ err: error, event }, 'lifecycle failed');
        sendError(res, 'store_unavailable');
      }
    });
  }
  on('uninstalled');
  on('enabled');
  on('disabled');

  return router;
}
