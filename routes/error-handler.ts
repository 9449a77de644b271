/** The last stops of every request: unknown paths, requests that cannot be read, ACE's authentication failures, bugs. */
import type { NextFunction, Request, Response } from 'express';
import { scrubText, type Logger } from '../src/observability/logger';
import type { Views } from '../views/views';
import { sendError, statusOf, type ErrorCode } from './errors';

/** What ACE hands to `next()` when a Connect JWT or signed install fails (with expressErrorHandling on). */
function aceFailure(error: unknown): { code: number; message: string } | null {
  if (typeof error !== 'object' || error === null) return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === 'number' && typeof message === 'string' ? { code, message } : null;
}

/** Why the body parser or express's router could not read a request (http-errors' `type`), as the caller is told. */
const UNREADABLE: Record<string, string> = {
  'entity.parse.failed': 'The body is not valid JSON.',
  'encoding.unsupported': "The body's Content-Encoding is not supported.",
  'charset.unsupported': "The body's charset is not supported.",
};

/**
 * A request that could not be read, as the body parser (an http-errors 4xx) or express's router (a path
 * parameter that does not percent-decode: a URIError with status 400) report it. Their own messages quote
 * the request, so the caller gets one of ours.
 */
function clientError(error: unknown): { status: number; message: string } | null {
  if (typeof error !== 'object' || error === null) return null;
  const { status, type } = error as { status?: unknown; type?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499) return null;
  if (error instanceof URIError) return { status, message: 'The URL does not decode.' };
  return { status, message: (typeof type === 'string' ? UNREADABLE[type] : undefined) ?? 'The body could not be read.' };
}

export function notFound(_req: Request, res: Response): void {
  sendError(res, 'not_found');
}

export function errorHandler(log: Logger, views: Views) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) return;
    const unreadable = clientError(error);
    if (unreadable !== null) {
      if (unreadable.status === 413) return sendError(res, 'payload_too_large');
      return sendError(res, 'bad_request', unreadable.message);
    }
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
