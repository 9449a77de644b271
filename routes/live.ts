/**
 * The live channel: `GET /api/live?resource=...`, a server-sent-events stream an open page holds behind the guard,
 * which says at once, and only once, why the page's session ended; and `GET /api/live/poll?resource=...`, the same
 * as a long poll for pages whose door cannot stream (Forge's invokeRemote answers once). The core decides when; this
 * file only streams or answers.
 */
import { Router, type Request, type Response } from 'express';
import { ADMIN_RESOURCE, issueResource, JIRA_ID, SELF_RESOURCE } from '../src/allowlist/resource';
import type { LiveSessions, WatchedSession } from '../src/allowlist/live-sessions';
import { messageOf, sendError, sendForgeError, type ErrorCode } from './errors';
import { grantOf, type Guard } from './guard';

/** How often an idle stream carries a comment, so that proxies and the page's own watchdog see it alive. */
export const HEARTBEAT_MS = 15_000;
/** How long a long poll is held when nothing ends the session: under Forge's 25 s for a UI call, with room to spare. */
export const POLL_MS = 20_000;

export interface LiveDeps {
  guard: Guard;
  live: LiveSessions;
  heartbeatMs?: number;
  pollMs?: number;
}

export interface LiveChannels {
  router: Router;
  /** Ends every open stream and answers every held poll (a stopping node): their pages reconnect elsewhere. */
  closeAll(): void;
}

/** What a held poll answers when its time is up, or it gave way: the session still stands, ask again. */
const STILL_STANDING = { ended: false };

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

/** The session a grant names, as the watcher registry keeps it. */
function watchedOf(res: Response): WatchedSession {
  const { idHash, clientKey, accountId, resource, parent } = grantOf(res).entry;
  return { idHash, clientKey, accountId, resource, parent };
}

/** A refusal in the terms of the door the page came through: a Forge page reads a 403's body, never a 401's. */
function refuse(res: Response, code: ErrorCode): void {
  if (grantOf(res).claims.cnf?.fit === 'principal') sendForgeError(res, code);
  else sendError(res, code);
}

export function liveRoutes(deps: LiveDeps): LiveChannels {
  const open = new Set<Response>();
  // Held polls, each with the way to answer it "still standing" at once.
  const held = new Map<Response, () => void>();
  const pollMs = deps.pollMs ?? POLL_MS;
  const heartbeat = setInterval(() => {
    for (const res of open) res.write(': heartbeat\n\n');
  }, deps.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();

  const router = Router();
  router.get('/api/live', deps.guard.page(resourceOf), (req, res) => {
    const close = () => {
      open.delete(res);
      res.end();
    };
    const watched = deps.live.watch(
      watchedOf(res),
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

  // Re-sent at once after each answer, so each is a check, but only a watching one: it never keeps a session from idling.
  router.get('/api/live/poll', deps.guard.page(resourceOf, { watching: true }), (_req, res) => {
    let timer: NodeJS.Timeout | undefined;
    const answer = (send: () => void) => {
      clearTimeout(timer);
      if (!held.delete(res)) return;
      send();
    };
    const standing = () => answer(() => res.json(STILL_STANDING));
    held.set(res, standing);
    const watched = deps.live.watch(watchedOf(res), { ended: (code) => answer(() => refuse(res, code)), superseded: standing });
    if (!watched.ok) {
      held.delete(res);
      return sendError(res, 'channels_full');
    }
    timer = setTimeout(() => {
      watched.value();
      standing();
    }, pollMs);
    res.once('close', () => {
      clearTimeout(timer);
      held.delete(res);
      watched.value();
    });
  });

  return {
    router,
    closeAll() {
      clearInterval(heartbeat);
      for (const res of open) res.end();
      open.clear();
      for (const standing of [...held.values()]) standing();
    },
  };
}
