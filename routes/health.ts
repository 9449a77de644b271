/** Liveness and readiness for operators and load balancers. */
import { Router } from 'express';
import type { Store } from '../src/allowlist/types';

export function healthRoutes(store: Pick<Store, 'ping'>): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    try {
      await store.ping();
      res.json({ status: 'ready', store: 'ok', bus: 'ok' });
    } catch {
      res.status(503).json({ status: 'unavailable', store: 'unavailable', bus: 'ok' });
    }
  });
  return router;
}
