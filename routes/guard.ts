/** The guard: read the bearer page token, ask the allowlist, map a denial to its answer. No policy here. */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Allowlist, Grant } from '../src/allowlist/allowlist';
import { sendError } from './errors';

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/;
const MAX_TOKEN_LENGTH = 4096;

/** Returns the resource a request touches, or null when its parameters are not valid. */
export type ResourceOf = (req: Request) => string | null;

export function grantOf(res: Response): Grant {
  return res.locals.grant as Grant;
}

export function requirePageToken(allowlist: Allowlist, resourceOf: ResourceOf): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    // Answers behind the guard belong to one user at one moment; no cache may keep them.
    res.set('Cache-Control', 'no-store');
    const resource = resourceOf(req);
    if (resource === null) return sendError(res, 'bad_request', 'The URL does not name a valid resource.');
    const header = req.headers.authorization;
    if (header === undefined || header.length === 0) return sendError(res, 'token_missing');
    const match = header.length <= MAX_TOKEN_LENGTH ? BEARER.exec(header) : null;
    if (match === null) return sendError(res, 'token_malformed');
    allowlist.check(match[1], resource).then((result) => {
      if (!result.ok) return sendError(res, result.code);
      res.locals.grant = result.value;
      next();
    }, next);
  };
}
