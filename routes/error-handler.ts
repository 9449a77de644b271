/** The last stops of every request: unknown paths, body-parser failures, ACE's authentication failures, bugs. */
import type { NextFunction, Request, Response } from 'express';
import { scrubText, type Logger } from '../src/logger';
import type { Views } from '../views/views';
import { sendError, statusOf, type ErrorCode } from './errors';

/** What ACE hands to `next()` when a Connect JWT or signed install fails (with expressErrorHandling on). */
function aceFailure(error: unknown): { code: number; message: string } | null {
  if (typeof error !== 'object' || error === null) return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === 'number' && typeof message === 'string' ? { code, message } : null;
}

export function notFound(_req: Request, res: Response): void {
  sendError(res, 'not_found');
}

export function errorHandler(log: Logger, views: Views) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) return;
    const type = (error as { type?: unknown }).type;
    if (type === 'entity.parse.failed') return sendError(res, 'bad_request', 'The body is not valid JSON.');
    if (type === 'entity.too.large') return sendError(res, 'payload_too_large');
    const ace = aceFailure(error);
    if (ace !== null) {
      const message = scrubText(ace.message);
      // ACE says 400 for a bad signature and 500 when it cannot read the tenant; to a caller these are
      // "your credentials did not verify" and "try again later".
      const code: ErrorCode = ace.code >= 500 ? 'store_unavailable' : 'token_invalid';
      log.warn({ path: req.path, status: ace.code }, 'Connect authentication failed');
      if (req.path.startsWith('/panels/') || req.path.startsWith('/pages/')) {
        res.status(statusOf(code)).type('html').send(views.denied({ title: 'Not signed in', message }));
        return;
      }
      return sendError(res, code, message);
    }
    log.error({ err: error, path: req.path }, 'request failed');
    sendError(res, 'internal_error');
  };
}
