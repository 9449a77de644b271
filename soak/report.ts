/** The soak's report: tables for a terminal, and the JSON kept in soak/results/. */
import { alignColumns } from '../bench/lib/table';
import { distribution } from '../bench/lib/stats';
import type { Answer } from './ledger';
import { COUNT_NAMES, type OracleCounts } from './oracle';
import { FAULT_KINDS } from './faults';
import type { SoakResult } from './soak';

const STATUS_COLUMNS = ['2xx', '401', '403', '404', '4xx', '502', '503', '5xx', 'none'] as const;
type StatusColumn = (typeof STATUS_COLUMNS)[number];

function columnOf(answer: Answer): StatusColumn {
  const status = answer.status;
  if (status === null) return 'none';
  if (status < 300) return '2xx';
  if (status === 401 || status === 403 || status === 404 || status === 502 || status === 503) return String(status) as StatusColumn;
  return status < 500 ? '4xx' : '5xx';
}

function statusRow(name: string, answers: readonly Answer[]): string[] {
  const counts = new Map<StatusColumn, number>();
  for (const answer of answers) counts.set(columnOf(answer), (counts.get(columnOf(answer)) ?? 0) + 1);
  return [name, String(answers.length), ...STATUS_COLUMNS.map((column) => String(counts.get(column) ?? 0))];
}

const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)} ms` : 'n/a');
const seconds = (value: number) => `${value.toFixed(1)} s`;

export function totalViolations(counts: OracleCounts): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

export function renderReport(result: SoakResult): string {
  const { ledger, verdict, options } = result;
  const out: string[] = [];
  out.push(
    `PanelGuard soak: ${seconds(result.seconds)} on the ${options.bus} bus, 3 nodes, ${options.users} users, seed ${options.seed}, ` +
      `CACHE_TTL_SECONDS ${options.cacheTtlSeconds}, started ${result.startedAt}`,
    '',
  );

  const uses = (kind: string) => ledger.uses.filter((use) => use.kind === kind);
  out.push(
    alignColumns(
      ['requests', 'total', ...STATUS_COLUMNS],
      [
        statusRow('API calls (load)', uses('load')),
        statusRow('API calls (warm-up)', uses('warm')),
        statusRow('API calls (probes)', uses('probe')),
        statusRow('page renders (mints)', ledger.mints),
        statusRow('revocation attempts', ledger.revocations),
        statusRow('reactivation attempts', ledger.lifts),
        statusRow('final re-checks', ledger.finalChecks),
      ],
      { rightAligned: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] },
    ),
    '',
  );

  out.push(
    alignColumns(
      ['faults injected', 'count', 'total time', 'longest'],
      FAULT_KINDS.map((kind) => {
        const faults = ledger.faults.filter((fault) => fault.kind === kind);
        const durations = faults.map((fault) => (fault.to ?? fault.from) - fault.from);
        return [kindName(kind), String(faults.length), seconds(durations.reduce((a, b) => a + b, 0) / 1000), seconds(Math.max(0, ...durations) / 1000)];
      }),
      { rightAligned: [1, 2, 3] },
    ),
    '',
  );

  out.push(alignColumns(['revocations', 'started', '2xx', 'n=m', 'n<m', 'no header', 'latency p50', 'p99'], revocationRows(result), { rightAligned: [1, 2, 3, 4, 5, 6, 7] }), '');

  const allowed = verdict.allowed;
  out.push(
    alignColumns(
      ['oracle (each must be 0)', 'count'],
      (Object.keys(COUNT_NAMES) as (keyof OracleCounts)[]).map((key) => [COUNT_NAMES[key], String(verdict.counts[key])]),
      { rightAligned: [1] },
    ),
    '',
    `Tokens minted ${ledger.tokens.length}, ended by a 2xx revocation ${verdict.revokedTokens}. Allowed by the contract, not counted: ` +
      `${allowed.staleServesWithinBound} revoked tokens served within the n<m staleness bound, ${allowed.refusalsDuringRevocation} refusals of tokens a revocation ` +
      `had reached or might have, ${allowed.storeUnavailable} answers 503 store_unavailable, ${allowed.nodeDownErrors} 502s or no answers while a node was down.`,
  );
  if (result.revocations.abandoned > 0) out.push(`${result.revocations.abandoned} revocations or reactivations never answered 2xx within the retry bound.`);
  for (const key of Object.keys(COUNT_NAMES) as (keyof OracleCounts)[]) {
    if (verdict.examples[key].length === 0) continue;
    out.push('', `${COUNT_NAMES[key]}, first cases:`, ...verdict.examples[key].map((example) => `  - ${example}`));
  }
  return out.join('\n');
}

function kindName(kind: string): string {
  return { node_kill: 'node SIGKILL and restart', bus_cut: 'bus link cut', store_cut: 'PostgreSQL link cut' }[kind] ?? kind;
}

function revocationRows(result: SoakResult): string[][] {
  const { ledger, revocations } = result;
  const kinds = ['user_deleted', 'user_deactivated', 'admin_user_sessions', 'issue_deleted'] as const;
  const rows = kinds.map((kind) => {
    const attempts = ledger.revocations.filter((r) => r.kind === kind);
    const ok = attempts.filter((r) => r.status !== null && r.status < 300);
    const full = ok.filter((r) => r.confirmation !== null && r.confirmation.confirmed >= r.confirmation.expected).length;
    const partial = ok.filter((r) => r.confirmation !== null && r.confirmation.confirmed < r.confirmation.expected).length;
    const latency = distribution(ok.map((r) => r.answeredAt - r.sentAt));
    return [kind, String(revocations.started[kind]), String(ok.length), String(full), String(partial), String(ok.length - full - partial), ms(latency.p50), ms(latency.p99)];
  });
  const lifts = ledger.lifts.filter((l) => l.status !== null && l.status < 300);
  const latency = distribution(lifts.map((l) => l.answeredAt - l.sentAt));
  rows.push(['reactivation', String(revocations.started.reactivation), String(lifts.length), '', '', '', ms(latency.p50), ms(latency.p99)]);
  return rows;
}

/** What soak/results/*.json keeps: the settings, the tables' numbers and the verdict; not every request. */
export function resultJson(result: SoakResult): object {
  const { ledger, verdict } = result;
  const count = (answers: readonly Answer[]) => {
    const byColumn: Record<string, number> = {};
    for (const answer of answers) byColumn[columnOf(answer)] = (byColumn[columnOf(answer)] ?? 0) + 1;
    return { total: answers.length, ...byColumn };
  };
  return {
    startedAt: result.startedAt,
    seconds: Math.round(result.seconds),
    options: result.options,
    oracleSettings: result.oracle,
    requests: {
      api: count(ledger.uses),
      apiByKind: Object.fromEntries(['load', 'warm', 'probe'].map((kind) => [kind, count(ledger.uses.filter((use) => use.kind === kind))])),
      renders: count(ledger.mints),
      revocations: count(ledger.revocations),
      reactivations: count(ledger.lifts),
      finalChecks: count(ledger.finalChecks),
    },
    apiLatency: distribution(ledger.uses.filter((use) => use.status !== null).map((use) => use.answeredAt - use.sentAt)),
    faults: Object.fromEntries(FAULT_KINDS.map((kind) => [kind, ledger.faults.filter((fault) => fault.kind === kind).length])),
    nodeStartFailures: ledger.exits.filter((exit) => exit.duringStartWithoutStore).length,
    revocations: Object.fromEntries(revocationRows(result).map(([kind, started, ok, full, partial, none, p50, p99]) => [kind, { started, ok, full, partial, none, p50, p99 }])),
    tokens: { minted: ledger.tokens.length, revoked: verdict.revokedTokens },
    oracle: verdict.counts,
    allowed: verdict.allowed,
    examples: verdict.examples,
    violations: totalViolations(verdict.counts),
  };
}
