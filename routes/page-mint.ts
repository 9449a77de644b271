/** A page render's mint, shared by every page the host frames: a verified Connect JWT in, a page token or a denial page out. */
import type { Request, Response } from 'express';
import type { Allowlist } from '../src/allowlist/allowlist';
import type { ResourceRef } from '../src/allowlist/resource';
import type { Views } from '../views/views';
import { connectOf } from './connect-auth';
import { messageOf, statusOf } from './errors';

export interface MintedPage {
  token: string;
  accountId: string;
}

/**
 * Only the tenant's own site may frame the page, and only it may add a script: its all.js, which lets the page size
 * the host's iframe. Nothing the page loads may leak its URL (which holds the Connect JWT). Answers where the page
 * loads all.js from: the tenant's site, as Jira serves it at /atlassian-connect/all.js, never a query parameter.
 */
export function framedBy(res: Response, hostBaseUrl: string | undefined): string | undefined {
  const host = hostBaseUrl === undefined ? undefined : new URL(hostBaseUrl);
  const ancestor = host === undefined ? "'none'" : host.origin;
  const scripts = host === undefined ? "'self'" : `'self' ${host.origin}`;
  res.set({
    'Content-Security-Policy': `default-src 'self'; script-src ${scripts}; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; object-src 'none'; frame-ancestors ${ancestor}`,
    'Cache-Control': 'no-store',
  });
  return host === undefined ? undefined : `${hostBaseUrl?.replace(/\/+$/, '')}/atlassian-connect/all.js`;
}

export function refusePage(res: Response, views: Views, status: number, title: string, message: string): void {
  res.status(status).type('html').send(views.denied({ title, message }));
}

export type PageMinter = (req: Request, res: Response, target: ResourceRef) => Promise<MintedPage | null>;

/** Mints a page token for the signed-in user and `target`, or answers the denial page itself (then null). */
export function pageMinter(allowlist: Allowlist, views: Views): PageMinter {
  return async (req, res, target) => {
    const connect = connectOf(res);
    if (connect.accountId === undefined) {
      refusePage(res, views, 400, 'Bad request', 'This page needs a signed-in user.');
      return null;
    }
    const minted = await allowlist.mint({
      clientKey: connect.clientKey,
      accountId: connect.accountId,
      target,
      connectIssuedAt: connect.issuedAt,
      ip: req.ip ?? null,
      userAgent: req.get('user-agent') ?? null,
    });
    if (!minted.ok) {
      // A removed user or deleted resource: the page says so in the words the page scripts use.
      const revoked = minted.code === 'forbidden';
      refusePage(res, views, statusOf(minted.code), revoked ? 'Access revoked' : 'Unavailable', messageOf(revoked ? 'token_revoked' : minted.code));
      return null;
    }
    return { token: minted.value.token, accountId: connect.accountId };
  };
}
