/**
 * Connect authentication as PanelGuard uses it: exactly one Connect JWT per request, verified by ACE,
 * and every claim the routes act on read from that same token.
 *
 * ACE looks for a Connect JWT in the query string, then the body, then `Authorization: JWT`, then its
 * own session token (`acpt`, `X-acpt`), and verifies the first it finds. A request carrying a second
 * one elsewhere could have PanelGuard read claims from a token nobody verified; such a request is
 * refused before ACE sees it.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import jwt from 'jsonwebtoken';
import { connectContext } from '../src/connect/addon';
import { sha256Hex } from '../src/tokens/hash';
import { sendError } from './errors';

/** What a verified Connect JWT says, as the routes may rely on it. */
export interface VerifiedConnect {
  clientKey: string;
  /** The signed-in user; undefined for calls the host makes as itself (lifecycle, some webhooks). */
  accountId: string | undefined;
  /** The tenant's site, as stored at install (or, for an install, as the payload says). */
  hostBaseUrl: string | undefined;
  /** `iat` of the verified token, in ms. */
  issuedAt: number;
  /** `exp` of the verified token, in ms. */
  expiresAt: number;
  /** SHA-256 of the whole token: what a replay ledger records, never the token. */
  tokenHash: string;
}

/** Every Connect JWT (or ACE session token) the request carries, wherever ACE might look, as text. */
export function connectJwtsOf(req: Request): string[] {
  const found: string[] = [];
  // Anything in a place ACE reads counts, a number or an object too: ACE would take it (and fail on it).
  const add = (value: unknown) => {
    if (Array.isArray(value)) for (const item of value) add(item);
    else if (typeof value === 'string' ? value.length > 0 : value !== undefined && value !== null) found.push(String(value));
  };
  add(req.query.jwt);
  add(req.query.acpt);
  const body: unknown = req.body;
  if (typeof body === 'object' && body !== null) add((body as Record<string, unknown>).jwt);
  const header = req.headers.authorization;
  if (header !== undefined && /^JWT /i.test(header)) add(header.slice(4));
  add(req.headers['x-acpt']);
  return found;
}

function exactlyOneConnectJwt(req: Request, res: Response, next: NextFunction): void {
  const tokens = connectJwtsOf(req);
  if (tokens.length > 1) return sendError(res, 'bad_request', 'The request carries a Connect JWT in more than one place.');
  res.locals.connectJwt = tokens[0];
  next();
}

function readVerifiedClaims(req: Request, res: Response, next: NextFunction): void {
  const token = res.locals.connectJwt as string | undefined;
  const payload = token === undefined ? null : jwt.decode(token, { json: true });
  const context = connectContext(req);
  // ACE verified this very token (it was the only one): its claims are what the routes may act on.
  if (payload === null || typeof payload.iat !== 'number' || typeof payload.exp !== 'number' || context === undefined) {
    return sendError(res, 'token_invalid', 'The Connect JWT has no issue or expiry time.');
  }
  const verified: VerifiedConnect = {
    clientKey: context.clientKey,
    accountId: context.userAccountId,
    hostBaseUrl: context.hostBaseUrl,
    issuedAt: payload.iat * 1000,
    expiresAt: payload.exp * 1000,
    tokenHash: sha256Hex(token as string),
  };
  res.locals.connect = verified;
  next();
}

/** `verify` is one of ACE's checks (authenticate(), authenticateInstall(), verifyInstallation()). */
export function connectAuthenticated(verify: RequestHandler): RequestHandler[] {
  return [exactlyOneConnectJwt, verify, readVerifiedClaims];
}

export function connectOf(res: Response): VerifiedConnect {
  return res.locals.connect as VerifiedConnect;
}
