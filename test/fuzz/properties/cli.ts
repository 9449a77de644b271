/** The operator CLI's command line, parsed in-process: valid command lines mean what they say, anything else is a usage mistake. */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { AUDIT_KINDS } from '../../../src/allowlist/types';
import { parseCommandLine, type OperatorCommand, type ParsedCommandLine } from '../../../src/cli/command-line';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../../../src/cli/options';
import { SOURCE_LABEL } from '../../../src/signals/leaks';
import { violated } from '../oracle';
import { Tally, type FuzzProperty } from '../property';

/** Commander writes help and errors here instead of the terminal. */
const SILENT = { writeOut: () => {}, writeErr: () => {}, outputError: () => {} };

const word = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.startsWith('-'));
const limit = fc.integer({ min: 1, max: MAX_LIMIT });
/** ISO 8601 times the CLI documents, and epoch milliseconds. */
const since = fc.oneof(
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }).map((ms) => ({ text: String(ms), value: ms })),
  fc.date({ min: new Date(Date.UTC(1970, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }).chain((date) =>
    fc.constantFrom(
      { text: date.toISOString(), value: date.getTime() },
      { text: date.toISOString().slice(0, 10), value: Date.parse(date.toISOString().slice(0, 10)) },
      { text: `${date.toISOString().slice(0, 19)}Z`, value: Math.floor(date.getTime() / 1000) * 1000 },
    ),
  ),
);

type Flag = [name: string, value: string | null];

/** A leak report's source label. */
const source = fc.stringMatching(SOURCE_LABEL);

/**
 * A valid command, and the flags that say it, which any order and either `--opt v` or `--opt=v` must parse back to
 * it; `operands` follow the command's name.
 */
const validCommand: fc.Arbitrary<{ command: OperatorCommand; flags: Flag[]; operands?: string[] }> = fc.oneof(
  fc.record({ tenant: word, user: fc.option(word, { nil: undefined }), resource: fc.option(word, { nil: undefined }), limit: fc.option(limit, { nil: undefined }), json: fc.boolean() }).map((o) => ({
    command: { name: 'sessions list' as const, options: strip({ tenant: o.tenant, user: o.user, resource: o.resource, limit: o.limit ?? DEFAULT_LIMIT, json: o.json || undefined }) },
    flags: present([['--tenant', o.tenant], ['--user', o.user], ['--resource', o.resource], ['--limit', o.limit === undefined ? undefined : String(o.limit)], ['--json', o.json ? null : undefined]]),
  })),
  fc.record({ tenant: word, user: word }).map((o) => ({
    command: { name: 'sessions revoke' as const, options: { tenant: o.tenant, user: o.user } },
    flags: present([['--tenant', o.tenant], ['--user', o.user]]),
  })),
  fc.record({ tenant: word, yes: fc.boolean() }).map((o) => ({
    command: { name: 'sessions reset' as const, options: strip({ tenant: o.tenant, yes: o.yes || undefined }) },
    flags: present([['--tenant', o.tenant], ['--yes', o.yes ? null : undefined]]),
  })),
  fc.record({ tenant: word, kind: fc.option(fc.constantFrom(...AUDIT_KINDS), { nil: undefined }), user: fc.option(word, { nil: undefined }), since: fc.option(since, { nil: undefined }), limit: fc.option(limit, { nil: undefined }), json: fc.boolean() }).map((o) => ({
    command: { name: 'audit' as const, options: strip({ tenant: o.tenant, kind: o.kind, user: o.user, since: o.since?.value, limit: o.limit ?? DEFAULT_LIMIT, json: o.json || undefined }) },
    flags: present([['--tenant', o.tenant], ['--kind', o.kind], ['--user', o.user], ['--since', o.since?.text], ['--limit', o.limit === undefined ? undefined : String(o.limit)], ['--json', o.json ? null : undefined]]),
  })),
  fc.record({ file: word, source, site: fc.option(word, { nil: undefined }), json: fc.boolean(), stats: fc.boolean() }).map((o) => ({
    command: { name: 'intel ingest' as const, options: strip({ file: o.file, source: o.source, site: o.site, json: o.json || undefined, stats: o.stats || undefined }) },
    flags: present([['--source', o.source], ['--site', o.site], ['--json', o.json ? null : undefined], ['--stats', o.stats ? null : undefined]]),
    operands: [o.file],
  })),
);

function strip<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as T;
}

function present(flags: [string, string | null | undefined][]): Flag[] {
  return flags.filter((f): f is Flag => f[1] !== undefined);
}

const rendered = validCommand.chain(({ command, flags, operands = [] }) =>
  fc.tuple(fc.shuffledSubarray(flags, { minLength: flags.length, maxLength: flags.length }), fc.array(fc.boolean(), { minLength: flags.length, maxLength: flags.length })).map(([order, joined]) => ({
    command,
    args: [...command.name.split(' '), ...operands, ...order.flatMap(([name, value], i) => (value === null ? [name] : joined[i] ? [`${name}=${value}`] : [name, value]))],
  })),
);

/** Anything a hand could type: real words in any order, near-misses, and junk. */
const anyArgs = fc.array(
  fc.oneof(
    fc.constantFrom('sessions', 'list', 'revoke', 'reset', 'audit', 'intel', 'ingest', 'help', '--help', '-h', '--version', '--tenant', '--user', '--resource', '--limit', '--since', '--kind', '--json', '--yes', '--source', '--site', '--stats', '--', '-', '--limit=', '--since=', '--tenant=', '--source='),
    fc.constantFrom('0', '1', '1000', '1001', '-1', '1e3', '0x10', '01', ' 5', '5 ', '2026-01-31', '2026-02-30', '2026-01-31T12:00:00Z', '2026-01-31T25:00:00Z', '9007199254740993', 'NaN', 'Infinity', 'mint', 'MINT', 'deny', 'x'.repeat(300)),
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 10 }),
  ),
  { maxLength: 10 },
);

/** A valid command line with one value swapped for a near miss or junk: it must be refused or still parse to valid values. */
const nearValid = fc.tuple(rendered, fc.nat(), fc.constantFrom('0', '-1', '1001', '1e3', '1.5', ' 5', '', '--json', 'x', '2026-02-30', '-5', '99999999999999999999', 'MINT', 'none')).map(([r, at, junk]) => {
  const args = [...r.args];
  const values = args.map((a, i) => i).filter((i) => i >= 2 && !args[i].startsWith('--'));
  if (values.length > 0) args[values[at % values.length]] = junk;
  return args;
});

function checkShape(parsed: ParsedCommandLine, args: string[]): void {
  if (!parsed.ok) {
    if (parsed.exitCode !== 0 && parsed.exitCode !== 2) violated(`exit code ${String(parsed.exitCode)} for ${JSON.stringify(args)}`);
    return;
  }
  const { command } = parsed;
  const o = command.options as unknown as Record<string, unknown>;
  const bad = (what: string) => violated(`${command.name} parsed ${JSON.stringify(args)} to ${what}: ${JSON.stringify(o)}`);
  if (command.name === 'intel ingest') {
    if (typeof o.file !== 'string') bad('no file');
    if (typeof o.source !== 'string' || !SOURCE_LABEL.test(o.source)) bad('a source that is not a label');
    if (o.site !== undefined && typeof o.site !== 'string') bad('a site that is not a string');
  } else if (typeof o.tenant !== 'string') {
    bad('no tenant');
  }
  if ('limit' in o && !(Number.isInteger(o.limit) && (o.limit as number) >= 1 && (o.limit as number) <= MAX_LIMIT)) bad('a limit out of range');
  if (o.since !== undefined && !(Number.isSafeInteger(o.since) && (o.since as number) >= 0)) bad('a time that is not epoch ms');
  if (o.kind !== undefined && !AUDIT_KINDS.includes(o.kind as never)) bad('an unknown kind');
  if (command.name === 'sessions revoke' && typeof o.user !== 'string') bad('no user');
  for (const flag of ['json', 'yes', 'stats']) if (o[flag] !== undefined && o[flag] !== true) bad(`--${flag} that is not a switch`);
}

export const cliOptions: FuzzProperty = {
  name: 'operator CLI: command lines',
  claim: 'a valid command line parses back to exactly its command and options, in any order and either --opt v or --opt=v; any other parses to a well-typed command or exit 0/2, and the parser never throws or exits',
  async open() {
    const tally = new Tally();
    const property = fc.property(fc.oneof(rendered.map((r) => ({ ...r, valid: true })), nearValid.map((args) => ({ args, command: null, valid: false })), anyArgs.map((args) => ({ args, command: null, valid: false }))), (input) => {
      const parsed = parseCommandLine(input.args, SILENT);
      tally.add(parsed.ok ? `ok: ${parsed.command.name}` : `exit ${parsed.exitCode}`);
      checkShape(parsed, input.args);
      if (input.valid && !(parsed.ok && isDeepStrictEqual(parsed.command, input.command))) {
        violated(`${JSON.stringify(input.args)} parsed to ${JSON.stringify(parsed)}, not ${JSON.stringify(input.command)}`);
      }
    });
    return { property, tally };
  },
};
