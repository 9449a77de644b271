/**
 * Figures 1 and 5: throughput of one route served plain, behind PanelGuard's guard (cache hit) and behind
 * ACE's checkValidToken(), through the Forge door, and with theft detection's rotation and key binding at work,
 * measured by a load generator in another process in interleaved rounds; then, under the same load, users
 * revoked one after another.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { summarizeProfile } from '../lib/profile';
import type { BenchContext, FigureResult, Measurement } from '../lib/report';
import { startWorker, type Worker } from '../lib/process';
import { distribution, median } from '../lib/stats';
import {
  routeUrl,
  type LoadResult,
  type BindPage,
  type LoadRun,
  type PageRun,
  type RevokeUnderLoad,
  type RevokeUnderLoadResult,
  type Route,
  type StartedServer,
} from '../hot-path/protocol';

const ROUTES: Route[] = ['plain', 'guard', 'ace', 'forge-plain', 'forge', 'ace-forge', 'rotating-plain', 'rotating', 'bound-plain', 'bound'];
const LABEL: Record<Route, string> = {
  plain: 'plain route',
  guard: 'guard (cache hit)',
  ace: "ACE's checkValidToken()",
  'forge-plain': 'plain route, Forge headers',
  forge: 'Forge: FIT + guard (cache hit)',
  'ace-forge': "ACE's authenticateForge()",
  'rotating-plain': 'plain route, a page following Page-Token-Next',
  rotating: 'guard with rotation, the page following Page-Token-Next',
  'bound-plain': 'plain route, a DPoP proof per call',
  bound: 'guard with key binding, a DPoP proof per call',
};
export const THEFT_RATIOS = { rotation: 'guard with rotation / plain', keyBinding: 'guard with key binding / plain' };
const CONNECTIONS = 10;
const USERS = 200;
const REVOKED_USERS = 100;

export async function runHotPath(ctx: BenchContext): Promise<FigureResult> {
  const rounds = ctx.quick ? 2 : 5;
  const seconds = ctx.quick ? 2 : 8;
  const profile = ctx.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`];
  const server = startWorker(path.join(__dirname, '..', 'hot-path', 'server.ts'), {}, profile);
  let load: Worker | null = null;
  try {
    ctx.log(`figure 1: starting the server and rendering ${USERS} panels`);
    const started = await server.ask<StartedServer>({ kind: 'start', users: USERS });
    load = startWorker(path.join(__dirname, '..', 'hot-path', 'load.ts'));
    const user = started.tokens[started.tokens.length - 1];
    // Plain gets the very same headers as the guard: the requests differ only in the path.
    // Every Forge call carries a FIT of its own, as Forge signs one per call.
    const forgeHeaders = started.forge.fits.map((fit) => ({ authorization: `Bearer ${fit}`, 'x-page-token': started.forge.pageToken }));
    // The theft-detection rows are sent by a page client, each against the plain route sent by the same client with
    // the same page's headers: it builds every request as it goes, which costs the load generator more than fixed
    // headers, on the same two cores. The rotating page switches to each Page-Token-Next; the key-bound page (on a
    // site of its own) signs each call with a proof used once, all made before the run.
    const rotatingPage: PageRun = { name: 'rotating', token: started.rotatingPageToken, follow: true, proofs: 'none' };
    const boundPage = (proofs: PageRun['proofs']): PageRun => ({ name: 'bound', token: started.boundPageToken, follow: false, proofs });
    const send: Record<Route, LoadRun['send']> = {
      plain: { headers: [{ authorization: `Bearer ${user.pageToken}` }] },
      guard: { headers: [{ authorization: `Bearer ${user.pageToken}` }] },
      ace: { headers: [{ authorization: `JWT ${user.aceToken}` }] },
      'forge-plain': { headers: forgeHeaders },
      forge: { headers: forgeHeaders },
      'ace-forge': { headers: started.forge.fits.map((fit) => ({ authorization: `Bearer ${fit}` })) },
      'rotating-plain': { page: rotatingPage },
      rotating: { page: rotatingPage },
      'bound-plain': { page: boundPage('cycled') },
      bound: { page: boundPage('fresh') },
    };
    const run = (route: Route, runSeconds: number) =>
      load!.ask<LoadResult>({ kind: 'load', url: routeUrl(started.baseUrl, route), send: send[route], connections: CONNECTIONS, seconds: runSeconds } satisfies LoadRun);

    // The key-bound page's first call binds its session to its key, as a page's does, before anything is timed.
    const bound = await load.ask<number>({ kind: 'bind-page', page: boundPage('fresh'), url: routeUrl(started.baseUrl, 'bound') } satisfies BindPage);
    if (bound !== 200) throw new Error(`the key-bound page's first call was answered ${bound}`);

    ctx.log('figure 1: warm-up');
    for (const route of ROUTES) await run(route, 1);
    const byRound: Record<Route, LoadResult>[] = [];
    for (let round = 0; round < rounds; round++) {
      // Each round starts with the next route, so no route always runs first or last.
      const order = ROUTES.map((_, i) => ROUTES[(i + round) % ROUTES.length]);
      const results = {} as Record<Route, LoadResult>;
      for (const route of order) results[route] = await run(route, seconds);
      byRound.push(results);
      ctx.log(`figure 1: round ${round + 1}/${rounds}: ${ROUTES.map((r) => `${r} ${results[r].rps.toFixed(0)}/s`).join(', ')}`);
    }
    const failed = byRound.reduce((sum, r) => sum + ROUTES.reduce((s, route) => s + r[route].failed, 0), 0);
    const rps = (route: Route) => median(byRound.map((r) => r[route].rps));
    const guardOverPlain = byRound.map((r) => r.guard.rps / r.plain.rps);
    const guardOverAce = byRound.map((r) => r.guard.rps / r.ace.rps);
    const forgeOverPlain = byRound.map((r) => r.forge.rps / r['forge-plain'].rps);
    const forgeOverAce = byRound.map((r) => r.forge.rps / r['ace-forge'].rps);
    const rotationOverPlain = byRound.map((r) => r.rotating.rps / r['rotating-plain'].rps);
    const bindingOverPlain = byRound.map((r) => r.bound.rps / r['bound-plain'].rps);
    // What verifying the FIT adds to a call: the Forge guard's time per request less the Connect guard's (both cache hits).
    const fitMicros = byRound.map((r) => 1e6 / r.forge.rps - 1e6 / r.guard.rps - (1e6 / r['forge-plain'].rps - 1e6 / r.plain.rps));
    // The same for the key-bound guard: what verifying the call's proof adds.
    const proofMicros = byRound.map((r) => 1e6 / r.bound.rps - 1e6 / r.guard.rps - (1e6 / r['bound-plain'].rps - 1e6 / r.plain.rps));
    const rotations = byRound.map((r) => r.rotating.rotations);
    const how = `${rounds} interleaved rounds of ${seconds} s, ${CONNECTIONS} connections`;
    const { afterSeconds, graceSeconds } = started.rotation;
    const measurements: Measurement[] = [
      ...ROUTES.map((route) => ({
        figure: '1',
        name: LABEL[route],
        value: rps(route),
        unit: 'req/s',
        note: `median of ${how}; p99 latency ${median(byRound.map((r) => r[route].latencyP99Ms)).toFixed(1)} ms`,
      })),
      ratioRow('guard / plain', guardOverPlain, 0.95),
      ratioRow('guard / ACE', guardOverAce, 2.5),
      ratioRow('Forge: FIT + guard / plain', forgeOverPlain, 0.8),
      ratioRow("Forge: FIT + guard / ACE's authenticateForge()", forgeOverAce, 3),
      {
        figure: '1',
        name: 'FIT verification per call',
        value: median(fitMicros),
        unit: 'µs',
        note: `server time per request, Forge guard less Connect guard, less what the larger headers cost the plain route; rounds: ${fitMicros.map((v) => v.toFixed(0)).join(', ')}`,
      },
      ratioRow(
        THEFT_RATIOS.rotation,
        rotationOverPlain,
        0.9,
        `the server offers a successor once a token has been current ${afterSeconds} s (ROTATE_AFTER_SECONDS=${afterSeconds}; default 60), grace ${graceSeconds} s; the page switched ${rotations.join(', ')} times in the rounds' runs; against the plain route sent by the same page client`,
      ),
      ratioRow(
        THEFT_RATIOS.keyBinding,
        bindingOverPlain,
        0.7,
        "a second site with keyBinding on, its session bound by one call before timing; every proof made before its run and used once; the page ignores Page-Token-Next (rotation is the row above's); against the plain route sent the same page's headers and proofs",
      ),
      {
        figure: '1',
        name: 'DPoP proof verification per call',
        value: median(proofMicros),
        unit: 'µs',
        note: `server time per request, key-bound guard less guard, less what the larger headers and the page client cost the plain route; rounds: ${proofMicros.map((v) => v.toFixed(0)).join(', ')}`,
      },
      { figure: '1', name: 'failed requests in these runs', value: failed, unit: 'requests', target: { op: '=', value: 0 } },
    ];

    ctx.log(`figure 5: revoking ${REVOKED_USERS} users one after another under load`);
    const underLoad = await load.ask<RevokeUnderLoadResult>({
      kind: 'revoke-under-load',
      baseUrl: started.baseUrl,
      operatorToken: started.operatorToken,
      tokens: started.tokens.map(({ accountId, pageToken }) => ({ accountId, pageToken })),
      revoke: started.tokens.slice(0, REVOKED_USERS).map((t) => t.accountId),
      connections: CONNECTIONS,
      warmupSeconds: ctx.quick ? 1 : 3,
    } satisfies RevokeUnderLoad);
    const revokeMs = distribution(underLoad.revokeMs);
    const context = `${underLoad.requests.toLocaleString('en-US')} requests at ${underLoad.rps.toFixed(0)}/s over ${USERS} users' tokens`;
    measurements.push(
      {
        figure: '5',
        name: 'revoked-token requests served after the revocation returned',
        value: underLoad.servedAfterRevocation,
        unit: 'requests',
        target: { op: '=', value: 0 },
        note: `of ${underLoad.sentAfterRevocation.toLocaleString('en-US')} sent after it; ${context}`,
      },
      {
        figure: '5',
        name: 'live tokens refused',
        value: underLoad.liveRefused,
        unit: 'requests',
        target: { op: '=', value: 0 },
        note: `${REVOKED_USERS} revocations, each call p50 ${revokeMs.p50.toFixed(1)} ms, p99 ${revokeMs.p99.toFixed(1)} ms`,
      },
    );
    return {
      measurements,
      samples: { 'revoke a user under load (ms)': underLoad.revokeMs },
      details: { rounds: byRound, connections: CONNECTIONS, seconds, underLoad: { ...underLoad, revokeMs: undefined } },
    };
  } finally {
    await load?.close();
    await server.ask({ kind: 'stop' }).catch(() => undefined);
    await server.close();
    if (ctx.profileDir !== undefined) reportProfile(ctx, ctx.profileDir);
  }
}

/** A throughput ratio's row: the median of its per-round ratios, against the least it must be. */
function ratioRow(name: string, perRound: number[], atLeast: number, how?: string): Measurement {
  return {
    figure: '1',
    name,
    value: median(perRound),
    unit: 'x',
    target: { op: '>=', value: atLeast },
    note: `median of per-round ratios: ${perRound.map((v) => v.toFixed(2)).join(', ')}${how === undefined ? '' : `; ${how}`}`,
  };
}

/** The server's profile, read back: where a guarded request's time goes (the main thread's profile is the largest). */
function reportProfile(ctx: BenchContext, dir: string): void {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  if (files.length === 0) return;
  const summary = summarizeProfile(files[0], 15, [
    'allowlist.ts',
    'page-token.ts',
    'guard.ts',
    'entry-cache.ts',
    'metrics.ts',
    'rotation.ts',
    'proof-of-possession.ts',
    'checkValidToken',
    'authentication.js',
  ]);
  const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `CPU profile ${files[0]} (${(summary.totalMs / 1000).toFixed(1)} s sampled; every route and figure 5)`,
    'self time:',
    ...summary.self.map((l) => `  ${pct(l.self)}  ${l.where}`),
    'inclusive time of the checks:',
    ...summary.focused.slice(0, 15).map((l) => `  ${pct(l.inclusive)}  ${l.where}`),
  ];
  writeFileSync(path.join(dir, 'summary.txt'), `${lines.join('\n')}\n`);
  ctx.log(lines.join('\n'));
}
