/**
 * Route handlers whose work goes through the store: a failure that reaches here is answered `503 store_unavailable`,
 * the same way on every route, with its detail kept in the log and nothing internal in the answer. Every core verb
 * answers its store failures as a Result, which the route answers itself; this is the net for what is not the
 * core's (ACE's settings, the Forge installations) and for bugs (docs/ARCHITECTURE.md, "How failures travel").
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../src/observability/logger';
import { sendError } from './errors';

export type StoreWork = (req: Request, res: Response) => Promise<void>;

/** Makes `handle(what, work)` for one router; `area` names it in the log. */
export function storeWork(log: Logger, area: string): (what: string, work: StoreWork) => RequestHandler {
  return (what, work) => async (req, res) => {
    try {
      await work(req, res);
    } catch (error) {
      log.error({ err: error, what }, `${area} request failed`);
      sendError(res, 'store_unavailable');
    }
  };
}
