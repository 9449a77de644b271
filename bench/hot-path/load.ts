/** The hot-path bench's load generator, in a process of its own so that it never shares the server's thread. */
import autocannon from 'autocannon';
import { serveRequests } from '../lib/process';
import { routeUrl, type LoadResult, type LoadRun, type RevokeUnderLoad, type RevokeUnderLoadResult } from './protocol';

async function load(run: LoadRun): Promise<LoadResult> {
  let turn = 0;
  const result = await autocannon({
    url: run.url,
    connections: run.connections,
    duration: run.seconds,
    ...(run.headers.length === 1
      ? { headers: run.headers[0] }
      : { requests: [{ setupRequest: (request) => ({ ...request, headers: run.headers[turn++ % run.headers.length] }) }] }),
  });
  const seconds = result.duration;
  return {
    rps: result['2xx'] / seconds,
    ok: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
  };
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

serveRequests(async (request: LoadRun | RevokeUnderLoad) => (request.kind === 'load' ? load(request) : revokeUnderLoad(request)));
