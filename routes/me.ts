/** "My sessions": a user's own live sessions and what theft detection noticed about them, behind the page token of their own page (app:self). Nobody sees or ends another's. */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { LastSeenTracker } from '../src/allowlist/last-seen';
import { SELF_RESOURCE } from '../src/allowlist/resource';
import type { Sessions } from '../src/allowlist/sessions';
import type { Sighting } from '../src/allowlist/types';
import type { Logger } from '../src/observability/logger';
import { sendConfirmation } from './confirmation';
import { sendError } from './errors';
import { storeWork } from './store-work';
import { grantOf, type Guard } from './guard';
import type { NetworkPrefixes } from '../src/allowlist/network';
import { issueIdOf, projectIdOf, type PageNames } from './names';
import { namesOfSessions, sessionJson } from './sessions-json';

const sessionId = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * One side of a signal as its user sees it: the network (by prefix) and the browser, as theft detection compared
 * them. Not the raw IP or user agent: the network says enough to recognise a place, and an IP is more than a
 * thief's victim needs to be shown.
 */
function sightingJson(sighting: Sighting): { network: string | null; agent: string | null; at: number } {
  return { network: sighting.network, agent: sighting.agent, at: sighting.at };
}

export interface MeDeps {
  guard: Guard;
  sessions: Sessions;
  lastSeen: LastSeenTracker;
  names: PageNames;
  /** How coarse a device's network is, as sessions are grouped by it. */
  prefixes: NetworkPrefixes;
  log: Logger;
}

export function meRoutes(deps: MeDeps): Router {
  const { sessions, log } = deps;
  const router = Router();
  router.use('/api/me', deps.guard.page(() => SELF_RESOURCE.resource));

  // The core answers a store failure as store_unavailable; this net only catches what a bug lets through.
  const handle = storeWork(log, 'my-sessions');

  router.get('/api/me/sessions', handle('list own sessions', async (req, res) => {
    const grant = grantOf(res);
    const own = await sessions.listOwn(grant);
    if (!own.ok) return sendError(res, own.code);
    // The user knows who they are: only the issues and projects need naming.
    const labels = await deps.names(req, res, grant.entry.clientKey, { ...namesOfSessions(own.value), accountIds: [] });
    res.json({
      sessions: own.value.map((entry) => {
        const { accountId: _self, displayName: _name, ...session } = sessionJson(entry, deps.lastSeen.newest(entry.idHash), labels, deps.prefixes);
        return { ...session, current: entry.idHash === grant.entry.idHash };
      }),
    });
  }));

  router.get('/api/me/signals', handle('list own signals', async (req, res) => {
    const grant = grantOf(res);
    const signals = await sessions.listOwnSignals(grant);
    if (!signals.ok) return sendError(res, signals.code);
    // The issue or project a signal's session was opened on, by its key, as the sessions list names it.
    const labels = await deps.names(req, res, grant.entry.clientKey, {
      accountIds: [],
      issueIds: signals.value.map((signal) => issueIdOf(signal.resource)),
      projectIds: signals.value.map((signal) => projectIdOf(signal.resource)),
    });
    res.json({
      signals: signals.value.map((signal) => ({
        at: signal.at,
        kind: signal.kind,
        action: signal.action,
        resource: signal.resource,
        issueKey: labels.issueKey(issueIdOf(signal.resource)),
        projectKey: labels.projectKey(projectIdOf(signal.resource)),
        presented: sightingJson(signal.presented),
        holder: sightingJson(signal.holder),
      })),
    });
  }));

  router.delete('/api/me/sessions/:id', handle('end own session', async (req, res) => {
    const id = sessionId.safeParse(req.params.id);
    if (!id.success) return sendError(res, 'bad_request', 'id: not a session id');
    const ended = await sessions.endOwn(grantOf(res), id.data);
    if (!ended.ok) return sendError(res, ended.code);
    const revocation = ended.value;
    if (revocation === null) return sendError(res, 'not_found', 'You have no live session with that id.');
    sendConfirmation(res, revocation.confirmation);
    res.status(204).end();
  }));

  router.delete('/api/me/sessions', handle('end other sessions', async (_req, res) => {
    const ended = await sessions.endOwnOthers(grantOf(res));
    if (!ended.ok) return sendError(res, ended.code);
    const revocation = ended.value;
    sendConfirmation(res, revocation.confirmation);
    res.json({ revoked: revocation.count, confirmation: revocation.confirmation });
  }));

  return router;
}
