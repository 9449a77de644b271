/**
 * `panelguard intel ingest` end to end: the real command in a child process, on a SQLite file seeded through the
 * store with sessions whose page tokens the report files carry.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Sequelize } from 'sequelize';
import { systemClock } from '../../src/base/clock';
import type { AllowlistEntry } from '../../src/allowlist/types';
import { openSequelizeStore, type SequelizeStore } from '../../src/store/sequelize-store';
import { hashTokenId } from '../../src/tokens/hash';
import { createPageTokenCodec } from '../../src/tokens/page-token';
import { runCli, type CliRun } from '../support/cli-process';

const SITE = 'intel-site';
const OTHER_SITE = 'intel-other-site';
const ALICE = '557058:alice';
const BOB = '557058:bob';
const CAROL = '557058:carol';
const MINUTE = 60_000;
const SECRET = 'intel-test-secret-of-at-least-32-characters';

type Run = CliRun;

interface Session {
  token: string;
  entry: AllowlistEntry;
}

const codec = createPageTokenCodec({ secret: SECRET, appKey: 'panelguard', clock: systemClock, isTenant: async () => true });

/** A session as the allowlist would have minted it: a signed page token, and its entry under the hash of its jti. */
function aSession(clientKey: string, accountId: string, resource: string, fields: Partial<AllowlistEntry> = {}): Session {
  const issued = codec.issue({ clientKey, accountId, resource, ttlSeconds: 600 });
  const now = Date.now();
  const entry: AllowlistEntry = {
    idHash: hashTokenId(issued.claims.jti),
    clientKey,
    accountId,
    resource,
    parent: null,
    createdAt: now - MINUTE,
    expiresAt: now + 10 * MINUTE,
    lastSeenAt: now - MINUTE,
    ip: '203.0.113.7',
    userAgent: null,
    revokedAt: null,
    revokeReason: null,
    chain: null,
    boundKey: null,
    ...fields,
  };
  return { token: issued.token, entry };
}

/** A session that rotated once: its current token is a successor, known to the store only by the hash of its jti. */
function aRotatedSession(clientKey: string, accountId: string, resource: string): Session {
  const first = aSession(clientKey, accountId, resource);
  const claims = codec.verify(first.token);
  if (claims instanceof Promise || !claims.ok) throw new Error('the first token does not verify');
  const next = codec.succeed({ of: claims.value, session: first.entry.idHash, seq: 1, expiresAt: first.entry.expiresAt });
  const chain = { seq: 1, tokenHash: hashTokenId(next.claims.jti), previousHash: first.entry.idHash, rotatedAt: Date.now(), ip: null, userAgent: null };
  return { token: next.token, entry: { ...first.entry, chain } };
}

const counted = (fields: Record<string, number>) => {
  const counts = { matched: 0, alreadyRevoked: 0, expired: 0, unknown: 0, malformed: 0, users: 0, ...fields };
  return { reports: counts.matched + counts.alreadyRevoked + counts.expired + counts.unknown + counts.malformed, ...counts };
};

describe('panelguard intel ingest', function () {
  this.timeout(30_000);
  let dir: string;
  let databaseUrl: string;
  let sessions: Record<'leaked' | 'alicesOther' | 'bob' | 'alicesElsewhere' | 'carolRotated' | 'carolsOther' | 'expired', Session>;

  function cli(...args: string[]): Promise<Run> {
    return runCli(args, { DATA_DIR: dir, DATABASE_URL: databaseUrl, PAGE_TOKEN_SECRET: SECRET, LOG_LEVEL: 'warn' });
  }

  async function withStore<T>(work: (store: SequelizeStore) => Promise<T>): Promise<T> {
    const store = await openSequelizeStore(databaseUrl);
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  }

  /** Writes a report file of these lines and names it. */
  function reportFile(lines: string[]): string {
    const file = path.join(dir, `reports-${Math.random().toString(36).slice(2)}.txt`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }

  /** Which of the seeded sessions are live now. */
  const live = () =>
    withStore(async (store) => {
      const alive: string[] = [];
      for (const [name, { entry }] of Object.entries(sessions)) {
        const state = await store.loadEntryState(entry.idHash);
        if (state?.entry.revokedAt === null) alive.push(name);
      }
      return alive.sort();
    });

  const json = (run: Run): Record<string, unknown> => {
    expect(run.code, run.stderr).to.equal(0);
    return JSON.parse(run.stdout) as Record<string, unknown>;
  };

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'panelguard-intel-'));
    databaseUrl = `sqlite:${path.join(dir, 'panelguard.sqlite')}`;
    const now = Date.now();
    sessions = {
      leaked: aSession(SITE, ALICE, 'jira:issue:10001'),
      alicesOther: aSession(SITE, ALICE, 'app:self'),
      bob: aSession(SITE, BOB, 'jira:issue:10001'),
      alicesElsewhere: aSession(OTHER_SITE, ALICE, 'jira:issue:10001'),
      carolRotated: aRotatedSession(SITE, CAROL, 'jira:issue:10002'),
      carolsOther: aSession(SITE, CAROL, 'jira:issue:10001'),
      expired: aSession(SITE, '557058:dave', 'jira:issue:10001', { createdAt: now - 20 * MINUTE, expiresAt: now - 10 * MINUTE }),
    };
    await withStore(async (store) => {
      for (const clientKey of [SITE, OTHER_SITE]) await store.putTenant({ clientKey, baseUrl: `https://${clientKey}.atlassian.net`, status: 'enabled', updatedAt: now });
      for (const { entry } of Object.values(sessions)) await store.insertEntry(entry);
    });
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("ends every session of each user a leaked token names, on that session's site, and prints the counts", async () => {
    const file = reportFile([
      '# from the breach feed',
      sessions.leaked.token,
      JSON.stringify({ token: sessions.carolRotated.token }),
      hashTokenId('never-minted'),
      sessions.expired.token,
      'hunter2',
      '',
    ]);
    const run = await cli('intel', 'ingest', file, '--source', 'breach-feed');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.equal(
      ['reports         5', 'matched         2', 'already revoked 0', 'expired         1', 'unknown         1', 'malformed       1', 'users ended     2', ''].join('\n'),
    );
    expect(await live()).to.deep.equal(['alicesElsewhere', 'bob', 'expired']);
    const audit = await withStore((store) => store.listAudit({ clientKey: SITE, kind: 'revoke', limit: 10 }));
    expect(audit.records.map(({ accountId, actor, reason, count }) => ({ accountId, actor, reason, count })).sort((a, b) => String(a.accountId).localeCompare(String(b.accountId)))).to.deep.equal([
      { accountId: ALICE, actor: 'intel:breach-feed', reason: 'credential_compromised', count: 2 },
      { accountId: CAROL, actor: 'intel:breach-feed', reason: 'credential_compromised', count: 2 },
    ]);
  });

  it('prints the counts as JSON; the same file again finds its sessions revoked and ends nothing new', async () => {
    const file = reportFile([sessions.leaked.token, sessions.bob.token, hashTokenId('never-minted')]);
    expect(json(await cli('intel', 'ingest', file, '--source', 'feed', '--json'))).to.deep.equal({ source: 'feed', ...counted({ matched: 2, unknown: 1, users: 2 }) });
    const reopened = aSession(SITE, ALICE, 'jira:issue:10001');
    await withStore((store) => store.insertEntry(reopened.entry));
    expect(json(await cli('intel', 'ingest', file, '--source', 'feed', '--json'))).to.deep.equal({ source: 'feed', ...counted({ alreadyRevoked: 2, unknown: 1 }) });
    expect((await withStore((store) => store.loadEntryState(reopened.entry.idHash)))?.entry.revokedAt).to.equal(null);
  });

  it("keeps to one site with --site: another site's tokens count as unknown", async () => {
    const file = reportFile([sessions.alicesElsewhere.token, sessions.bob.token]);
    expect(json(await cli('intel', 'ingest', file, '--source', 'feed', '--site', SITE, '--json'))).to.deep.equal({ source: 'feed', ...counted({ matched: 1, unknown: 1, users: 1 }) });
    expect(await live()).to.include('alicesElsewhere').and.not.include('bob');
  });

  it('says how long it took and the most memory it held with --stats', async () => {
    const run = await cli('intel', 'ingest', reportFile([hashTokenId('x')]), '--source', 'feed', '--stats');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.match(/stats: 1 reports in \d+\.\d s, max RSS \d+ KiB/);
  });

  it('refuses an unknown site, a missing file, and a missing or invalid source, ending nothing and echoing no line', async () => {
    const file = reportFile([sessions.leaked.token]);
    const unknownSite = await cli('intel', 'ingest', file, '--source', 'feed', '--site', 'nowhere');
    expect([unknownSite.code, unknownSite.stderr]).to.deep.equal([1, 'panelguard: no such tenant: nowhere\n']);
    const missing = await cli('intel', 'ingest', path.join(dir, 'missing.txt'), '--source', 'feed');
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.contain('ENOENT');
    for (const args of [[], ['--source', 'has space'], ['--source', '']]) {
      const refused = await cli('intel', 'ingest', file, ...args);
      expect(refused.code, args.join(' ')).to.equal(2);
      expect(refused.stderr).to.contain('--source');
    }
    for (const run of [unknownSite, missing]) expect(run.stdout + run.stderr).not.to.contain(sessions.leaked.token);
    expect(await live()).to.include('leaked');
  });

  it('exits 1 when the store fails, with the counts so far and how to finish, and never a reported token', async () => {
    const file = reportFile([hashTokenId('never-minted'), sessions.leaked.token]);
    // The lookups still read; the revocation's write is refused, as by a disk that filled up.
    const sqlite = new Sequelize({ dialect: 'sqlite', storage: databaseUrl.slice('sqlite:'.length), logging: false });
    try {
      await sqlite.query("CREATE TRIGGER refuse_revocations BEFORE UPDATE ON allowlist_entries BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
    } finally {
      await sqlite.close();
    }
    const run = await cli('intel', 'ingest', file, '--source', 'feed');
    expect(run.code).to.equal(1);
    expect(run.stdout).to.match(/^reports\s+0$/m);
    expect(run.stderr).to.contain('the store failed').and.to.contain('run it again');
    expect(run.stdout + run.stderr).not.to.contain(sessions.leaked.token);
    expect(await live()).to.include('leaked');
  });
});
