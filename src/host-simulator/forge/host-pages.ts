/**
 * The site's pages that show Forge UI modules: the issue view with the issue panel, admin and global
 * pages. Each embeds the Custom UI from the CDN's origin and carries the host's half of the bridge:
 * it takes calls posted by its own frames and asks Forge (the simulator) for the answer.
 */
import express, { type Request, type Router } from 'express';
import Handlebars from 'handlebars';
import type { SimulatedUser, UserDirectory } from '../directory';
import { HostSimulatorError } from '../errors';
import { ADMIN_SCRIPT, IFRAME_SANDBOX, issueView, sendMessage, sendPage, siteAdministration, viewer, type PanelView } from '../host-page';
import { projectKeyOf, type IssueContext, type IssueRegistry } from '../issues';
import { BRIDGE_ANSWER, BRIDGE_CALL, FRAME_RESIZE } from './cdn';
import type { Delivery } from './delivery';
import type { UiModule } from './manifest';

/** A Forge UI module shown to a user: what every FIT and context of its calls is built from. */
export interface UiCall {
  accountId: string;
  moduleKey: string;
  /** The issue the panel is on; issue panels only. */
  issue?: IssueContext;
}

/** What the host page's bridge channel answers for one call. */
export type BridgeAnswer = { ok: true; value: unknown } | { ok: false; error: string };

export interface ForgeHostPagesHost {
  readonly directory: UserDirectory;
  readonly issues: IssueRegistry;
  readonly cdnOrigin: string;
  /** The app's UI modules while it is installed; none otherwise. */
  installedUiModules(): UiModule[];
  /** Remembers what a page shows, and answers the view's id and its frame's URL. */
  openView(call: UiCall, location: string): { viewId: string; frameUrl: string };
  answerBridge(viewId: string, name: string, payload: unknown): Promise<BridgeAnswer>;
  removeUser(accountId: string): Promise<Delivery | null>;
  deactivateUser(accountId: string): Promise<Delivery | null>;
  reactivateUser(accountId: string): Promise<Delivery | null>;
}

export const FORGE_PAGES_PREFIX = '/forge';

/**
 * The host's half of the bridge. Only a message from one of this page's Forge frames, at the CDN's
 * origin, is taken; the view id it is answered for comes from the frame element, never from the message.
 * A frame's content height sizes that frame, and only it.
 */
function hostBridgeScript(appOrigin: string): string {
  return `(function () {
  var APP_ORIGIN = ${JSON.stringify(appOrigin)};
  window.addEventListener('message', function (event) {
    if (event.origin !== APP_ORIGIN) return;
    var frames = document.querySelectorAll('iframe[data-forge-view]');
    var frame = null;
    for (var i = 0; i < frames.length; i += 1) if (frames[i].contentWindow === event.source) frame = frames[i];
    var call = event.data;
    if (frame === null || !call) return;
    if (call.type === ${JSON.stringify(FRAME_RESIZE)} && typeof call.height === 'number' && isFinite(call.height) && call.height >= 0) {
      frame.style.height = Math.ceil(call.height) + 'px';
      return;
    }
    if (call.type !== ${JSON.stringify(BRIDGE_CALL)} || typeof call.id !== 'number' || typeof call.name !== 'string') return;
    var reply = function (answer) {
      frame.contentWindow.postMessage({ type: ${JSON.stringify(BRIDGE_ANSWER)}, id: call.id, ok: answer.ok === true, value: answer.value, error: answer.error }, APP_ORIGIN);
    };
    fetch(${JSON.stringify(`${FORGE_PAGES_PREFIX}/bridge/`)} + encodeURIComponent(frame.getAttribute('data-forge-view')), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ name: call.name, payload: call.payload })
    })
      .then(function (res) { return res.json(); })
      .then(reply, function () { reply({ ok: false, error: 'The host could not reach Forge.' }); });
  });
})();
`;
}

/** A Custom UI view in a site page. */
type FrameView = Required<PanelView>;

const appPage = Handlebars.compile<{ frame: FrameView; sandbox: string }>(
  `<main id="app-page"><iframe id="page" data-module-key="{{frame.key}}" data-forge-view="{{frame.viewId}}" src="{{frame.src}}" title="{{frame.title}}" sandbox="{{sandbox}}"></iframe></main>`,
);

type UserAction = 'remove' | 'deactivate' | 'reactivate';
const USER_ACTIONS: readonly UserAction[] = ['remove', 'deactivate', 'reactivate'];

function isUserAction(value: string): value is UserAction {
  return (USER_ACTIONS as readonly string[]).includes(value);
}

function fullUrl(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? ''}${req.originalUrl}`;
}

export function forgeHostPagesRouter(host: ForgeHostPagesHost): Router {
  const router = express.Router();
  const script = `${ADMIN_SCRIPT}\n${hostBridgeScript(host.cdnOrigin)}`;

  router.get(`${FORGE_PAGES_PREFIX}/browse/:issueKey`, (req, res) => {
    const issue = host.issues.get(req.params.issueKey);
    if (issue === undefined) return sendMessage(res, 404, 'issue-not-found', 'The issue does not exist or you do not have permission to see it.');
    const user = viewer(host, req, res, FORGE_PAGES_PREFIX);
    if (user === undefined) return;
    const panels = host.installedUiModules().filter((module) => module.type === 'jira:issuePanel');
    const frames = panels.map((module, i) => {
      const { viewId, frameUrl } = host.openView({ accountId: user.accountId, moduleKey: module.key, issue }, fullUrl(req));
      return { id: i === 0 ? 'panel' : `panel-${module.key}`, key: module.key, viewId, src: frameUrl, title: module.title };
    });
    const body = issueView({
      issue,
      projectKey: projectKeyOf(issue),
      user,
      adminActions: `${FORGE_PAGES_PREFIX}/admin/users/${encodeURIComponent(user.accountId)}`,
      panels: frames,
      noPanelReason: host.installedUiModules().length === 0 ? 'The app is not installed.' : 'The app has no issue panel.',
      sandbox: IFRAME_SANDBOX,
    }) + siteAdministration(host.directory, FORGE_PAGES_PREFIX);
    sendPage(res, 200, `[${issue.issueKey}]`, body, user, script);
  });

  // admin pages (site admins only) and global pages
  router.get(`${FORGE_PAGES_PREFIX}/apps/:moduleKey`, (req, res) => {
    const user = viewer(host, req, res, FORGE_PAGES_PREFIX);
    if (user === undefined) return;
    const module = host.installedUiModules().find((candidate) => candidate.key === req.params.moduleKey);
    if (module === undefined || module.type === 'jira:issuePanel') return sendMessage(res, 404, 'page-not-found', 'The page does not exist.');
    if (module.type === 'jira:adminPage' && !user.siteAdmin) return sendMessage(res, 403, 'forbidden', 'Only site admins can see this page.');
    const { viewId, frameUrl } = host.openView({ accountId: user.accountId, moduleKey: module.key }, fullUrl(req));
    const frame = { id: 'page', key: module.key, viewId, src: frameUrl, title: module.title };
    sendPage(res, 200, module.title, appPage({ frame, sandbox: IFRAME_SANDBOX }) + siteAdministration(host.directory, FORGE_PAGES_PREFIX), user, script);
  });

  router.post(`${FORGE_PAGES_PREFIX}/bridge/:viewId`, express.json({ limit: '1mb' }), async (req, res) => {
    const call = req.body as { name?: unknown; payload?: unknown } | undefined;
    if (typeof call?.name !== 'string') return void res.status(400).json({ ok: false, error: 'A bridge call needs a name.' });
    res.json(await host.answerBridge(req.params.viewId, call.name, call.payload));
  });

  router.post(`${FORGE_PAGES_PREFIX}/admin/users/:accountId/:action`, async (req, res) => {
    const { accountId, action } = req.params;
    if (!isUserAction(action)) return void res.status(404).json({ accountId, message: 'No such action.' });
    try {
      const delivery = await (action === 'remove' ? host.removeUser(accountId) : action === 'deactivate' ? host.deactivateUser(accountId) : host.reactivateUser(accountId));
      const status = delivery?.status ?? null;
      const outcome = delivery === null ? 'no trigger subscribes to the event' : `the app answered ${status ?? 'nothing'}${delivery.attempts.length > 1 ? ` after ${delivery.attempts.length} attempts` : ''}`;
      res.json({ accountId, active: host.directory.get(accountId)?.active ?? false, appStatus: status, message: `${accountId} ${action}d; ${outcome}` });
    } catch (error) {
      if (error instanceof HostSimulatorError && error.code === 'user_unknown') return void res.status(404).json({ accountId, message: `no user ${accountId}` });
      if (error instanceof HostSimulatorError && error.code === 'not_installed') return void res.status(409).json({ accountId, message: 'the Forge app is not installed' });
      res.status(502).json({ accountId, message: 'the event could not be delivered' });
    }
  });

  return router;
}
