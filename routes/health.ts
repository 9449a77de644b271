/** Liveness, readiness and metrics for operators and load balancers. */
import { Router } from 'express';
import type { Registry } from 'prom-client';
import type { Store } from '../src/allowlist/types';
import type { Bus } from '../src/bus/types';

export interface HealthDeps {
  store: Pick<Store, 'ping'>;
  bus: Pick<Bus, 'isConnected' | 'liveNodes'>;
  nodeName: string;
  registry: Registry;
}

export function healthRoutes({ store, bus, nodeName, registry }: HealthDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Without the bus a node still answers correctly, from the store on every call: degraded, not unready,
  // so that a bus outage does not take every node out of the load balancer at once.
  router.get('/readyz', async (_req, res) => {
    const connected = bus.isConnected();
    const busState = { bus: connected ? 'ok' : 'down', cache: connected ? 'trusted' : 'bypassed', nodes: bus.liveNodes() };
    try {
      await store.ping();
      res.json({ status: connected ? 'ready' : 'degraded', node: nodeName, store: 'ok', ...busState });
    } catch {
      res.status(503).json({ status: 'unavailable', node: nodeName, store: 'unavailable', ...busState });
    }
  });
  router.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}
