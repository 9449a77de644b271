/** The guard: read the bearer page token, ask the allowlist, map a denial to its answer. No policy here. */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Allowlist, Grant } from '../src/allowlist/allowlist';
import { JWT_SHAPE, readBearer } from './bearer';
import { sendError } from './errors';

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
    const bearer = readBearer(req.headers.authorization);
    if (!bearer.ok) return sendError(res, bearer.code);
    if (!JWT_SHAPE.test(bearer.credential)) return sendError(res, 'token_malformed');
    allowlist.check(bearer.credential, resource).then((result) => {
      if (!result.ok) return sendError(res, result.code);
      res.locals.grant = result.value;
      next();
    }, next);
  };
}
