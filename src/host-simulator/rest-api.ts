/** The slice of Jira's REST API and Atlassian's OAuth 2.0 token endpoint that the app calls, authenticated as Jira does. */
import express, { type Request, type Response, type Router } from 'express';
import { SymmetricAlgorithm, decodeSymmetric } from 'atlassian-jwt';
import { z } from 'zod';
import { verifyAppToken } from './connect-jwt';
import type { AppDescriptor } from './descriptor';
import type { SimulatedUser, UserDirectory } from './directory';
import type { IssueContext, IssueRegistry } from './issues';
import { randomSecret } from '../tokens/random';

/** What the REST routes need to know about the site and the installed app. */
export interface RestApiHost {
  readonly baseUrl: string;
  readonly authorizationServerUrl: string;
  readonly directory: UserDirectory;
  /** Epoch milliseconds. */
  now(): number;
  /** The installed app, or undefined when none is; `enabled` false while disabled or uninstalled. */
  installedApp(): InstalledApp | undefined;
  /** What the bulk user API was asked, and the faults tests queue on it. */
  readonly userLookups: ApiLog<string[]>;
  readonly issues: IssueRegistry;
  /** What bulk issue fetch was asked (the ids or keys), and the faults tests queue on it. */
  readonly issueLookups: ApiLog<string[]>;
  /** What project search was asked (the ids), and the faults tests queue on it. */
  readonly projectLookups: ApiLog<string[]>;
}

/** What the bulk user API, bulk issue fetch and project search read, whichever door asks (the site's own API, or Forge's product API). */
export interface LookupHost {
  readonly baseUrl: string;
  readonly directory: UserDirectory;
  readonly issues: IssueRegistry;
  readonly userLookups: ApiLog<string[]>;
  readonly issueLookups: ApiLog<string[]>;
  readonly projectLookups: ApiLog<string[]>;
  /** Epoch milliseconds. */
  now(): number;
}

/** A refusal a test queues on an API: the status, and a `Retry-After` in seconds (for a 429). */
export interface ApiFault {
  status: number;
  retryAfterSeconds?: number;
}

/** What an API was asked, in order, and the refusals it answers with before answering normally again. */
export class ApiLog<T> {
  readonly received: T[] = [];
  private readonly faults: ApiFault[] = [];

  /** Answers the next `times` requests with `fault`. */
  fail(fault: ApiFault, times = 1): void {
    for (let i = 0; i < times; i += 1) this.faults.push({ ...fault });
  }

  /** Records a request; the fault to answer it with, if one is queued. */
  take(request: T): ApiFault | undefined {
    this.received.push(request);
    return this.faults.shift();
  }
}

/** Answers a queued fault as Jira does: its error body, and `Retry-After` when the fault has one. */
export function sendFault(res: Response, fault: ApiFault): void {
  if (fault.retryAfterSeconds !== undefined) res.set('Retry-After', String(fault.retryAfterSeconds));
  jiraError(res, fault.status, fault.status === 429 ? 'Rate limit exceeded.' : 'The service is unavailable.');
}

/** Jira's page size for the bulk user API when the caller names none, and the most it returns. */
const BULK_USERS_DEFAULT_PAGE = 10;
const BULK_USERS_MAX_PAGE = 200;

export interface InstalledApp {
  descriptor: AppDescriptor;
  sharedSecret: string;
  oauthClientId: string;
  enabled: boolean;
}

/** Who a request runs as: the app's own add-on user, a user the app acts as, or nobody. */
type Caller = { kind: 'app'; app: InstalledApp } | { kind: 'user'; accountId: string } | { kind: 'anonymous' };
type Authenticated = { ok: true; caller: Caller } | { ok: false; status: number; message: string };

interface AccessToken {
  accountId: string;
  expiresAt: number;
}

interface PermissionDefinition {
  id: string;
  key: string;
  name: string;
  type: 'GLOBAL' | 'PROJECT';
  description: string;
}

const PERMISSIONS: Readonly<Record<string, PermissionDefinition>> = {
  ADMINISTER: {
    id: '0',
    key: 'ADMINISTER',
    name: 'Administer Jira',
    type: 'GLOBAL',
    description:
      'Create and administer projects, issue types, fields, workflows, and schemes for all projects. Users with this permission can perform most administration tasks, except: managing users, importing data, and editing system email settings.',
  },
  BROWSE_PROJECTS: {
    id: '10',
    key: 'BROWSE_PROJECTS',
    name: 'Browse Projects',
    type: 'PROJECT',
    description: 'Ability to browse projects and the issues within them.',
  },
};

/** Scopes that include READ: Connect scopes are cumulative. */
const READ_OR_ABOVE = ['READ', 'WRITE', 'DELETE', 'PROJECT_ADMIN', 'ADMIN'];
const ACCESS_TOKEN_TTL_SECONDS = 900;
const CLAIM_PREFIX = 'urn:atlassian:connect';

/** The body of Jira's bulk permission check (`POST /rest/api/3/permissions/check`). */
export const bulkCheckSchema = z.object({
  accountId: z.string().min(1).optional(),
  globalPermissions: z.array(z.string().nullable()).optional(),
  projectPermissions: z
    .array(
      z.object({
        permissions: z.array(z.string()),
        projects: z.array(z.number()).optional(),
        issues: z.array(z.number()).optional(),
      }),
    )
    .optional(),
});

const grantSchema = z.object({ grant_type: z.literal('urn:ietf:params:oauth:grant-type:jwt-bearer'), assertion: z.string().min(1) });

const assertionSchema = z.object({
  iss: z.string(),
  sub: z.string(),
  tnt: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  exp: z.number(),
});

/** The parameters of Jira's user search: a query or an account id, and a page. */
const userSearchQuery = z
  .object({
    query: z.string().min(1).optional(),
    accountId: z.string().min(1).optional(),
    startAt: z.coerce.number().int().min(0).default(0),
    maxResults: z.coerce.number().int().min(1).max(1000).default(50),
  })
  .refine((params) => params.query !== undefined || params.accountId !== undefined);

/** A user as Jira's REST API shows one to an app: the email only when the user's profile shows it. */
export function userJson(siteBaseUrl: string, user: SimulatedUser): Record<string, unknown> {
  return {
    self: `${siteBaseUrl}/rest/api/3/user?accountId=${encodeURIComponent(user.accountId)}`,
    accountId: user.accountId,
    accountType: 'atlassian',
    ...(user.emailVisible ? { emailAddress: user.email } : {}),
    displayName: user.displayName,
    active: user.active,
    timeZone: 'Etc/UTC',
    locale: 'en_US',
  };
}

/** Whether a user holds `permission`: inactive users hold nothing, ADMINISTER is for site admins. */
export function userHolds(directory: UserDirectory, accountId: string, permission: string): boolean {
  const user = directory.get(accountId);
  if (user === undefined || !user.active) return false;
  return permission === 'ADMINISTER' ? user.siteAdmin : true;
}

/** The bulk check's answer: the requested permissions, global and per project, that the subject holds. */
export function bulkCheckAnswer(
  body: z.infer<typeof bulkCheckSchema>,
  holds: (permission: string) => boolean,
): { globalPermissions: string[]; projectPermissions: Array<{ permission: string; projects: number[]; issues: number[] }> } {
  const globalPermissions = (body.globalPermissions ?? [])
    .filter((key): key is string => key !== null && PERMISSIONS[key]?.type === 'GLOBAL')
    .filter((key) => holds(key));
  const projectPermissions = (body.projectPermissions ?? []).flatMap((entry) =>
    entry.permissions
      .filter((key) => PERMISSIONS[key]?.type === 'PROJECT' && holds(key))
      .map((permission) => ({ permission, projects: entry.projects ?? [], issues: entry.issues ?? [] })),
  );
  return { globalPermissions, projectPermissions };
}

/**
 * The bulk user API's answer (`GET /rest/api/3/user/bulk`): the users named by `accountId` (repeated), in the order
 * asked, one page of them: `maxResults` (10 unless said, 200 at most) from `startAt`. Unknown accounts are left out;
 * removed and closed ones come back with `active: false`, a closed one as "Former user". The caller is authenticated.
 */
export function bulkUsersAnswer(host: Pick<LookupHost, 'baseUrl' | 'directory' | 'userLookups' | 'now'>, req: Request, res: Response): void {
  const asked = ([] as unknown[]).concat(req.query.accountId ?? []).filter((id): id is string => typeof id === 'string' && id !== '');
  const fault = host.userLookups.take(asked);
  if (fault !== undefined) return sendFault(res, fault);
  if (asked.length === 0) return jiraError(res, 400, "The 'accountId' query parameter is required.");
  const startAt = wholeNumber(req.query.startAt, 0);
  const requested = wholeNumber(req.query.maxResults, BULK_USERS_DEFAULT_PAGE);
  if (startAt === null || requested === null || requested === 0) return jiraError(res, 400, 'Invalid startAt or maxResults.');
  const maxResults = Math.min(requested, BULK_USERS_MAX_PAGE);
  const found = [...new Set(asked)].map((id) => host.directory.get(id)).filter((user) => user !== undefined);
  const values = found.slice(startAt, startAt + maxResults);
  const isLast = startAt + values.length >= found.length;
  const self = `${host.baseUrl}${req.originalUrl}`;
  res.set('Date', new Date(host.now()).toUTCString());
  res.json({
    self,
    ...(isLast ? {} : { nextPage: pageUrl(self, startAt + values.length) }),
    maxResults,
    startAt,
    total: found.length,
    isLast,
    values: values.map((user) => ({
      self: `${host.baseUrl}/rest/api/3/user?accountId=${encodeURIComponent(user.accountId)}`,
      accountId: user.accountId,
      accountType: 'atlassian',
      displayName: user.closed ? 'Former user' : user.displayName,
      active: user.active,
      timeZone: 'UTC',
      locale: 'en_US',
    })),
  });
}

/** Jira takes up to 1000 issues in one bulk fetch when the request names its fields, else 100. */
const BULK_FETCH_MAX = 1000;
const BULK_FETCH_MAX_UNNAMED = 100;

const bulkFetchSchema = z.object({
  issueIdsOrKeys: z.array(z.string().min(1)).min(1),
  fields: z.array(z.string()).optional(),
  expand: z.array(z.string()).optional(),
  properties: z.array(z.string()).optional(),
  fieldsByKeys: z.boolean().optional(),
});

/**
 * Bulk issue fetch's answer (`POST /rest/api/3/issue/bulkfetch`): the issues named by id or key, in ascending id
 * order, each with the fields asked for that the simulated issue has (none but its key). Issues that do not exist
 * are left out, as Jira leaves out those the caller cannot see. The caller is authenticated.
 */
export function bulkFetchAnswer(host: Pick<LookupHost, 'baseUrl' | 'issues' | 'issueLookups'>, req: Request, res: Response): void {
  const body = bulkFetchSchema.safeParse(req.body);
  const fault = host.issueLookups.take(body.success ? body.data.issueIdsOrKeys : []);
  if (fault !== undefined) return sendFault(res, fault);
  if (!body.success) return jiraError(res, 400, "The 'issueIdsOrKeys' list is required.");
  const named = (body.data.fields ?? []).some((field) => field !== '' && !field.startsWith('-') && !field.startsWith('*'));
  const max = named ? BULK_FETCH_MAX : BULK_FETCH_MAX_UNNAMED;
  if (body.data.issueIdsOrKeys.length > max) return jiraError(res, 400, `At most ${max} issues can be fetched at once.`);
  const found = new Map<string, IssueContext>();
  for (const idOrKey of body.data.issueIdsOrKeys) {
    const issue = host.issues.byId(idOrKey) ?? host.issues.get(idOrKey.toUpperCase());
    if (issue !== undefined) found.set(issue.issueId, issue);
  }
  const issues = [...found.values()]
    .sort((a, b) => Number(a.issueId) - Number(b.issueId))
    .map((issue) => ({ expand: '', id: issue.issueId, self: `${host.baseUrl}/rest/api/3/issue/${issue.issueId}`, key: issue.issueKey, fields: {} }));
  res.json({ expand: '', issues, issueErrors: [] });
}

/** Jira Cloud answers project search 50 projects a page at most, and takes at most 50 ids. */
const PROJECT_SEARCH_MAX_PAGE = 50;
const PROJECT_SEARCH_MAX_IDS = 50;

/**
 * Project search's answer (`GET /rest/api/3/project/search`): the site's projects, only those named by `id`
 * (repeated) when any is, ordered by key as Jira orders them unless told otherwise, one page of them: `maxResults`
 * (50 at most) from `startAt`. Ids the site has no project for are left out, as Jira leaves out projects the caller
 * cannot see. The caller is authenticated.
 */
export function projectSearchAnswer(host: Pick<LookupHost, 'baseUrl' | 'issues' | 'projectLookups'>, req: Request, res: Response): void {
  const asked = ([] as unknown[]).concat(req.query.id ?? []).filter((id): id is string => typeof id === 'string');
  const fault = host.projectLookups.take(asked);
  if (fault !== undefined) return sendFault(res, fault);
  if (asked.some((id) => !/^[0-9]{1,18}$/.test(id))) return jiraError(res, 400, "The 'id' query parameter must be a project id.");
  if (asked.length > PROJECT_SEARCH_MAX_IDS) return jiraError(res, 400, `At most ${PROJECT_SEARCH_MAX_IDS} project ids can be given.`);
  const startAt = wholeNumber(req.query.startAt, 0);
  const requested = wholeNumber(req.query.maxResults, PROJECT_SEARCH_MAX_PAGE);
  if (startAt === null || requested === null || requested === 0) return jiraError(res, 400, 'Invalid startAt or maxResults.');
  const maxResults = Math.min(requested, PROJECT_SEARCH_MAX_PAGE);
  const wanted = new Set(asked);
  const found = host.issues
    .projects()
    .filter((project) => wanted.size === 0 || wanted.has(project.projectId))
    .sort((a, b) => a.projectKey.localeCompare(b.projectKey));
  const values = found.slice(startAt, startAt + maxResults);
  const isLast = startAt + values.length >= found.length;
  const self = `${host.baseUrl}${req.originalUrl}`;
  res.json({
    self,
    ...(isLast ? {} : { nextPage: pageUrl(self, startAt + values.length) }),
    maxResults,
    startAt,
    total: found.length,
    isLast,
    values: values.map((project) => ({
      self: `${host.baseUrl}/rest/api/3/project/${project.projectId}`,
      id: project.projectId,
      key: project.projectKey,
      name: project.projectKey,
      projectTypeKey: 'software',
      simplified: false,
      style: 'classic',
      isPrivate: false,
      properties: {},
    })),
  });
}

export function jiraError(res: Response, status: number, message: string): void {
  res.status(status).json({ errorMessages: [message], errors: {} });
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** A query parameter that must be a whole number when present; null when it is not. */
function wholeNumber(value: unknown, fallback: number): number | null {
  if (value === undefined) return fallback;
  return typeof value === 'string' && /^[0-9]{1,9}$/.test(value) ? Number(value) : null;
}

/** The same request from another page. */
function pageUrl(self: string, startAt: number): string {
  const url = new URL(self);
  url.searchParams.set('startAt', String(startAt));
  return url.toString();
}

function hasScope(descriptor: AppDescriptor, accepted: readonly string[]): boolean {
  return (descriptor.scopes ?? []).some((scope) => accepted.includes(scope.toUpperCase()));
}

export function restApiRouter(host: RestApiHost): Router {
  const accessTokens = new Map<string, AccessToken>();
  const router = express.Router();

  function authenticate(req: Request): Authenticated {
    const header = req.get('authorization') ?? '';
    if (header === '') return { ok: true, caller: { kind: 'anonymous' } };
    if (header.startsWith('JWT ')) {
      const app = host.installedApp();
      if (app === undefined || !app.enabled) return { ok: false, status: 401, message: 'The app is not installed or not enabled.' };
      const check = verifyAppToken(header.slice(4), {
        sharedSecret: app.sharedSecret,
        appKey: app.descriptor.key,
        method: req.method,
        url: `${host.baseUrl}${req.originalUrl}`,
        hostBaseUrl: host.baseUrl,
        now: Math.floor(host.now() / 1000),
      });
      if (!check.ok) return { ok: false, status: 401, message: `JWT rejected: ${check.code}` };
      return { ok: true, caller: { kind: 'app', app } };
    }
    if (header.startsWith('Bearer ')) {
      const token = accessTokens.get(header.slice(7));
      if (token === undefined || host.now() >= token.expiresAt) return { ok: false, status: 401, message: 'Invalid or expired access token.' };
      if (host.directory.get(token.accountId)?.active !== true) return { ok: false, status: 401, message: 'The user is not active.' };
      return { ok: true, caller: { kind: 'user', accountId: token.accountId } };
    }
    return { ok: false, status: 401, message: 'Unsupported authorization scheme.' };
  }

  /** Whether `subject` holds `permission`: inactive users hold nothing, the add-on user is an admin only with ADMIN scope. */
  function holds(subject: Caller, permission: string): boolean {
    switch (subject.kind) {
      case 'anonymous':
        return false;
      case 'app':
        return permission === 'ADMINISTER' ? hasScope(subject.app.descriptor, ['ADMIN']) : true;
      case 'user':
        return userHolds(host.directory, subject.accountId, permission);
    }
  }

  /** Apps need at least READ scope for these resources, as on Jira Cloud. */
  function scopeDenied(caller: Caller, res: Response): boolean {
    if (caller.kind === 'app' && !hasScope(caller.app.descriptor, READ_OR_ABOVE)) {
      jiraError(res, 403, 'The app does not have the READ scope.');
      return true;
    }
    return false;
  }

  const myPermissions = (req: Request, res: Response): void => {
    const auth = authenticate(req);
    if (!auth.ok) return jiraError(res, auth.status, auth.message);
    if (scopeDenied(auth.caller, res)) return;
    const requested = typeof req.query.permissions === 'string' ? req.query.permissions : '';
    const keys = requested.split(',').map((key) => key.trim()).filter((key) => key !== '');
    if (keys.length === 0) return jiraError(res, 400, "The 'permissions' query parameter is required.");
    const unknown = keys.find((key) => PERMISSIONS[key] === undefined);
    if (unknown !== undefined) return jiraError(res, 400, `Unrecognized permission: ${unknown}`);
    const permissions: Record<string, PermissionDefinition & { havePermission: boolean }> = {};
    for (const key of keys) permissions[key] = { ...PERMISSIONS[key], havePermission: holds(auth.caller, key) };
    res.json({ permissions });
  };

  const bulkPermissions = (req: Request, res: Response): void => {
    const auth = authenticate(req);
    if (!auth.ok) return jiraError(res, auth.status, auth.message);
    if (scopeDenied(auth.caller, res)) return;
    const body = bulkCheckSchema.safeParse(req.body);
    if (!body.success) return jiraError(res, 400, 'Invalid request payload.');
    let subject: Caller = auth.caller;
    if (body.data.accountId !== undefined) {
      // apps may ask about anyone from their server; users only when they are admins
      const maySeeOthers = auth.caller.kind === 'app' || (auth.caller.kind === 'user' && holds(auth.caller, 'ADMINISTER'));
      if (auth.caller.kind === 'anonymous') return jiraError(res, 401, 'You are not authenticated.');
      if (!maySeeOthers && !(auth.caller.kind === 'user' && auth.caller.accountId === body.data.accountId)) {
        return jiraError(res, 403, 'You do not have permission to check other users.');
      }
      if (host.directory.get(body.data.accountId) === undefined) return jiraError(res, 404, 'The user was not found.');
      subject = { kind: 'user', accountId: body.data.accountId };
    }
    res.json(bulkCheckAnswer(body.data, (key) => holds(subject, key)));
  };

  const bulkUsers = (req: Request, res: Response): void => {
    const auth = authenticate(req);
    if (!auth.ok) return jiraError(res, auth.status, auth.message);
    if (scopeDenied(auth.caller, res)) return;
    bulkUsersAnswer(host, req, res);
  };

  const bulkFetch = (req: Request, res: Response): void => {
    const auth = authenticate(req);
    if (!auth.ok) return jiraError(res, auth.status, auth.message);
    if (auth.caller.kind === 'anonymous') return jiraError(res, 401, 'You are not authenticated.');
    if (scopeDenied(auth.caller, res)) return;
    bulkFetchAnswer(host, req, res);
  };

  // Project search as the app makes it: authenticated like bulk issue fetch, though Jira also answers anonymous
  // callers (with the projects anyone may browse), since the app never asks anonymously.
  const projectSearch = (req: Request, res: Response): void => {
    const auth = authenticate(req);
    if (!auth.ok) return jiraError(res, auth.status, auth.message);
    if (auth.caller.kind === 'anonymous') return jiraError(res, 401, 'You are not authenticated.');
    if (scopeDenied(auth.caller, res)) return;
    projectSearchAnswer(host, req, res);
  };

  // Find users (`GET /rest/api/3/user/search`): the query matches a prefix of a display-name word or of the email,
  // and an email the user's profile hides is neither matched nor shown, as on Jira Cloud.
  const userSearch = (req: Request, res: Response): void => {
    const auth = authenticate(req);
    if (!auth.ok) return jiraError(res, auth.status, auth.message);
    if (auth.caller.kind === 'anonymous') return jiraError(res, 401, 'You are not authenticated.');
    if (scopeDenied(auth.caller, res)) return;
    const query = userSearchQuery.safeParse(req.query);
    if (!query.success) return jiraError(res, 400, "The 'query' or 'accountId' parameter is required; startAt and maxResults are numbers.");
    const { query: text, accountId, startAt, maxResults } = query.data;
    const found = accountId !== undefined ? [host.directory.get(accountId)].filter((user) => user !== undefined) : host.directory.search(text ?? '');
    res.json(found.slice(startAt, startAt + maxResults).map((user) => userJson(host.baseUrl, user)));
  };

  // Atlassian's authorization server: the JWT bearer grant behind ACE's asUserByAccountId
  const tokenGrant = (req: Request, res: Response): void => {
    const refuse = (description: string): void => {
      res.status(400).json({ error: 'invalid_grant', error_description: description });
    };
    const app = host.installedApp();
    const grant = grantSchema.safeParse(req.body);
    if (!grant.success) return refuse('Unsupported grant.');
    if (app === undefined || !app.enabled) return refuse('Unknown client.');
    if (!hasScope(app.descriptor, ['ACT_AS_USER'])) {
      res.status(401).json({ error: 'unauthorized_client', error_description: 'The app does not have the ACT_AS_USER scope.' });
      return;
    }
    let decoded: unknown;
    try {
      decoded = decodeSymmetric(grant.data.assertion, app.sharedSecret, SymmetricAlgorithm.HS256);
    } catch {
      return refuse('Invalid assertion signature.');
    }
    const claims = assertionSchema.safeParse(decoded);
    if (!claims.success) return refuse('Malformed assertion.');
    const audience = Array.isArray(claims.data.aud) ? claims.data.aud[0] : claims.data.aud;
    if (claims.data.iss !== `${CLAIM_PREFIX}:clientid:${app.oauthClientId}`) return refuse('Unknown client.');
    if (trimSlash(claims.data.tnt) !== trimSlash(host.baseUrl)) return refuse('Unknown tenant.');
    if (audience === undefined || trimSlash(audience) !== trimSlash(host.authorizationServerUrl)) return refuse('Wrong audience.');
    if (Math.floor(host.now() / 1000) >= claims.data.exp) return refuse('Assertion expired.');
    const subjectPrefix = `${CLAIM_PREFIX}:useraccountid:`;
    if (!claims.data.sub.startsWith(subjectPrefix)) return refuse('Unsupported subject.');
    const accountId = claims.data.sub.slice(subjectPrefix.length);
    if (host.directory.get(accountId)?.active !== true) return refuse('The user is not active.');
    const accessToken = randomSecret();
    accessTokens.set(accessToken, { accountId, expiresAt: host.now() + ACCESS_TOKEN_TTL_SECONDS * 1000 });
    res.json({ access_token: accessToken, expires_in: ACCESS_TOKEN_TTL_SECONDS, token_type: 'Bearer' });
  };

  router.get(['/rest/api/3/mypermissions', '/rest/api/2/mypermissions'], myPermissions);
  router.post(['/rest/api/3/permissions/check', '/rest/api/2/permissions/check'], express.json(), bulkPermissions);
  router.get(['/rest/api/3/user/bulk', '/rest/api/2/user/bulk'], bulkUsers);
  router.get(['/rest/api/3/user/search', '/rest/api/2/user/search'], userSearch);
  router.post(['/rest/api/3/issue/bulkfetch', '/rest/api/2/issue/bulkfetch'], express.json(), bulkFetch);
  router.get(['/rest/api/3/project/search', '/rest/api/2/project/search'], projectSearch);
  router.post('/oauth2/token', express.urlencoded({ extended: false }), express.json(), tokenGrant);
  return router;
}
