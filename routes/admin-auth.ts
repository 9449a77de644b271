/**
 * Who may use the admin API: an operator token (bound to one tenant by OPERATOR_TOKEN), or the admin
 * page's own page token (resource app:admin) through either front door. Any other page token is a
 * signed-in user who is not an admin: 403. Nothing valid at all: 401.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ADMIN_RESOURCE } from '../src/allowlist/resource';
import type { OperatorTokens } from '../src/tokens/operator-tokens';
import { readBearer } from './bearer';
import { sendError } from './errors';
import type { Guard } from './guard';
import { PAGE_TOKEN_HEADER } from './page-credentials';

export interface AdminCaller {
  clientKey: string;
  /** Who acts, as the audit names them: `operator` or `admin:<accountId>`. */
  actor: string;
}

export function adminOf(res: Response): AdminCaller {
  return res.locals.admin as AdminCaller;
}

export function requireAdmin(guard: Guard, operators: OperatorTokens): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    // An operator token comes alone; beside a page token (the Forge door) the bearer is a FIT.
    if (req.headers[PAGE_TOKEN_HEADER] === undefined) {
      const bearer = readBearer(req.headers.authorization);
      if (!bearer.ok) return sendError(res, bearer.code);
      const operatorTenant = operators.tenantOf(bearer.credential);
      if (operatorTenant !== null) {
        res.locals.admin = { clientKey: operatorTenant, actor: 'operator' } satisfies AdminCaller;
        return next();
      }
    }
    // Not an operator token: a page token, or nothing we issued.
    Promise.resolve(guard.credentials(req))
      .then(async (presented) => {
        const result = await guard.decide(presented, ADMIN_RESOURCE.resource, req);
        // A live token for another page is a signed-in user without the admin page: not an admin.
        if (!result.ok && result.code === 'resource_mismatch') return guard.refuse(res, presented, 'forbidden', 'Only site admins may do this.');
        if (!result.ok) return guard.refuse(res, presented, result.code === 'token_malformed' ? 'token_invalid' : result.code);
        guard.offerNext(res, result.value);
        const { claims } = result.value;
        res.locals.admin = { clientKey: claims.aud, actor: `admin:${claims.sub}` } satisfies AdminCaller;
        if (presented.ok) res.locals.forgeHolder = presented.value.holder;
        next();
      })
      .catch(next);
  };
}
