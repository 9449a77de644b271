/**
 * A tiny stand-in for an app's Forge remote: it verifies every FIT as a remote should (jose, the
 * simulator's JWKS, RS256 only, issuer and audience), records what reached it, and answers as scripted.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';

export type Verdict = { ok: true; claims: JWTPayload & Record<string, unknown> } | { ok: false; code: string };

/** One request as the remote saw it. */
export interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body text. */
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: unknown;
  verdict: Verdict;
}

/** A scripted answer; by default a verified request gets 200 `{"ok":true}` and a refused one 401. */
export interface Answer {
  status: number;
  json?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string | string[]>;
  /** Waits this long before answering (a remote too slow for Forge's timeout). */
  delayMs?: number;
}

export interface StandInRemote {
  readonly baseUrl: string;
  readonly seen: Seen[];
  /** The requests that reached `path`, oldest first. */
  at(path: string): Seen[];
  /** Answers the next requests to `path` with these, in order; the last one repeats. */
  script(path: string, ...answers: Answer[]): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startStandInRemote(opts: { jwksUrl: string; appId: string }): Promise<StandInRemote> {
  // no cooldown, so a rotated key's kid is fetched at once
  const jwks = createRemoteJWKSet(new URL(opts.jwksUrl), { cooldownDuration: 0 });
  const seen: Seen[] = [];
  const scripts = new Map<string, Answer[]>();

  async function verify(authorization: string | undefined): Promise<Verdict> {
    const match = /^Bearer (.+)$/.exec(authorization ?? '');
    if (match === null) return { ok: false, code: 'fit_missing' };
    try {
      const { payload } = await jwtVerify(match[1], jwks, { algorithms: ['RS256'], issuer: 'forge/invocation-token', audience: opts.appId });
      return { ok: true, claims: payload as JWTPayload & Record<string, unknown> };
    } catch (error) {
      if (error instanceof errors.JWTClaimValidationFailed) return { ok: false, code: `${error.code}:${error.claim}` };
      if (error instanceof errors.JOSEError) return { ok: false, code: error.code };
      return { ok: false, code: 'error' };
    }
  }

  const app = express();
  app.use(express.text({ type: '*/*' }));
  app.use(async (req, res) => {
    const text = typeof req.body === 'string' ? req.body : '';
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    const verdict = await verify(req.get('authorization'));
    seen.push({ method: req.method, path: req.path, headers: req.headers, text, body, verdict });
    const queue = scripts.get(req.path);
    const answer: Answer = queue !== undefined && queue.length > 0
      ? (queue.length > 1 ? queue.shift()! : queue[0])
      : verdict.ok ? { status: 200, json: { ok: true } } : { status: 401, json: { code: verdict.code } };
    if (answer.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (res.destroyed) return;
    for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
    res.status(answer.status);
    if (answer.json !== undefined) return void res.type(answer.contentType ?? 'application/json').send(JSON.stringify(answer.json));
    if (answer.text !== undefined) return void res.type(answer.contentType ?? 'text/plain').send(answer.text);
    res.end();
  });

  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    seen,
    at: (path) => seen.filter((request) => request.path === path),
    script: (path, ...answers) => void scripts.set(path, answers),
    reset: () => {
      seen.length = 0;
      scripts.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
