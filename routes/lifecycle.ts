/**
 * The host's lifecycle callbacks. With the signed-install migration, installed and
 * uninstalled come signed RS256 (ACE fetches the key from the install-key server);
 * enabled and disabled stay signed HS256 with the tenant's shared secret.
 *
 * Neither signature covers the body (the JWT's qsh hashes method and path only), so each
 * lifecycle JWT is accepted once, never one older than the last accepted for the site:
 * see docs/SECURITY.md.
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Revocation } from '../src/allowlist/allowlist';
import type { Replays } from '../src/allowlist/replays';
import type { TenantLifecycle } from '../src/allowlist/tenants';
import { INSTALLATION_ID, type Installations } from '../src/forge/installations';
import type { AddOn } from '../src/connect/addon';
import type { Logger } from '../src/observability/logger';
import type { Settled } from '../src/base/result';
import { jsonBody } from './body';
import { sendConfirmation } from './confirmation';
import { connectAuthenticated, connectOf } from './connect-auth';
import { sendError } from './errors';
import { storeWork } from './store-work';

const lifecyclePayload = z
  .object({
    key: z.string().min(1),
    clientKey: z.string().min(1).max(255),
    baseUrl: z.string().url(),
  })
  .passthrough();

type LifecycleEvent = 'uninstalled' | 'enabled' | 'disabled';

const installPayload = lifecyclePayload.extend({ sharedSecret: z.string().min(32) });

export interface LifecycleDeps {
  addon: AddOn;
  tenants: TenantLifecycle;
  replays: Replays;
  /** Where a Connect install adopted by Forge is linked to its Forge installation. */
  installations: Installations;
  log: Logger;
}

export function lifecycleRoutes({ addon, tenants, replays, installations, log }: LifecycleDeps): Router {
  const router = Router();
  // The host sends a lifecycle call again until it gets its 2xx (a failed result answers 503), and the work is
  // idempotent. The net only catches bugs.
  const handle = storeWork(log, 'lifecycle');

  const wrongApp = (res: Response, key: string): boolean => {
    if (key === addon.key) return false;
    sendError(res, 'bad_request', 'The payload names another app.');
    return true;
  };

  /** Runs the call's work once per lifecycle JWT and answers: 204 with the revocation's confirmation, or why not. */
  async function once(res: Response, event: string, work: () => Promise<Settled<Revocation | null>>): Promise<void> {
    const connect = connectOf(res);
    const outcome = await replays.acceptLifecycle({ ...connect }, work);
    if (!outcome.ok) {
      if (outcome.code !== 'store_unavailable') log.warn({ clientKey: connect.clientKey, event, code: outcome.code }, 'lifecycle call refused as a replay');
      return sendError(res, outcome.code);
    }
    log.info({ clientKey: connect.clientKey, event, revoked: outcome.value?.count ?? 0, confirmation: outcome.value?.confirmation }, `tenant ${event}`);
    sendConfirmation(res, outcome.value?.confirmation ?? null);
    res.status(204).end();
  }

  router.post('/installed', jsonBody, ...connectAuthenticated(addon.verifyInstallation()), handle('installed', async (req: Request, res: Response) => {
    const body = installPayload.safeParse(req.body);
    if (!body.success) return sendError(res, 'bad_request', 'Not an install payload.');
    if (wrongApp(res, body.data.key)) return;
    const { clientKey, baseUrl, sharedSecret } = body.data;
    await once(res, 'installed', async () => {
      const before = (await addon.settings.get('clientInfo', clientKey)) as { sharedSecret?: unknown } | null;
      await addon.settings.saveInstallation(req.body, clientKey);
      // Connect on Forge: the payload names the Forge installation this site's app now also is.
      const forgeInstallation = (req.body as { installationId?: unknown }).installationId;
      if (typeof forgeInstallation === 'string' && INSTALLATION_ID.test(forgeInstallation)) await installations.link(forgeInstallation, clientKey);
      return tenants.installed(clientKey, baseUrl, { sharedSecretChanged: before !== null && before.sharedSecret !== sharedSecret });
    });
  }));

  function on(event: LifecycleEvent, authenticate: RequestHandler): void {
    router.post(`/${event}`, jsonBody, ...connectAuthenticated(authenticate), handle(event, async (req: Request, res: Response) => {
      const body = lifecyclePayload.safeParse(req.body);
      if (!body.success) return sendError(res, 'bad_request', `Not an ${event} payload.`);
      if (wrongApp(res, body.data.key)) return;
      if (body.data.clientKey !== connectOf(res).clientKey) {
        return sendError(res, 'forbidden', 'The payload names another site than the one that signed it.');
      }
      await once(res, event, () => tenants[event](body.data.clientKey, body.data.baseUrl));
    }));
  }
  on('uninstalled', addon.authenticateInstall());
  on('enabled', addon.authenticate());
  on('disabled', addon.authenticate());

  return router;
}
