/**
 * Forge's CDN, on an origin of its own: the FIT JWKS, and each Custom UI resource served as Forge serves
 * it, under its content security policy, with the bridge `@forge/bridge` expects loaded first.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import type { ContentPermissions } from './manifest';
import type { RsaJwk } from './fit';

export const JWKS_PATH = '/.well-known/jwks.json';
export const BRIDGE_SCRIPT_PATH = '/__forge/bridge.js';

/** Message types on the postMessage channel between a Custom UI frame and its host page. */
export const BRIDGE_CALL = 'forge-bridge:call';
export const BRIDGE_ANSWER = 'forge-bridge:answer';
/** The frame's content height, which the host page makes its iframe's height. */
export const FRAME_RESIZE = 'forge-frame:resize';

/**
 * The frame's half of the bridge: `globalThis.__bridge.callBridge(name, payload)` posts the call to the
 * host page, which alone can reach Forge, and settles with its answer. It trusts messages only from
 * its parent window at the host's origin. And, as Forge does for every Custom UI frame without the app
 * asking, it tells the host page the content's height on load and whenever it changes, and the host
 * sizes the iframe to it (the app's own CSS must not tie its height to the frame's, or the two grow together).
 */
export function frameBridgeScript(hostOrigin: string): string {
  return `(function () {
  'use strict';
  var HOST_ORIGIN = ${JSON.stringify(hostOrigin)};
  var pending = new Map();
  var next = 0;
  window.addEventListener('message', function (event) {
    if (event.source !== window.parent || event.origin !== HOST_ORIGIN) return;
    var answer = event.data;
    if (!answer || answer.type !== ${JSON.stringify(BRIDGE_ANSWER)} || !pending.has(answer.id)) return;
    var call = pending.get(answer.id);
    pending.delete(answer.id);
    if (answer.ok) call.resolve(answer.value);
    else call.reject(new Error(answer.error));
  });
  globalThis.__bridge = {
    callBridge: function (name, payload) {
      return new Promise(function (resolve, reject) {
        next += 1;
        var id = next;
        pending.set(id, { resolve: resolve, reject: reject });
        try {
          window.parent.postMessage({ type: ${JSON.stringify(BRIDGE_CALL)}, id: id, name: name, payload: payload }, HOST_ORIGIN);
        } catch (error) {
          pending.delete(id);
          reject(error);
        }
      });
    }
  };
  var reported = -1;
  function reportHeight() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === reported) return;
    reported = height;
    window.parent.postMessage({ type: ${JSON.stringify(FRAME_RESIZE)}, height: height }, HOST_ORIGIN);
  }
  function observe() {
    new ResizeObserver(reportHeight).observe(document.documentElement);
    reportHeight();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', observe);
  else observe();
})();
`;
}

/** CSP source expressions: keywords quoted, hosts as they are. */
function sources(values: readonly string[]): string[] {
  return values.map((value) => (/^(unsafe-inline|unsafe-eval|unsafe-hashes|self|none)$/.test(value) ? `'${value}'` : value));
}

/** Forge's default Custom UI policy: everything from the resource's own origin, widened only by the manifest's permissions. */
export function customUiCsp(permissions: ContentPermissions, hostOrigin: string): string {
  const list = (...parts: string[]) => parts.filter((part) => part !== '').join(' ');
  return [
    `default-src 'self'`,
    `script-src ${list("'self'", ...sources(permissions.scripts))}`,
    `style-src ${list("'self'", ...sources(permissions.styles))}`,
    `connect-src ${list("'self'", ...permissions.fetchClient)}`,
    `img-src ${list("'self'", 'data:', 'blob:', ...permissions.images)}`,
    `font-src 'self' data:`,
    `object-src 'none'`,
    `base-uri 'self'`,
    `frame-ancestors ${hostOrigin}`,
  ].join('; ');
}

/** The bridge goes first in `<head>`, so that @forge/bridge finds `__bridge` when its modules load. */
export function withBridge(html: string): string {
  const tag = `<script src="${BRIDGE_SCRIPT_PATH}"></script>`;
  const head = /<head[^>]*>/i.exec(html);
  if (head !== null) return `${html.slice(0, head.index + head[0].length)}${tag}${html.slice(head.index + head[0].length)}`;
  return `${tag}${html}`;
}

export interface CdnHost {
  /** The site's origin: the only parent the frames talk to and the only one that may frame them. */
  readonly hostOrigin: string;
  /** Where resources live: `/<app uuid>/<environment uuid>/<resource key>/…`. */
  readonly resourcePrefix: string;
  readonly permissions: ContentPermissions;
  jwks(): { keys: RsaJwk[] };
  /** The directory of a resource, or undefined when the app has no such resource. */
  resourceDir(resourceKey: string): string | undefined;
}

export function cdnRouter(host: CdnHost): Router {
  const router = express.Router();
  const bridgeScript = frameBridgeScript(host.hostOrigin);
  const csp = customUiCsp(host.permissions, host.hostOrigin);

  router.get(JWKS_PATH, (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(host.jwks());
  });
  router.get(BRIDGE_SCRIPT_PATH, (_req, res) => {
    res.type('text/javascript').set('Cache-Control', 'no-cache').send(bridgeScript);
  });

  router.use(`${host.resourcePrefix}/:resource`, (req, res, next) => {
    const dir = host.resourceDir(req.params.resource);
    if (dir === undefined || !existsSync(dir)) return void res.status(404).type('text/plain').send('Not Found');
    res.set('Content-Security-Policy', csp);
    res.set('X-Content-Type-Options', 'nosniff');
    const relative = decodeURIComponent(req.path);
    if (relative === '/' || relative === '/index.html') {
      const index = path.join(dir, 'index.html');
      if (!existsSync(index) || !statSync(index).isFile()) return void res.status(404).type('text/plain').send('Not Found');
      res.type('html').set('Cache-Control', 'no-cache').send(withBridge(readFileSync(index, 'utf8')));
      return;
    }
    express.static(dir, { dotfiles: 'ignore', index: false, fallthrough: false })(req, res, next);
  });
  return router;
}
