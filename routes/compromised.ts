/**
 * Leak reports over HTTP: `POST /api/admin/compromised`, for the same callers as the admin API (an operator token,
 * or the admin page's page token), on the caller's own site. Parse, run the core, answer the counts.
 */
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Logger } from '../src/observability/logger';
import type { OperatorTokens } from '../src/tokens/operator-tokens';
import { readReportItem, readReportLine, type LeakReport } from '../src/signals/leak-reports';
import { LEAK_BATCH, SOURCE_LABEL, startLeakRun, type LeakDeps } from '../src/signals/leaks';
import { adminOf, requireAdmin } from './admin-auth';
import { sendError } from './errors';
import type { Guard } from './guard';
import { storeWork } from './store-work';

export interface CompromisedDeps {
  guard: Guard;
  operators: OperatorTokens;
  leaks: LeakDeps;
  log: Logger;
}

export const COMPROMISED_PATH = '/api/admin/compromised';

/** Reports per request at most: a larger file goes in several requests, or through `panelguard intel ingest`. */
export const MAX_REPORTS_PER_REQUEST = 10_000;

/** Bytes per body at most: 10,000 page tokens of about 500 characters each, with room for JSON's quotes and keys. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

const source = z.string({ required_error: 'required' }).regex(SOURCE_LABEL, 'a label of 1 to 64 letters, digits and . _ : @ / - (starting with a letter or digit)');
const textQuery = z.object({ source });
const jsonBody = z.object({ source, reports: z.array(z.unknown(), { required_error: 'required' }) }).strict();

/** What a request reports, read; or its refusal. */
type ReadRequest = { ok: true; source: string; reports: LeakReport[] } | { ok: false; code: 'bad_request' | 'payload_too_large'; message: string };

const TOO_MANY = `At most ${MAX_REPORTS_PER_REQUEST} reports per request: send the rest in another, or use panelguard intel ingest.`;

function problem(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue === undefined ? 'The request is not valid.' : `${issue.path.join('.') || 'body'}: ${issue.message}`;
}

/** `text/plain`: one report per line, the source in the query (`?source=`). Blank lines and `#` comments are no report. */
function readText(req: Request): ReadRequest {
  const query = textQuery.safeParse(req.query);
  if (!query.success) return { ok: false, code: 'bad_request', message: problem(query.error) };
  const body: unknown = req.body;
  const reports: LeakReport[] = [];
  for (const line of (typeof body === 'string' ? body : '').split('\n')) {
    const report = readReportLine(line);
    if (report === null) continue;
    if (reports.length === MAX_REPORTS_PER_REQUEST) return { ok: false, code: 'payload_too_large', message: TOO_MANY };
    reports.push(report);
  }
  return { ok: true, source: query.data.source, reports };
}

/** `application/json`: `{"source": "...", "reports": [...]}`, each report a string (as a line) or `{"token"}` / `{"hash"}`. */
function readJson(req: Request): ReadRequest {
  const body = jsonBody.safeParse(req.body);
  if (!body.success) return { ok: false, code: 'bad_request', message: problem(body.error) };
  const { reports } = body.data;
  if (reports.length > MAX_REPORTS_PER_REQUEST) return { ok: false, code: 'payload_too_large', message: TOO_MANY };
  return { ok: true, source: body.data.source, reports: reports.map(readReportItem) };
}

/** A body parser whose 413 says what the limit is; every other failure goes to the error handler. */
function bounded(parser: RequestHandler): RequestHandler {
  return (req, res, next) =>
    parser(req, res, (error?: unknown) => {
      const status = typeof error === 'object' && error !== null ? (error as { status?: unknown }).status : undefined;
      if (status === 413) return sendError(res, 'payload_too_large', `At most ${MAX_BODY_BYTES / 1024 / 1024} MB per request: send the rest in another.`);
      next(error);
    });
}

const parseText = bounded(express.text({ type: 'text/plain', limit: MAX_BODY_BYTES }));
const parseJson = bounded(express.json({ limit: MAX_BODY_BYTES }));

export function compromisedRoutes(deps: CompromisedDeps): Router {
  const { log } = deps;
  const router = Router();
  const handle = storeWork(log, 'admin');

  // Credentials first: nobody else gets a large body read.
  router.post(COMPROMISED_PATH, requireAdmin(deps.guard, deps.operators), (req: Request, res: Response, next: NextFunction) => {
    if (req.is('text/plain')) return parseText(req, res, next);
    if (req.is('application/json')) return parseJson(req, res, next);
    sendError(res, 'bad_request', 'Send text/plain (one report per line, ?source=) or application/json ({"source", "reports"}).');
  }, handle('leak report', async (req: Request, res: Response) => {
    const read = req.is('text/plain') ? readText(req) : readJson(req);
    if (!read.ok) return sendError(res, read.code, read.message);
    const { clientKey, actor } = adminOf(res);
    const run = startLeakRun(deps.leaks, { source: read.source, site: clientKey });
    for (let start = 0; start < read.reports.length; start += LEAK_BATCH) {
      const applied = await run.apply(read.reports.slice(start, start + LEAK_BATCH));
      if (!applied.ok) {
        // What was ended stays ended; the same report sent again ends the rest and nothing twice.
        log.warn({ clientKey, source: read.source, counts: run.counts() }, 'leak report stopped part way');
        return sendError(res, applied.code);
      }
    }
    const counts = run.counts();
    // Counts only: never a report, which may be a live token.
    log.info({ clientKey, actor, source: read.source, counts }, 'leak report applied');
    res.json({ source: read.source, ...counts });
  }));

  return router;
}
