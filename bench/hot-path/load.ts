/** The hot-path bench's load generator, in a process of its own so that it never shares the server's thread. */
import autocannon from 'autocannon';
import { generateKeyPair, generateProof, type KeyPair } from 'dpop';
import { serveRequests } from '../lib/process';
import {
  routeUrl,
  type BindPage,
  type LoadResult,
  type LoadRun,
  type PageRun,
  type RevokeUnderLoad,
  type RevokeUnderLoadResult,
} from './protocol';

function resultOf(result: autocannon.Result, page: { rotations: number; proofsMade: number } = { rotations: 0, proofsMade: 0 }): LoadResult {
  const seconds = result.duration;
  return {
    rps: result['2xx'] / seconds,
    ok: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    ...page,
  };
}

async function load(run: LoadRun): Promise<LoadResult> {
  if ('page' in run.send) return loadAsPage(run, run.send.page);
  const { headers } = run.send;
  let turn = 0;
  const result = await autocannon({
    url: run.url,
    connections: run.connections,
    duration: run.seconds,
    ...(headers.length === 1
      ? { headers: headers[0] }
      : { requests: [{ setupRequest: (request) => ({ ...request, headers: headers[turn++ % headers.length] }) }] }),
  });
  noteRate(result['2xx'] / result.duration);
  return resultOf(result);
}

/** What a page holds between runs: its current token, its key once it has one, and the best rate its fresh proofs were used at. */
interface PageState {
  token: string;
  key: KeyPair | null;
  bestFreshRps: number;
}

const pages = new Map<string, PageState>();
/** The best rate any run here was served at: the first guess at how many proofs a page's first run needs. */
let bestRps = 0;
const noteRate = (rps: number) => {
  bestRps = Math.max(bestRps, rps);
};

function pageOf(run: PageRun): PageState {
  let page = pages.get(run.name);
  if (page === undefined) {
    page = { token: run.token, key: null, bestFreshRps: 0 };
    pages.set(run.name, page);
  }
  return page;
}

/**
 * Proofs a run can use up, made before it, for the whole run at half as much again as the rate expected: the best
 * this page used fresh proofs at, and never less than 60% of the best rate of any run here (a 1 s warm-up's rate is
 * no guide). A pool that runs dry ends the run early and says so.
 */
const PROOF_HEADROOM = 1.5;
const CYCLED_PROOFS = 1_000;
const PROOF_BATCH = 500;

async function proofsFor(page: PageState, run: LoadRun, kind: 'fresh' | 'cycled'): Promise<string[]> {
  if (page.key === null) page.key = await generateKeyPair('ES256');
  const key = page.key;
  const rate = Math.max(page.bestFreshRps, 0.6 * bestRps, 1_000);
  const count = kind === 'cycled' ? CYCLED_PROOFS : Math.ceil(rate * run.seconds * PROOF_HEADROOM) + run.connections;
  // htu is the URL without its query, as the verifier compares it.
  const htu = new URL(run.url);
  htu.search = '';
  const proofs: string[] = [];
  while (proofs.length < count) {
    const batch = Math.min(PROOF_BATCH, count - proofs.length);
    proofs.push(...(await Promise.all(Array.from({ length: batch }, () => generateProof(key, htu.href, 'GET', undefined, page.token)))));
  }
  return proofs;
}

/** Reads one header of an autocannon answer, whatever case the server wrote it in. */
function headerOf(headers: Record<string, string | string[]>, lowerCaseName: string): string | undefined {
  for (const name in headers) {
    if (name.toLowerCase() === lowerCaseName) {
      const value = headers[name];
      return Array.isArray(value) ? value[value.length - 1] : value;
    }
  }
  return undefined;
}

/**
 * A page's calls: each request carries the token the page holds at the moment it is written, and a proof of its
 * own when the page signs; an answer's Page-Token-Next switches the page over for every connection's next
 * request. A fresh pool running dry ends the run early (its rate stays true) rather than replay a proof.
 */
async function loadAsPage(run: LoadRun, pageRun: PageRun): Promise<LoadResult> {
  const page = pageOf(pageRun);
  const proofs = pageRun.proofs === 'none' ? [] : await proofsFor(page, run, pageRun.proofs);
  const cycle = pageRun.proofs === 'cycled';
  let used = 0;
  let rotations = 0;
  let dry = false;
  let stop = () => undefined as void;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: run.url,
        connections: run.connections,
        duration: run.seconds,
        requests: [
          {
            setupRequest: (request) => {
              const headers: Record<string, string> = { authorization: `Bearer ${page.token}` };
              if (proofs.length > 0) {
                if (!cycle && used === proofs.length) {
                  dry = true;
                  stop();
                }
                headers.dpop = proofs[used++ % proofs.length];
              }
              return { ...request, headers };
            },
            onResponse: pageRun.follow
              ? (_status, _body, _context, headers) => {
                  const next = headerOf(headers as Record<string, string | string[]>, 'page-token-next');
                  if (next !== undefined && next !== page.token) {
                    page.token = next;
                    rotations++;
                  }
                }
              : undefined,
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    stop = () => instance.stop();
  });
  const result = await finished;
  if (dry) process.stderr.write(`load: page ${pageRun.name} used all ${proofs.length} proofs before the run's end; its rate is over ${result.duration} s\n`);
  const rps = result['2xx'] / result.duration;
  if (pageRun.proofs === 'fresh') page.bestFreshRps = Math.max(page.bestFreshRps, rps);
  noteRate(rps);
  return resultOf(result, { rotations, proofsMade: cycle ? 0 : proofs.length });
}

/** Makes the page's key and binds its session to it, as the page's first call does; before any timed run. */
async function bindPage(request: BindPage): Promise<number> {
  const page = pageOf(request.page);
  page.key ??= await generateKeyPair('ES256');
  const response = await fetch(request.url, {
    headers: { authorization: `Bearer ${page.token}`, dpop: await generateProof(page.key, request.url, 'GET', undefined, page.token) },
  });
  await response.arrayBuffer();
  return response.status;
}

/** What autocannon's per-connection context carries from a request's setup to its answer. */
interface Stamp {
  user: number;
  sentAt: number;
}

interface Outcome {
  user: number;
  sentAt: number;
  status: number;
  doneAt: number;
}

/**
 * Sends the guarded route every user's token in turn, and meanwhile revokes users one after another through
 * the admin API. Each request is stamped when autocannon writes it and when its answer arrives, on this
 * process's clock, which also stamps each revocation call: "sent after the revocation returned" needs no
 * clock shared between processes.
 */
async function revokeUnderLoad(run: RevokeUnderLoad): Promise<RevokeUnderLoadResult> {
  const outcomes: Outcome[] = [];
  let turn = 0;
  const headers = run.tokens.map((t) => ({ authorization: `Bearer ${t.pageToken}` }));
  const userIndex = new Map(run.tokens.map((t, index) => [t.accountId, index]));
  const startedAt = new Map<number, number>();
  const returnedAt = new Map<number, number>();
  let stopped = false;

  let finish: (result: autocannon.Result) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const instance = autocannon({
    url: routeUrl(run.baseUrl, 'guard'),
    connections: run.connections,
    // Long enough for any revocation sequence; stopped as soon as the revocations are done.
    duration: 600,
    requests: [
      {
        setupRequest: (request, context) => {
          const stamp = context as Stamp;
          stamp.user = turn++ % headers.length;
          stamp.sentAt = performance.now();
          return { ...request, headers: headers[stamp.user] };
        },
        onResponse: (status, _body, context) => {
          const { user, sentAt } = context as Stamp;
          outcomes.push({ user, sentAt, status, doneAt: performance.now() });
        },
      },
    ],
  }, (error, result) => (error ? fail(error) : finish(result)));
  const runStarted = performance.now();

  const revokeMs: number[] = [];
  try {
    await sleep(run.warmupSeconds * 1000);
    for (const accountId of run.revoke) {
      const user = userIndex.get(accountId);
      if (user === undefined) throw new Error(`no token for ${accountId}`);
      const started = performance.now();
      startedAt.set(user, started);
      const response = await fetch(`${run.baseUrl}/api/admin/users/${encodeURIComponent(accountId)}/sessions`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${run.operatorToken}` },
      });
      await response.arrayBuffer();
      const returned = performance.now();
      if (response.status !== 204) throw new Error(`revoking ${accountId} answered ${response.status}`);
      returnedAt.set(user, returned);
      revokeMs.push(returned - started);
    }
    // A last stretch of load after the final revocation, so its refusals are observed too.
    await sleep(1000);
  } finally {
    stopped = true;
    instance.stop();
  }
  await finished;
  const seconds = (performance.now() - runStarted) / 1000;

  let servedAfterRevocation = 0;
  let sentAfterRevocation = 0;
  let liveRefused = 0;
  for (const outcome of outcomes) {
    const returned = returnedAt.get(outcome.user);
    const started = startedAt.get(outcome.user);
    if (returned !== undefined && outcome.sentAt > returned) {
      sentAfterRevocation++;
      if (outcome.status === 200) servedAfterRevocation++;
    } else if ((started === undefined || outcome.doneAt < started) && outcome.status !== 200) {
      // Answered before its user's revocation began (or a user never revoked): it had to be served.
      liveRefused++;
    }
  }
  if (!stopped) throw new Error('load did not stop');
  return { requests: outcomes.length, servedAfterRevocation, sentAfterRevocation, liveRefused, revokeMs, rps: outcomes.length / seconds };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

serveRequests(async (request: LoadRun | BindPage | RevokeUnderLoad) => {
  if (request.kind === 'load') return load(request);
  if (request.kind === 'bind-page') return bindPage(request);
  return revokeUnderLoad(request);
});
