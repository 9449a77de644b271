/**
 * Atlassian's personal data reporting API (`POST /app/report-accounts/`, on api.atlassian.com in production), served
 * beside the site: an app reports up to 90 accounts it holds data for, with when it last updated that data, and hears
 * back which were closed and which changed since (200), or that none needs anything (204). Apps authenticate as they
 * do to the site: an HS256 JWT from the app (`iss` its key, `qsh` for this request), signed with the installation's
 * shared secret.
 */
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { verifyAppToken } from './connect-jwt';
import type { UserDirectory } from './directory';
import { jiraError, sendFault, type ApiLog, type InstalledApp } from './rest-api';

export const REPORT_ACCOUNTS_PATH = '/app/report-accounts/';
/** Atlassian takes at most 90 accounts per request. */
const MAX_ACCOUNTS = 90;

export interface ReportedAccount {
  accountId: string;
  updatedAt: string;
}

export interface PrivacyApiHost {
  /** The API's origin (the site's, in the simulator). */
  readonly baseUrl: string;
  readonly clientKey: string;
  readonly directory: UserDirectory;
  now(): number;
  installedApp(): InstalledApp | undefined;
  /** Every report received, and the faults tests queue on the API. */
  readonly personalDataReports: ApiLog<ReportedAccount[]>;
}

const reportSchema = z.object({
  accounts: z
    .array(z.object({ accountId: z.string().min(1).max(128), updatedAt: z.string().datetime({ offset: true }) }).strict())
    .min(1)
    .max(MAX_ACCOUNTS),
});

export function privacyApiRouter(host: PrivacyApiHost): Router {
  const router = express.Router();

  router.post(REPORT_ACCOUNTS_PATH, express.json(), (req: Request, res: Response) => {
    const header = req.get('authorization') ?? '';
    const app = host.installedApp();
    if (!header.startsWith('JWT ') || app === undefined) return jiraError(res, 401, 'Authentication required.');
    const check = verifyAppToken(header.slice(4), {
      sharedSecret: app.sharedSecret,
      appKey: app.descriptor.key,
      method: 'POST',
      url: `${host.baseUrl}${req.originalUrl}`,
      hostBaseUrl: host.baseUrl,
      now: Math.floor(host.now() / 1000),
    });
    if (!check.ok) return jiraError(res, 401, `JWT rejected: ${check.code}`);
    if (check.claims.aud !== undefined && !check.claims.aud.includes(host.clientKey)) return jiraError(res, 401, 'JWT rejected: audience');
    const body = reportSchema.safeParse(req.body);
    const fault = host.personalDataReports.take(body.success ? body.data.accounts : []);
    if (fault !== undefined) return sendFault(res, fault);
    if (!body.success) return jiraError(res, 400, `Invalid report: ${body.error.issues[0]?.message ?? ''}`);

    const accounts = body.data.accounts.flatMap(({ accountId, updatedAt }): Array<{ accountId: string; status: 'closed' | 'updated' }> => {
      const user = host.directory.get(accountId);
      if (user?.closed === true) return [{ accountId, status: 'closed' }];
      if (user?.profileChangedAt != null && user.profileChangedAt > Date.parse(updatedAt)) return [{ accountId, status: 'updated' }];
      return [];
    });
    res.set('Date', new Date(host.now()).toUTCString());
    if (accounts.length === 0) {
      res.status(204).end();
      return;
    }
    res.json({ accounts });
  });

  return router;
}
