/**
 * The guard: read the page token the request presents (through either front door), ask the allowlist,
 * map a denial to its answer. No policy here.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Allowlist, Call, Grant } from '../src/allowlist/allowlist';
import type { Origin } from '../src/allowlist/theft';
import { fail, type Result } from '../src/base/result';
import { sendError, sendForgeError, type ErrorCode } from './errors';
import { connectCredentials, type ForgeHolder, type PageCredentials, type Presented, type PresentedToken } from './page-credentials';

/** Returns the resource a request touches, or null when its parameters are not valid. */
export type ResourceOf = (req: Request) => string | null;

export function grantOf(res: Response): Grant {
  return res.locals.grant as Grant;
}

/** Who the Forge door vouched for on a served call (with its FIT's apiBaseUrl); null for a Connect page or an operator. */
export function forgeHolderOf(res: Response): ForgeHolder | null {
  return (res.locals.forgeHolder as ForgeHolder | undefined) ?? null;
}

/** The header a guarded answer carries a session's next page token in; the page switches to it for its next call. */
export const NEXT_TOKEN_HEADER = 'Page-Token-Next';

/** The header a key-bound page sends its DPoP proof in. */
export const PROOF_HEADER = 'dpop';

/**
 * What the core may ask of a request beyond its token, worked out only when asked. `baseUrl`: the app's public base URL;
 * `watching`: the request only watches its session (a long poll), which is not a use.
 */
export function callOf(req: Request, baseUrl: string, watching = false): Call {
  return new RequestCall(req, baseUrl, watching);
}

/** A request as the core sees it: one object on the prototype's methods, where two closures per request cost more. */
class RequestCall implements Call {
  constructor(
    private readonly req: Request,
    private readonly baseUrl: string,
    readonly watching: boolean,
  ) {}

  origin(): Origin {
    return { ip: this.req.ip ?? null, userAgent: this.req.get('user-agent') ?? null };
  }

  // The URL the page called, as it signed it: the app's public base URL and the path, without the query (RFC 9449 htu).
  proof(): ReturnType<Call['proof']> {
    const { req } = this;
    return { proof: req.get(PROOF_HEADER) ?? null, method: req.method, url: `${this.baseUrl}${req.originalUrl.split('?')[0]}` };
  }
}

export interface Guard {
  /**
   * Serves the request only to a live page token covering the resource `resourceOf` names. With `watching`, the request
   * only watches its session: judged the same, but not a use (see Call.watching).
   */
  page(resourceOf: ResourceOf, options?: { watching: boolean }): RequestHandler;
  /** The decision behind `page`, for callers that answer some refusals themselves (the admin API); they hand on `next` with `offerNext`. */
  decide(presented: Presented, resource: string, req?: Request): Promise<Result<Grant, ErrorCode>>;
  offerNext(res: Response, grant: Grant): void;
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

/** Hands the page its session's next token, when the core offered one. */
function offerNext(res: Response, grant: Grant): void {
  if (grant.next !== null) res.set(NEXT_TOKEN_HEADER, grant.next);
}

export function createGuard(allowlist: Allowlist, credentials: PageCredentials, baseUrl: string): Guard {
  function decide(presented: Presented, resource: string, req?: Request): Promise<Result<Grant, ErrorCode>> {
    if (!presented.ok) return Promise.resolve(presented);
    return Promise.resolve(allowlist.check(presented.value.token, resource, req && callOf(req, baseUrl))).then((result) => agreed(presented.value, result));
  }

  /** Serves the request to a token that checks out, or refuses it: at once when the core answers at once (a cache hit). */
  function pass(req: Request, res: Response, next: NextFunction, presented: Presented, resource: string, watching: boolean): void | Promise<void> {
    if (!presented.ok) return refuse(res, presented, presented.code);
    const checked = allowlist.check(presented.value.token, resource, callOf(req, baseUrl, watching));
    if (checked instanceof Promise) return checked.then((result) => grant(res, next, presented, result), next);
    grant(res, next, presented, checked);
  }

  /** The core's answer held to what the door vouched for: handed on to the route, or refused in the door's terms. */
  function grant(res: Response, next: NextFunction, presented: Presented & { ok: true }, result: Result<Grant>): void {
    const judged = agreed(presented.value, result);
    if (!judged.ok) return refuse(res, presented, judged.code);
    offerNext(res, judged.value);
    res.locals.grant = judged.value;
    res.locals.forgeHolder = presented.value.holder;
    next();
  }

  return {
    credentials,
    decide,
    refuse,
    offerNext,
    page(resourceOf, options) {
      const watching = options?.watching ?? false;
      return (req: Request, res: Response, next: NextFunction) => {
        // Answers behind the guard belong to one user at one moment; no cache may keep them.
        res.setHeader('Cache-Control', 'no-store');
        const resource = resourceOf(req);
        if (resource === null) return sendError(res, 'bad_request', 'The URL does not name a valid resource.');
        const presented = credentials(req);
        // Connect's token is read at once; the Forge door verifies its FIT first.
        if (presented instanceof Promise) presented.then((read) => pass(req, res, next, read, resource, watching)).catch(next);
        else pass(req, res, next, presented, resource, watching);
      };
    },
  };
}

/** The guard for the Connect door alone (a bearer page token), for code that serves no Forge page. */
export function requirePageToken(allowlist: Allowlist, resourceOf: ResourceOf, baseUrl: string): RequestHandler {
  return createGuard(allowlist, connectCredentials, baseUrl).page(resourceOf);
}
