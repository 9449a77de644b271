/** Liveness, readiness and metrics for operators and load balancers. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import type { Bus } from '../src/bus/types';
import { readBearer } from './bearer';
import { sendError } from './errors';

/** What readiness asks of the store. */
export interface StoreHealth {
  /** Cheap round trip proving the store answers. */
  ping(): Promise<void>;
}

export interface HealthDeps {
  store: StoreHealth;
  bus: Pick<Bus, 'isConnected' | 'liveNodes'>;
  nodeName: string;
  registry: Registry;
  /** When set, /metrics answers only `Authorization: Bearer <metricsToken>`. */
  metricsToken: string | null;
}

export function healthRoutes({ store, bus, nodeName, registry, metricsToken }: HealthDeps): Router {
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
  router.get('/metrics', metricsAccess(metricsToken), async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Without a token, /metrics is open (deploy it behind the network); with one, a scraper must present it. */
function metricsAccess(token: string | null): RequestHandler {
  if (token === null) return (_req, _res, next) => next();
  const expected = digest(token);
  return (req, res, next) => {
    res.set('Cache-Control', 'no-store');
    const bearer = readBearer(req.headers.authorization);
    if (!bearer.ok) return sendError(res, bearer.code, 'Metrics need Authorization: Bearer <METRICS_TOKEN>.');
    // Equal-length digests, compared in constant time.
    if (!timingSafeEqual(digest(bearer.credential), expected)) return sendError(res, 'token_invalid', 'That is not the metrics token.');
    next();
  };
}
