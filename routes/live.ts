/**
 * The live channel: `GET /api/live?resource=...`, a server-sent-events stream an open page holds behind the guard,
 * which says at once, and only once, why the page's session ended. The core decides when; this file only streams.
 */
import { Router, type Request, type Response } from 'express';
import { ADMIN_RESOURCE, issueResource, JIRA_ID, SELF_RESOURCE } from '../src/allowlist/resource';
import type { LiveSessions } from '../src/allowlist/live-sessions';
import { messageOf, sendError } from './errors';
import { grantOf, type Guard } from './guard';

/** How often an idle stream carries a comment, so that proxies and the page's own watchdog see it alive. */
export const HEARTBEAT_MS = 15_000;

export interface LiveDeps {
  guard: Guard;
  live: LiveSessions;
  heartbeatMs?: number;
}

export interface LiveChannels {
  router: Router;
  /** Ends every open stream (a stopping node): their pages reconnect elsewhere. */
  closeAll(): void;
}

/** The resource a page watches, as it names it in the query: its issue, `app:self` or `app:admin`. */
function resourceOf(req: Request): string | null {
  const named = req.query.resource;
  if (typeof named !== 'string') return null;
  if (named === SELF_RESOURCE.resource || named === ADMIN_RESOURCE.resource) return named;
  const issue = /^jira:issue:(.+)$/.exec(named)?.[1];
  return issue !== undefined && JIRA_ID.test(issue) ? issueResource(issue, null).resource : null;
}

function event(name: string, data: object): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function liveRoutes(deps: LiveDeps): LiveChannels {
  const open = new Set<Response>();
  const heartbeat = setInterval(() => {
    for (const res of open) res.write(': heartbeat\n\n');
  }, deps.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();

  const router = Router();
  router.get('/api/live', deps.guard.page(resourceOf), (req, res) => {
    const { entry } = grantOf(res);
    const { idHash, clientKey, accountId, resource, parent } = entry;
    const close = () => {
      open.delete(res);
      res.end();
    };
    const watched = deps.live.watch(
      { idHash, clientKey, accountId, resource, parent },
      {
        ended(code) {
          res.write(event('ended', { code, message: messageOf(code) }));
          close();
        },
        superseded: close,
      },
    );
    if (!watched.ok) return sendError(res, 'channels_full');
    res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.write(event('ready', {}));
    open.add(res);
    req.socket.setNoDelay(true);
    res.once('close', () => {
      open.delete(res);
      watched.value();
    });
  });

  return {
    router,
    closeAll() {
      clearInterval(heartbeat);
      for (const res of open) res.end();
      open.clear();
    },
  };
}
