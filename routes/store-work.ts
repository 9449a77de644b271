/**
 * Route handlers whose work goes through the store: a failure there is answered `503 store_unavailable`, the same
 * way on every route, with its detail kept in the log and nothing internal in the answer.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../src/observability/logger';
import { sendError } from './errors';

export type StoreWork = (req: Request, res: Response) => Promise<void>;

/**
 * Makes `handle(what, work)` for one router; `area` names it in the log. `answered`, when given, may answer a
 * failure of its own kind first and say so (true); anything else is the store's.
 */
export function storeWork(log: Logger, area: string, answered?: (error: unknown, res: Response) => boolean): (what: string, work: StoreWork) => RequestHandler {
  return (what, work) => async (req, res) => {
    try {
      await work(req, res);
    } catch (error) {
      if (answered?.(error, res)) return;
      log.error({ err: error, what }, `${area} request failed`);
      sendError(res, 'store_unavailable');
    }
  };
}
