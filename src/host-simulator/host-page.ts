/** The pages the simulated Jira shows a browser: the issue view that embeds the app's panel, app pages, and admin actions on users. */
import express, { type Request, type Response as ExpressResponse, type Router } from 'express';
import Handlebars from 'handlebars';
import { issueViewPanels, findModule, type AppDescriptor } from './descriptor';
import type { SimulatedUser, UserDirectory } from './directory';
import { HostSimulatorError } from './errors';
import { projectKeyOf, type IssueContext, type IssueRegistry } from './issues';

/** What the pages need from the simulator. */
export interface HostPageHost {
  readonly baseUrl: string;
  readonly directory: UserDirectory;
  readonly issues: IssueRegistry;
  /** The app's descriptor while it is installed and enabled; Jira shows no modules of other apps. */
  enabledDescriptor(): AppDescriptor | undefined;
  panelUrl(moduleKey: string, ctx: IssueContext, accountId: string): string;
  pageUrl(moduleKey: string, accountId: string): string;
  removeUser(accountId: string): Promise<Response | null>;
  deactivateUser(accountId: string): Promise<Response | null>;
  reactivateUser(accountId: string): Promise<Response | null>;
}

type UserAction = 'remove' | 'deactivate' | 'reactivate';

const USER_ACTIONS: Readonly<Record<UserAction, { event: string; label: string }>> = {
  remove: { event: 'user_deleted', label: 'removed' },
  deactivate: { event: 'user_updated', label: 'deactivated' },
  reactivate: { event: 'user_updated', label: 'reactivated' },
};

function isUserAction(value: string): value is UserAction {
  return Object.prototype.hasOwnProperty.call(USER_ACTIONS, value);
}

/** The sandbox Jira puts on Connect iframes. */
export const IFRAME_SANDBOX =
  'allow-downloads allow-forms allow-modals allow-popups allow-popups-to-escape-sandbox allow-scripts allow-same-origin allow-top-navigation-by-user-activation allow-storage-access-by-user-activation';

const STYLE = `
body { font-family: -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #172b4d; }
header { background: #0052cc; color: #fff; padding: 8px 16px; display: flex; justify-content: space-between; }
main { display: flex; gap: 24px; padding: 16px; }
#issue-main { flex: 2; } #issue-context { flex: 1; min-width: 320px; }
iframe { display: block; width: 100%; height: 150px; border: 1px solid #dfe1e6; border-radius: 3px; }
#site-admin { border-top: 1px solid #dfe1e6; margin-top: 16px; padding-top: 8px; }
form.admin-action { display: inline; }
#site-users { border-top: 1px solid #dfe1e6; margin: 16px; padding-top: 8px; }
`;

/** Submits the site-admin forms with fetch and shows the outcome in the output of the form's section. */
export const ADMIN_SCRIPT = `
document.querySelectorAll('form.admin-action').forEach(function (form) {
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var status = form.closest('section').querySelector('output');
    status.dataset.state = 'pending';
    status.textContent = 'Working...';
    fetch(form.action, { method: 'POST', headers: { Accept: 'application/json' } })
      .then(function (res) { return res.json().then(function (body) { return { ok: res.ok, body: body }; }); })
      .then(function (r) { status.dataset.state = r.ok ? 'done' : 'failed'; status.textContent = r.body.message; })
      .catch(function () { status.dataset.state = 'failed'; status.textContent = 'Request failed'; });
  });
});
`;

/**
 * The host's all.js, as Jira serves it at /atlassian-connect/all.js, reduced to what the app's pages use: AP.resize
 * and AP.sizeToParent, each a message to the host page, which sizes the iframe it came from (FRAME_SIZING_SCRIPT).
 */
export const ALL_JS = `(function () {
  var host = new URL(document.currentScript.src).origin;
  function contentHeight() { return Math.ceil(document.documentElement.getBoundingClientRect().height); }
  function send(message) { window.parent.postMessage(Object.assign({ ap: true }, message), host); }
  window.AP = {
    resize: function (width, height) { send({ kind: 'resize', height: height === undefined ? contentHeight() : parseInt(height, 10) }); },
    sizeToParent: function () { send({ kind: 'sizeToParent' }); }
  };
})();
`;

/** The host page's side of all.js: a frame's message sizes that frame, and only it. */
const FRAME_SIZING_SCRIPT = `
window.addEventListener('message', function (event) {
  var data = event.data;
  if (typeof data !== 'object' || data === null || data.ap !== true) return;
  var frame = Array.prototype.find.call(document.querySelectorAll('iframe'), function (f) { return f.contentWindow === event.source; });
  if (frame === undefined) return;
  if (data.kind === 'resize' && typeof data.height === 'number' && data.height >= 0) frame.style.height = data.height + 'px';
  if (data.kind === 'sizeToParent') frame.style.height = Math.max(0, window.innerHeight - frame.getBoundingClientRect().top - 16) + 'px';
});
`;

const page = Handlebars.compile<{ title: string; style: string; sizing: string; user?: SimulatedUser; body: string; script?: string }>(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{title}} - Jira (host simulator)</title><style>{{{style}}}</style></head>
<body>
<header><span id="site-name">Jira (host simulator)</span>{{#if user}}<span id="current-user" data-account-id="{{user.accountId}}">{{user.displayName}}</span>{{/if}}</header>
{{{body}}}
<script>{{{sizing}}}</script>
{{#if script}}<script>{{{script}}}</script>{{/if}}
</body>
</html>`);

/** One app frame on the issue view: a Connect web panel, or a Forge Custom UI view (which has a view id). */
export interface PanelView {
  id: string;
  key: string;
  src: string;
  title: string;
  viewId?: string;
}

/** The issue view, for either kind of app: the issue, the site-admin actions, and the app's frames beside. */
export const issueView = Handlebars.compile<{
  issue: IssueContext;
  projectKey: string;
  user: SimulatedUser;
  adminActions: string;
  panels: PanelView[];
  noPanelReason?: string;
  sandbox: string;
}>(`<main id="issue-view" data-issue-id="{{issue.issueId}}" data-issue-key="{{issue.issueKey}}" data-project-id="{{issue.projectId}}">
  <section id="issue-main">
    <p id="issue-project">{{projectKey}}</p>
    <h1 id="issue-key">{{issue.issueKey}}</h1>
    <section id="site-admin" data-account-id="{{user.accountId}}">
      <h2>Site administration</h2>
      <form class="admin-action" method="post" action="{{adminActions}}/remove"><button id="remove-user" type="submit">Remove user</button></form>
      <form class="admin-action" method="post" action="{{adminActions}}/deactivate"><button id="deactivate-user" type="submit">Deactivate user</button></form>
      <form class="admin-action" method="post" action="{{adminActions}}/reactivate"><button id="reactivate-user" type="submit">Reactivate user</button></form>
      <output id="admin-status" data-state="idle"></output>
    </section>
  </section>
  <aside id="issue-context">
    {{#each panels}}<iframe id="{{id}}" data-module-key="{{key}}"{{#if viewId}} data-forge-view="{{viewId}}"{{/if}} src="{{src}}" title="{{title}}" sandbox="{{../sandbox}}"></iframe>
    {{else}}<p id="no-panel">{{noPanelReason}}</p>{{/each}}
  </aside>
</main>`);

/**
 * Every user of the site with the site admin's actions on them. Shown on every page, whoever is viewing, so a user
 * removed from their own view (whose next load is refused) can be reactivated from the same tab.
 */
const siteUsers = Handlebars.compile<{ users: SimulatedUser[]; prefix: string; actions: string[] }>(
  `<section id="site-users"><h2>Site administration: users</h2><ul>{{#each users}}<li data-account-id="{{accountId}}" data-active="{{active}}">{{displayName}} ({{accountId}}){{#unless active}} inactive{{/unless}}
{{#each ../actions}}<form class="admin-action" method="post" action="{{../../prefix}}/admin/users/{{encode ../accountId}}/{{this}}"><button type="submit" data-action="{{this}}">{{this}}</button></form>{{/each}}</li>{{/each}}</ul>
<output id="site-users-status" data-state="idle"></output></section>`,
);

/** The site-admin section listing every user; `prefix` is where the pages' routes are mounted ('' for Connect). */
export function siteAdministration(directory: UserDirectory, prefix = ''): string {
  return siteUsers({ users: directory.list(), prefix, actions: Object.keys(USER_ACTIONS) }, {
    helpers: { encode: (value: string) => encodeURIComponent(value) },
  });
}

const appPage = Handlebars.compile<{ moduleKey: string; src: string; sandbox: string }>(
  `<main id="app-page"><iframe id="page" data-module-key="{{moduleKey}}" src="{{src}}" title="{{moduleKey}}" sandbox="{{sandbox}}"></iframe></main>`,
);

const message = Handlebars.compile<{ id: string; text: string }>(`<main><p id="{{id}}">{{text}}</p></main>`);

const index = Handlebars.compile<{ users: SimulatedUser[]; issues: Array<IssueContext & { links: Array<{ accountId: string; href: string }> }> }>(
  `<main id="site-index"><section><h1>Users</h1><ul id="users">{{#each users}}<li data-account-id="{{accountId}}">{{displayName}} ({{accountId}}){{#if siteAdmin}} site admin{{/if}}{{#unless active}} inactive{{/unless}}</li>{{/each}}</ul></section>
<section><h1>Issues</h1><ul id="issues">{{#each issues}}<li>{{issueKey}}: {{#each links}}<a href="{{href}}">as {{accountId}}</a> {{/each}}</li>{{/each}}</ul></section></main>`,
);

export function sendPage(res: ExpressResponse, status: number, title: string, body: string, user?: SimulatedUser, script?: string): void {
  res.status(status).type('html').send(page({ title, style: STYLE, sizing: FRAME_SIZING_SCRIPT, user, body, script }));
}

export function sendMessage(res: ExpressResponse, status: number, id: string, text: string): void {
  sendPage(res, status, text, message({ id, text }));
}

/** The viewing user, as Jira's session would name them; `?as=` stands in for the login. A refusal still offers the site-admin actions. */
export function viewer(host: Pick<HostPageHost, 'directory'>, req: Request, res: ExpressResponse, prefix = ''): SimulatedUser | undefined {
  const accountId = typeof req.query.as === 'string' ? req.query.as : '';
  const user = accountId === '' ? undefined : host.directory.get(accountId);
  const refuse = (status: number, id: string, text: string): undefined => {
    sendPage(res, status, text, message({ id, text }) + siteAdministration(host.directory, prefix), undefined, ADMIN_SCRIPT);
    return undefined;
  };
  if (user === undefined) return refuse(401, 'not-logged-in', 'You are not logged in.');
  if (!user.active) return refuse(403, 'account-inactive', 'Your account is not active on this site.');
  return user;
}

export function hostPagesRouter(host: HostPageHost): Router {
  const router = express.Router();

  router.get('/atlassian-connect/all.js', (_req, res) => {
    res.type('application/javascript').send(ALL_JS);
  });

  router.get('/', (_req, res) => {
    const users = host.directory.list();
    const issues = host.issues.list().map((issue) => ({
      ...issue,
      links: users
        .filter((user) => user.active)
        .map((user) => ({ accountId: user.accountId, href: `/browse/${encodeURIComponent(issue.issueKey)}?as=${encodeURIComponent(user.accountId)}` })),
    }));
    sendPage(res, 200, 'Site', index({ users, issues }) + siteAdministration(host.directory), undefined, ADMIN_SCRIPT);
  });

  router.get('/browse/:issueKey', (req, res) => {
    const issue = host.issues.get(req.params.issueKey);
    if (issue === undefined) return sendMessage(res, 404, 'issue-not-found', 'The issue does not exist or you do not have permission to see it.');
    const user = viewer(host, req, res);
    if (user === undefined) return;
    const descriptor = host.enabledDescriptor();
    const modules = descriptor === undefined ? [] : issueViewPanels(descriptor);
    const panels = modules.map((module, i) => ({
      id: i === 0 ? 'panel' : `panel-${module.key}`,
      key: module.key,
      src: host.panelUrl(module.key, issue, user.accountId),
      title: module.key,
    }));
    const noPanelReason = descriptor === undefined ? 'The app is not installed or not enabled.' : 'The app has no issue panel.';
    const adminActions = `/admin/users/${encodeURIComponent(user.accountId)}`;
    const body = issueView({ issue, projectKey: projectKeyOf(issue), user, adminActions, panels, noPanelReason, sandbox: IFRAME_SANDBOX }) + siteAdministration(host.directory);
    sendPage(res, 200, `[${issue.issueKey}]`, body, user, ADMIN_SCRIPT);
  });

  // where Jira serves generalPages and adminPages
  router.get('/plugins/servlet/ac/:appKey/:moduleKey', (req, res) => {
    const user = viewer(host, req, res);
    if (user === undefined) return;
    const descriptor = host.enabledDescriptor();
    const module = descriptor?.key === req.params.appKey ? findModule(descriptor, req.params.moduleKey) : undefined;
    if (module === undefined || (module.kind !== 'generalPages' && module.kind !== 'adminPages')) {
      return sendMessage(res, 404, 'page-not-found', 'The page does not exist.');
    }
    if (module.kind === 'adminPages' && !user.siteAdmin) return sendMessage(res, 403, 'forbidden', 'Only site admins can see this page.');
    const body = appPage({ moduleKey: module.key, src: host.pageUrl(module.key, user.accountId), sandbox: IFRAME_SANDBOX }) + siteAdministration(host.directory);
    sendPage(res, 200, module.key, body, user, ADMIN_SCRIPT);
  });

  router.post('/admin/users/:accountId/:action', async (req, res) => {
    const { accountId, action } = req.params;
    if (!isUserAction(action)) return sendMessage(res, 404, 'action-not-found', 'No such action.');
    const wantsJson = req.accepts(['html', 'json']) === 'json';
    try {
      const delivered =
        action === 'remove'
          ? await host.removeUser(accountId)
          : action === 'deactivate'
            ? await host.deactivateUser(accountId)
            : await host.reactivateUser(accountId);
      const user = host.directory.get(accountId);
      const { event, label } = USER_ACTIONS[action];
      const outcome = delivered === null ? `${event} not sent (no webhook or app not enabled)` : `${event} answered ${delivered.status}`;
      if (!wantsJson) {
        const back = req.get('referer');
        res.redirect(303, back !== undefined && back.startsWith(host.baseUrl) ? back : '/');
        return;
      }
      res.json({ accountId, active: user?.active ?? false, event, appStatus: delivered?.status ?? null, message: `${accountId} ${label}; ${outcome}` });
    } catch (error) {
      if (error instanceof HostSimulatorError && error.code === 'user_unknown') {
        res.status(404).json({ accountId, message: `no user ${accountId}` });
        return;
      }
      res.status(502).json({ accountId, message: 'the webhook could not be delivered' });
    }
  });

  return router;
}
