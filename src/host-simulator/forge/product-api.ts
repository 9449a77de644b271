/**
 * The site's REST API as a Forge remote reaches it: at the FIT's `app.apiBaseUrl`
 * (`/ex/jira/<cloudId>`), with the `x-forge-oauth-system` token as a bearer, acting as the app.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { UserDirectory } from '../directory';
import type { IssueRegistry } from '../issues';
import { bulkCheckAnswer, bulkCheckSchema, bulkFetchAnswer, bulkUsersAnswer, jiraError, projectSearchAnswer, userHolds, type ApiLog } from '../rest-api';
import { randomSecret } from '../../tokens/random';

/** Atlassian guarantees a system token at least two hours of life; the simulator gives four and renews under two. */
const SYSTEM_TOKEN_TTL_MS = 4 * 3600_000;
const SYSTEM_TOKEN_MIN_LEFT_MS = 2 * 3600_000;

/** The app system tokens handed to the remote: opaque to it, recognised here, one per installation at a time. */
export class SystemTokens {
  private readonly byToken = new Map<string, { installationId: string; expiresAt: number }>();
  private readonly current = new Map<string, string>();

  /** `now` in epoch milliseconds. */
  forInstallation(installationId: string, now: number): string {
    const token = this.current.get(installationId);
    const entry = token === undefined ? undefined : this.byToken.get(token);
    if (token !== undefined && entry !== undefined && entry.expiresAt - now >= SYSTEM_TOKEN_MIN_LEFT_MS) return token;
    const fresh = `forge-system.${randomSecret()}`;
    this.byToken.set(fresh, { installationId, expiresAt: now + SYSTEM_TOKEN_TTL_MS });
    this.current.set(installationId, fresh);
    return fresh;
  }

  /** The installation a live token was issued for. */
  installationOf(token: string, now: number): string | undefined {
    const entry = this.byToken.get(token);
    return entry !== undefined && now < entry.expiresAt ? entry.installationId : undefined;
  }

  /** Ends every token of an uninstalled installation. */
  revokeInstallation(installationId: string): void {
    for (const [token, entry] of this.byToken) if (entry.installationId === installationId) this.byToken.delete(token);
    this.current.delete(installationId);
  }
}

export interface ProductApiHost {
  readonly cloudId: string;
  readonly directory: UserDirectory;
  readonly issues: IssueRegistry;
  /** The site's logs of the bulk user API, bulk issue fetch and project search, shared with its Connect side. */
  readonly userLookups: ApiLog<string[]>;
  readonly issueLookups: ApiLog<string[]>;
  readonly projectLookups: ApiLog<string[]>;
  /** The FIT's `app.apiBaseUrl`: where the product API is reached, whose origin its answers' `self` links name. */
  readonly apiBaseUrl: string;
  readonly systemTokens: SystemTokens;
  /** Epoch milliseconds. */
  now(): number;
  /** The live installation, or undefined when the app is not installed. */
  installationId(): string | undefined;
}

/** api.atlassian.com answers an unauthenticated call with this body. */
function unauthorized(res: Response): void {
  res.status(401).json({ code: 401, message: 'Unauthorized; scope does not match' });
}

export function productApiRouter(host: ProductApiHost): Router {
  const router = express.Router();

  /** Whether the call is for this site and carries a live system token of the live installation; answers it when not. */
  const authenticated = (req: Request, res: Response): boolean => {
    if (req.params.cloudId !== host.cloudId) {
      jiraError(res, 404, 'Site not found.');
      return false;
    }
    const header = req.get('authorization') ?? '';
    const match = /^Bearer (.+)$/i.exec(header);
    const installationId = match === null ? undefined : host.systemTokens.installationOf(match[1], host.now());
    if (installationId === undefined || installationId !== host.installationId()) {
      unauthorized(res);
      return false;
    }
    return true;
  };
  // `self` links are the request's own URL on this origin (req.originalUrl already holds /ex/jira/<cloudId>).
  const lookups = {
    baseUrl: new URL(host.apiBaseUrl).origin,
    directory: host.directory,
    issues: host.issues,
    userLookups: host.userLookups,
    issueLookups: host.issueLookups,
    projectLookups: host.projectLookups,
    now: () => host.now(),
  };

  const permissionsCheck = (req: Request, res: Response): void => {
    if (!authenticated(req, res)) return;
    const body = bulkCheckSchema.safeParse(req.body);
    if (!body.success) return jiraError(res, 400, 'Invalid request payload.');
    const accountId = body.data.accountId;
    if (accountId !== undefined && host.directory.get(accountId) === undefined) return jiraError(res, 404, 'The user was not found.');
    // without an accountId the app asks about itself: it holds what it was granted, never Administer Jira
    const holds = (permission: string): boolean =>
      accountId === undefined ? permission !== 'ADMINISTER' : userHolds(host.directory, accountId, permission);
    res.json(bulkCheckAnswer(body.data, holds));
  };

  router.post(['/ex/jira/:cloudId/rest/api/3/permissions/check', '/ex/jira/:cloudId/rest/api/2/permissions/check'], express.json(), permissionsCheck);
  // The same answers the site gives a Connect app, reached as Forge reaches them (read:jira-user, read:jira-work).
  router.get(['/ex/jira/:cloudId/rest/api/3/user/bulk', '/ex/jira/:cloudId/rest/api/2/user/bulk'], (req, res) => {
    if (authenticated(req, res)) bulkUsersAnswer(lookups, req, res);
  });
  router.post(['/ex/jira/:cloudId/rest/api/3/issue/bulkfetch', '/ex/jira/:cloudId/rest/api/2/issue/bulkfetch'], express.json(), (req, res) => {
    if (authenticated(req, res)) bulkFetchAnswer(lookups, req, res);
  });
  router.get(['/ex/jira/:cloudId/rest/api/3/project/search', '/ex/jira/:cloudId/rest/api/2/project/search'], (req, res) => {
    if (authenticated(req, res)) projectSearchAnswer(lookups, req, res);
  });
  return router;
}
