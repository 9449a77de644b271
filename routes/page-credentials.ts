/**
 * The two front doors, as a request presents its page token. Connect: `Authorization: Bearer <page token>`.
 * Forge: `Authorization: Bearer <FIT>` (Forge adds it) and `X-Page-Token: <page token>`; the FIT must verify,
 * name a user, and the page token must then belong to that user on that installation's tenant. The core
 * checks the page token the same way whichever door it came through.
 */
import type { Request } from 'express';
import { fail, ok, type Result } from '../src/base/result';
import type { FitVerifier } from '../src/forge/fit-verifier';
import type { ForgeInvocation } from '../src/forge/invocation';
import type { Installations } from '../src/forge/installations';
import { JWT_SHAPE, readBearer, readBearerJwt } from './bearer';
import type { ErrorCode } from './errors';

export const PAGE_TOKEN_HEADER = 'x-page-token';

/** Who the Forge door vouched for, and where its verified FIT says the app reaches the site's REST API. */
export interface ForgeHolder {
  clientKey: string;
  accountId: string;
  apiBaseUrl: string;
}

/** A page token as presented, and who must hold it when the door vouches for a user (Forge); null for Connect. */
export interface PresentedToken {
  token: string;
  holder: ForgeHolder | null;
}

export type Presented = Result<PresentedToken, ErrorCode>;

/** Reads a request's page token; answers at once for Connect, through a promise for Forge (the FIT is verified first). */
export type PageCredentials = (req: Request) => Presented | Promise<Presented>;

/** What the Forge door needs; null where Forge is not configured (FORGE_APP_ID unset). */
export interface ForgeDoor {
  fits: FitVerifier;
  installations: Installations;
}

export function connectCredentials(req: Request): Presented {
  const bearer = readBearerJwt(req.headers.authorization);
  if (!bearer.ok) return bearer;
  return ok({ token: bearer.credential, holder: null });
}

/** Verifies the FIT a Forge call carries; `user` requires a principal (UI calls), `none` forbids one (events, lifecycle). */
export async function forgeInvocationOf(door: ForgeDoor, req: Request, principal: 'user' | 'none'): Promise<Result<ForgeInvocation, ErrorCode>> {
  const bearer = readBearer(req.headers.authorization);
  if (!bearer.ok) return bearer;
  const verified = await door.fits.verify(bearer.credential);
  if (!verified.ok) return verified;
  if ((principal === 'user') !== (verified.value.principal !== null)) {
    return fail('forbidden');
  }
  return verified;
}

export function pageCredentials(forge: ForgeDoor | null): PageCredentials {
  return (req) => {
    const pageToken = req.headers[PAGE_TOKEN_HEADER];
    if (pageToken === undefined) return connectCredentials(req);
    // A page token beside a FIT: the Forge door, or nothing when Forge is not configured here.
    if (forge === null) return fail('token_invalid');
    if (typeof pageToken !== 'string' || pageToken.length > 4096 || !JWT_SHAPE.test(pageToken)) return fail('token_malformed');
    return forgeInvocationOf(forge, req, 'user').then(async (invocation): Promise<Presented> => {
      if (!invocation.ok) return invocation;
      const clientKey = await forge.installations.tenantOf(invocation.value.installationId);
      return ok({ token: pageToken, holder: { clientKey, accountId: invocation.value.principal as string, apiBaseUrl: invocation.value.apiBaseUrl } });
    });
  };
}
