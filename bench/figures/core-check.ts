/**
 * Figure 2: the core's check, in-process, per call: on a cache hit (no store involved), and on a cache miss
 * served by SQLite and by PostgreSQL. Rounds interleave the stores so a noisy moment hits both alike.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Allowlist } from '../../src/allowlist/allowlist';
import { systemClock } from '../../src/base/clock';
import { issueResource } from '../../src/allowlist/resource';
import { openCore, type AppStore, type OpenedCore } from '../../src/app/app';
import { loadConfig } from '../../src/app/config';
import { createLogger } from '../../src/observability/logger';
import { openSequelizeStore } from '../../src/store/sequelize-store';
import { createTestDatabase, probe, type TestDatabase } from '../../test/support/services';
import type { BenchContext, FigureResult, Measurement } from '../lib/report';
import { distribution, median } from '../lib/stats';

const CLIENT_KEY = 'bench-core-check';
const TARGET = issueResource('10001', '10000');

interface Subject {
  name: 'sqlite' | 'postgres';
  store: AppStore;
  opened: OpenedCore;
  tokens: { token: string; idHash: string }[];
  database?: TestDatabase;
}

async function openSubject(ctx: BenchContext, name: Subject['name'], url: string, tokens: number): Promise<Subject> {
  const store = await openSequelizeStore(url);
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: ctx.scratchDir, PAGE_TOKEN_SECRET: randomBytes(32).toString('base64url') });
  const opened = openCore(config, { store, clock: systemClock, logger: createLogger('warn'), appKey: 'panelguard-bench' });
  await opened.core.tenants.installed(CLIENT_KEY, 'https://bench.example.net', { sharedSecretChanged: false });
  const minted = [];
  for (let i = 0; i < tokens; i++) {
    const result = await opened.core.allowlist.mint({
      clientKey: CLIENT_KEY,
      accountId: `557058:user-${i}`,
      target: TARGET,
      connectIssuedAt: Date.now(),
      ip: '127.0.0.1',
      userAgent: 'bench',
    });
    if (!result.ok) throw new Error(`mint failed: ${result.code}`);
    minted.push({ token: result.value.token, idHash: result.value.entry.idHash });
  }
  return { name, store, opened, tokens: minted };
}

async function closeSubject(subject: Subject): Promise<void> {
  await subject.opened.close();
  await subject.store.close();
  await subject.database?.drop();
}

async function expectOk(allowlist: Allowlist, token: string): Promise<void> {
  const result = await allowlist.check(token, TARGET.resource);
  if (!result.ok) throw new Error(`check refused a live token: ${result.code}`);
}

/** Mean µs per call over `calls` checks of one cached token, timed as a batch (a per-call clock read would cost as much as the call). */
async function hitRound(allowlist: Allowlist, token: string, calls: number): Promise<number> {
  await expectOk(allowlist, token);
  let refused = 0;
  const started = performance.now();
  for (let i = 0; i < calls; i++) {
    const result = await allowlist.check(token, TARGET.resource);
    if (!result.ok) refused++;
  }
  const micros = ((performance.now() - started) * 1000) / calls;
  if (refused > 0) throw new Error(`${refused} cache-hit checks were refused`);
  return micros;
}

/** Per-call ms of checks that find nothing cached: each token is forgotten (outside the timing) before its check. */
async function missRound(subject: Subject): Promise<number[]> {
  const { allowlist } = subject.opened.core;
  const samples: number[] = [];
  for (const { token, idHash } of subject.tokens) {
    subject.opened.core.states.forget({ kind: 'token', idHash });
    const started = performance.now();
    const result = await allowlist.check(token, TARGET.resource);
    samples.push(performance.now() - started);
    if (!result.ok) throw new Error(`cache-miss check refused a live token: ${result.code}`);
  }
  return samples;
}

export async function runCoreCheck(ctx: BenchContext): Promise<FigureResult> {
  const rounds = ctx.quick ? 3 : 7;
  const hitCalls = ctx.quick ? 20_000 : 100_000;
  const missTokens = ctx.quick ? 200 : 1_000;
  const subjects: Subject[] = [];
  const skipped = [];
  try {
    ctx.log(`figure 2: minting ${missTokens} tokens on SQLite`);
    subjects.push(await openSubject(ctx, 'sqlite', `sqlite:${path.join(ctx.scratchDir, 'core-check.db')}`, missTokens));
    const problem = await probe('postgres');
    if (problem === null) {
      ctx.log(`figure 2: minting ${missTokens} tokens on PostgreSQL`);
      const database = await createTestDatabase();
      try {
        subjects.push({ ...(await openSubject(ctx, 'postgres', database.url, missTokens)), database });
      } catch (error) {
        await database.drop();
        throw error;
      }
    } else {
      skipped.push({ figure: '2 postgres', reason: problem });
    }

    const hit: number[] = [];
    const miss = new Map<Subject['name'], number[][]>(subjects.map((s) => [s.name, []]));
    // Warm-up: JIT, key derivation, prepared paths; not counted.
    await hitRound(subjects[0].opened.core.allowlist, subjects[0].tokens[0].token, hitCalls / 10);
    for (const subject of subjects) await missRound(subject);
    for (let round = 0; round < rounds; round++) {
      ctx.log(`figure 2: round ${round + 1}/${rounds}`);
      hit.push(await hitRound(subjects[0].opened.core.allowlist, subjects[0].tokens[round % subjects[0].tokens.length].token, hitCalls));
      for (const subject of round % 2 === 0 ? subjects : [...subjects].reverse()) miss.get(subject.name)!.push(await missRound(subject));
    }

    const measurements: Measurement[] = [
      {
        figure: '2',
        name: 'check, cache hit',
        value: median(hit),
        unit: 'µs',
        target: { op: '<=', value: 15 },
        note: `median of ${rounds} rounds of ${hitCalls.toLocaleString('en-US')} calls (rounds: ${hit.map((v) => v.toFixed(1)).join(', ')})`,
      },
    ];
    const samples: Record<string, number[]> = {};
    const details: Record<string, unknown> = { hitMicrosByRound: hit };
    for (const [name, perRound] of miss) {
      const all = perRound.flat();
      const d = distribution(all);
      const label = name === 'sqlite' ? 'SQLite' : 'PostgreSQL';
      measurements.push(
        { figure: '2', name: `check, cache miss, ${label}, p50`, value: d.p50 * 1000, unit: 'µs', note: `n=${d.count} over ${rounds} rounds` },
        { figure: '2', name: `check, cache miss, ${label}, p99`, value: d.p99 * 1000, unit: 'µs', note: `max ${(d.max * 1000).toFixed(0)} µs` },
      );
      details[`miss ${name}`] = { ...d, medianByRound: perRound.map((r) => median(r)) };
    }
    return { measurements, samples, skipped, details };
  } finally {
    for (const subject of subjects) await closeSubject(subject);
  }
}
