/**
 * `panelguard intel ingest FILE`: a file of leak reports streamed through the core in batches, in bounded memory
 * whatever its size, with its progress on stderr and its counts on stdout.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import { systemClock } from '../base/clock';
import { ok, type Settled } from '../base/result';
import type { Config } from '../app/config';
import { MALFORMED_REPORT, MAX_REPORT_CHARS, readReportLine, type LeakReport } from '../signals/leak-reports';
import { LEAK_BATCH, startLeakRun, type LeakCounts, type LeakRun } from '../signals/leaks';
import type { IngestOptions } from './command-line';
import { LINE_TOO_LONG, readLines } from './lines';
import { joinCluster, note, withCore, withStore } from './operator';

/** Without a terminal, a line on stderr this often says how far the file is. */
const PROGRESS_EVERY_MS = 5_000;

/** Longest line held, in bytes: MAX_REPORT_CHARS characters of up to four bytes each; a longer one is malformed unread. */
const MAX_LINE_BYTES = 4 * MAX_REPORT_CHARS;

/** 0: the whole file was read and acted on; 1: it could not be, the site is unknown, or the store failed part way. */
export async function ingestLeaks(config: Config, options: IngestOptions): Promise<0 | 1> {
  const started = performance.now();
  let size: number;
  try {
    size = (await stat(options.file)).size;
  } catch (error) {
    note(`cannot read ${options.file}: ${codeOf(error)}`);
    return 1;
  }
  // The store itself only for the leak lookup, a signal's own role, as the server wires it.
  return withStore(config, (store) =>
    withCore(config, store, async ({ core, bus }) => {
      if (options.site !== undefined) {
        const known = await core.tenantKnown(options.site);
        if (!known.ok) {
          note('failed: the store is unavailable');
          return 1;
        }
        if (!known.value) {
          note(`no such tenant: ${options.site}`);
          return 1;
        }
      }
      await joinCluster(bus, config);
      const run = startLeakRun({ lookup: store, allowlist: core.allowlist, clock: systemClock, onStoreFailure: core.onStoreFailure }, { source: options.source, site: options.site ?? null });
      const file = createReadStream(options.file);
      const progress = showProgress(file, size);
      let failure: unknown = null;
      let storeFailed = false;
      try {
        storeFailed = !(await feed(run, file, progress.update)).ok;
      } catch (error) {
        failure = error;
      } finally {
        file.destroy();
        progress.stop(run.counts());
      }
      const counts = run.counts();
      await print(options.json ? `${JSON.stringify({ source: options.source, ...counts })}\n` : countsText(counts));
      if (options.stats) {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        // maxRSS is in KiB on Linux and macOS: the most memory the process ever held, the file's reading included.
        note(`stats: ${counts.reports} reports in ${seconds} s, max RSS ${process.resourceUsage().maxRSS} KiB`);
      }
      if (failure === null && !storeFailed) return 0;
      // A store failure's detail was logged above, as the core reports it.
      const why = storeFailed ? 'the store failed' : isFileError(failure) ? `reading ${options.file} failed: ${codeOf(failure)}` : `failed: ${codeOf(failure)}`;
      note(`stopped after ${counts.reports} reports: ${why}`);
      note('what was ended stays ended; run it again to finish: reports already acted on count as already revoked');
      return 1;
    }),
  );
}

/**
 * Reads the file's reports into batches of LEAK_BATCH, each matched and acted on before the next is read; stops at
 * the first batch the store failed. Rejects when the file cannot be read.
 */
async function feed(run: LeakRun, file: ReadStream, onBatch: (counts: LeakCounts) => void): Promise<Settled<void>> {
  let batch: LeakReport[] = [];
  for await (const line of readLines(file, MAX_LINE_BYTES)) {
    const report = line === LINE_TOO_LONG ? MALFORMED_REPORT : readReportLine(line);
    if (report === null) continue;
    batch.push(report);
    if (batch.length < LEAK_BATCH) continue;
    const applied = await run.apply(batch);
    if (!applied.ok) return applied;
    batch = [];
    onBatch(run.counts());
  }
  return batch.length > 0 ? run.apply(batch) : ok(undefined);
}

interface Progress {
  update(counts: LeakCounts): void;
  stop(counts: LeakCounts): void;
}

/** A bar over the file's bytes on a terminal; otherwise a plain line every PROGRESS_EVERY_MS, for logs. */
function showProgress(file: ReadStream, size: number): Progress {
  const share = () => (size === 0 ? 100 : Math.min(100, Math.floor((file.bytesRead / size) * 100)));
  if (!process.stderr.isTTY) {
    let last = performance.now();
    return {
      update(counts) {
        if (performance.now() - last < PROGRESS_EVERY_MS) return;
        last = performance.now();
        note(`read ${share()}% of the file, ${counts.reports} reports: ${counts.matched} matched, ${counts.users} users' sessions ended`);
      },
      stop() {},
    };
  }
  const bar = new SingleBar({
    stream: process.stderr,
    format: 'ingesting [{bar}] {percentage}% | {reports} reports, {matched} matched, {users} users ended | {duration_formatted}',
    hideCursor: true,
    barsize: 30,
  });
  const fields = (counts: LeakCounts) => ({ reports: counts.reports, matched: counts.matched, users: counts.users });
  bar.start(Math.max(size, 1), 0, fields({ reports: 0, matched: 0, alreadyRevoked: 0, expired: 0, unknown: 0, malformed: 0, users: 0 }));
  return {
    update: (counts) => bar.update(Math.min(file.bytesRead, size), fields(counts)),
    stop(counts) {
      bar.update(Math.min(file.bytesRead, size), fields(counts));
      bar.stop();
    },
  };
}

function countsText(counts: LeakCounts): string {
  const rows: [string, number][] = [
    ['reports', counts.reports],
    ['matched', counts.matched],
    ['already revoked', counts.alreadyRevoked],
    ['expired', counts.expired],
    ['unknown', counts.unknown],
    ['malformed', counts.malformed],
    ['users ended', counts.users],
  ];
  const width = Math.max(...rows.map(([, value]) => String(value).length));
  return rows.map(([label, value]) => `${label.padEnd(16)}${String(value).padStart(width)}\n`).join('');
}

function isFileError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && typeof (error as { syscall?: unknown }).syscall === 'string';
}

/**
 * A failure's code (`ENOENT`) or the database's own message (sequelize wraps it as `original`), never a line of the
 * file, which may hold a live token; statements bind their values, so a database's message quotes none.
 */
function codeOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { code, original } = error as { code?: unknown; original?: unknown };
  if (typeof code === 'string') return code;
  if (original instanceof Error) return original.message;
  return error instanceof Error ? error.message : String(error);
}

/** Resolves once the text is handed to stdout, so exiting right after loses none of it. */
function print(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}
