/**
 * A large leak file through `panelguard intel ingest` in a child process: LEAK_FILE_LINES lines (1,000,000 unless
 * said: the size the operator CLI promises to stream in bounded memory), mostly hashes nobody has and lines that are no report, with a few real
 * page tokens among them. The counts must be exact, and memory bounded whatever the file's size.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { expect } from 'chai';
import { systemClock } from '../../src/base/clock';
import type { AllowlistEntry } from '../../src/allowlist/types';
import { openSequelizeStore } from '../../src/store/sequelize-store';
import { hashTokenId } from '../../src/tokens/hash';
import { createPageTokenCodec } from '../../src/tokens/page-token';
import { runCli, type CliRun } from '../support/cli-process';

const LINES = Number(process.env.LEAK_FILE_LINES ?? 1_000_000);
const SITE = 'leak-file-site';
const SECRET = 'leak-file-test-secret-of-at-least-32-characters';
const MINUTE = 60_000;

/**
 * V8 grows its heap lazily, up to a limit set from the machine's memory, so a process's RSS alone says little about
 * what it holds. The CLI runs with its old space capped: a file held whole, or anything kept per line, would
 * exhaust it (a million report lines as strings are over 100 MB) and fail the run, while the reader's batches fit.
 */
const HEAP_MB = 96;
/** The peak RSS allowed at any file size: Node, the app's modules and the capped heap. Measured: about 160 MB. */
const MAX_RSS_KIB = 256 * 1024;

describe(`a leak file of ${LINES.toLocaleString('en')} lines`, function () {
  this.timeout(Math.max(60_000, LINES / 5));
  let dir: string;

  before(function () {
    if (!Number.isSafeInteger(LINES) || LINES < 10_000) throw new Error('LEAK_FILE_LINES must be a whole number of at least 10,000');
    dir = mkdtempSync(path.join(tmpdir(), 'panelguard-leak-file-'));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is read in bounded memory, and every report counted under what it found', async () => {
    const databaseUrl = `sqlite:${path.join(dir, 'panelguard.sqlite')}`;
    const codec = createPageTokenCodec({ secret: SECRET, appKey: 'panelguard', clock: systemClock, isTenant: async () => true });
    const now = Date.now();
    // Three users' live sessions, two of them Alice's, one of them leaked only by its hash; and a session long expired.
    const sessions = [
      { accountId: '557058:alice', expiresAt: now + 10 * MINUTE },
      { accountId: '557058:alice', expiresAt: now + 10 * MINUTE },
      { accountId: '557058:bob', expiresAt: now + 10 * MINUTE },
      { accountId: '557058:carol', expiresAt: now + 10 * MINUTE },
      { accountId: '557058:dave', expiresAt: now - MINUTE },
    ].map(({ accountId, expiresAt }) => {
      const issued = codec.issue({ clientKey: SITE, accountId, resource: 'jira:issue:10001', ttlSeconds: 600 });
      const entry: AllowlistEntry = {
        idHash: hashTokenId(issued.claims.jti),
        clientKey: SITE,
        accountId,
        resource: 'jira:issue:10001',
        parent: null,
        createdAt: expiresAt - 10 * MINUTE,
        expiresAt,
        lastSeenAt: expiresAt - 10 * MINUTE,
        ip: null,
        userAgent: null,
        revokedAt: null,
        revokeReason: null,
        chain: null,
        boundKey: null,
      };
      return { token: issued.token, entry };
    });
    const store = await openSequelizeStore(databaseUrl);
    try {
      await store.putTenant({ clientKey: SITE, baseUrl: 'https://leak-file.atlassian.net', status: 'enabled', updatedAt: now });
      for (const { entry } of sessions) await store.insertEntry(entry);
    } finally {
      await store.close();
    }

    // Every tenth line is no report at all; one line is longer than any report; the sessions' tokens are spread out.
    const leaked = [sessions[0].token, JSON.stringify({ token: sessions[1].token }), sessions[2].token, sessions[3].entry.idHash.toUpperCase(), sessions[4].token];
    const at = new Map(leaked.map((line, i) => [Math.floor(((i + 1) * LINES) / (leaked.length + 1)), line]));
    const file = path.join(dir, 'leaks.txt');
    const out = createWriteStream(file);
    const expected = { reports: 0, matched: 0, alreadyRevoked: 0, expired: 0, unknown: 0, malformed: 0, users: 0 };
    for (let i = 0; i < LINES; i += 1) {
      let line: string;
      if (at.has(i)) {
        line = at.get(i) as string;
      } else if (i === 1) {
        line = 'x'.repeat(64 * 1024);
        expected.malformed += 1;
      } else if (i % 10 === 0) {
        line = i % 20 === 0 ? `password-${i}` : JSON.stringify({ hash: `not-a-hash-${i}` });
        expected.malformed += 1;
      } else if (i % 1000 === 999) {
        line = i % 2000 === 999 ? '' : `# batch ${i}`;
      } else {
        line = createHash('sha256').update(`unknown-${i}`).digest('hex');
        expected.unknown += 1;
      }
      if (!out.write(`${line}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    Object.assign(expected, { matched: 4, expired: 1, users: 3 });
    expected.reports = expected.matched + expected.expired + expected.unknown + expected.malformed;

    const run = await cliRun(['intel', 'ingest', file, '--source', 'breach-feed', '--json', '--stats'], {
      DATA_DIR: dir,
      DATABASE_URL: databaseUrl,
      PAGE_TOKEN_SECRET: SECRET,
      LOG_LEVEL: 'warn',
    });
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout)).to.deep.equal({ source: 'breach-feed', ...expected });
    const stats = /stats: (\d+) reports in ([\d.]+) s, max RSS (\d+) KiB/.exec(run.stderr);
    if (stats === null) throw new Error(`no stats in: ${run.stderr}`);
    const [seconds, maxRssKib] = [Number(stats[2]), Number(stats[3])];
    console.log(`      ${LINES.toLocaleString('en')} lines (${(statSync(file).size / 1e6).toFixed(1)} MB): ${seconds} s, max RSS ${(maxRssKib / 1024).toFixed(0)} MiB`);
    expect(maxRssKib).to.be.below(MAX_RSS_KIB);
    for (const leak of leaked) expect(run.stdout + run.stderr).not.to.contain(leak);
  });
});

function cliRun(args: string[], env: Record<string, string>): Promise<CliRun> {
  return runCli(args, env, [`--max-old-space-size=${HEAP_MB}`]);
}
