/**
 * The guard: read the page token the request presents (through either front door), ask the allowlist,
 * map a denial to its answer. No policy here.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Allowlist, Grant } from '../src/allowlist/allowlist';
import { fail, type Result } from '../src/allowlist/result';
import { sendError, sendForgeError, type ErrorCode } from './errors';
import { connectCredentials, type PageCredentials, type Presented, type PresentedToken } from './page-credentials';

/** Returns the resource a request touches, or null when its parameters are not valid. */
export type ResourceOf = (req: Request) => string | null;

export function grantOf(res: Response): Grant {
  return res.locals.grant as Grant;
}

export interface Guard {
  /** Serves the request only to a live page token covering the resource `resourceOf` names. */
  page(resourceOf: ResourceOf): RequestHandler;
  /** The decision behind `page`, for callers that answer some refusals themselves (the admin API). */
  decide(presented: Presented, resource: string): Promise<Result<Grant, ErrorCode>>;
  /** Answers a refusal in the door's own terms (see sendForgeError). */
  refuse(res: Response, presented: Presented, code: ErrorCode, message?: string): void;
  credentials: PageCredentials;
}

/** A Forge call whose FIT verified (its failures after that are not the FIT's: Forge must pass them to the page). */
function pastTheFit(presented: Presented): boolean {
  return presented.ok && presented.value.holder !== null;
}

function refuse(res: Response, presented: Presented, code: ErrorCode, message?: string): void {
  if (pastTheFit(presented)) return sendForgeError(res, code, message);
  sendError(res, code, message);
}

/** What the core granted, held to what the door vouched for. */
function agreed(presented: PresentedToken, result: Result<Grant>): Result<Grant, ErrorCode> {
  if (!result.ok) return result;
  const { claims } = result.value;
  const { holder } = presented;
  // Each door takes only its own tokens: one minted to be shown beside a FIT is useless alone, and the reverse.
  if ((claims.cnf?.fit === 'principal') !== (holder !== null)) return fail('token_invalid');
  // The Forge door vouched for a user on a tenant: a page token of anyone else is someone else's, stolen or mixed up.
  if (holder !== null && (claims.sub !== holder.accountId || claims.aud !== holder.clientKey)) return fail('token_invalid');
  return result;
}

export function createGuard(allowlist: Allowlist, credentials: PageCredentials): Guard {
  function decide(presented: Presented, resource: string): Promise<Result<Grant, ErrorCode>> {
    if (!presented.ok) return Promise.resolve(presented);
    return allowlist.check(presented.value.token, resource).then((result) => agreed(presented.value, result));
  }

  return {
    credentials,
    decide,
    refuse,
    page(resourceOf) {
      return (req: Request, res: Response, next: NextFunction) => {
        // Answers behind the guard belong to one user at one moment; no cache may keep them.
        res.set('Cache-Control', 'no-store');
        const resource = resourceOf(req);
        if (resource === null) return sendError(res, 'bad_request', 'The URL does not name a valid resource.');
        // One step after the core's answer, as the hot path had before there were two doors.
        const answer = (presented: Presented): Promise<void> | void => {
          if (!presented.ok) return refuse(res, presented, presented.code);
          return allowlist.check(presented.value.token, resource).then((result) => {
            const judged = agreed(presented.value, result);
            if (!judged.ok) return refuse(res, presented, judged.code);
            res.locals.grant = judged.value;
            next();
          }, next);
        };
        const presented = credentials(req);
        if (presented instanceof Promise) presented.then(answer).catch(next);
        else answer(presented);
      };
    },
  };
}

/** The guard for the Connect door alone (a bearer page token), for code that serves no Forge page. */
export function requirePageToken(allowlist: Allowlist, resourceOf: ResourceOf): RequestHandler {
  return createGuard(allowlist, connectCredentials).page(resourceOf);
}
