/** The operator CLI end to end: the real command in a child process, on a SQLite file seeded through the store. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { AllowlistEntry, AuditRecord, StoredAuditRecord } from '../../src/allowlist/types';
import { openSequelizeStore } from '../../src/store/sequelize-store';
import { hashTokenId } from '../../src/tokens/hash';
import { runCli, type CliRun } from '../support/cli-process';

const SITE = 'cli-test-site';
const ALICE = '557058:alice';
const BOB = '557058:bob';
const MINUTE = 60_000;

type Run = CliRun;

describe('operator CLI', function () {
  this.timeout(20_000);
  let dir: string;
  let databaseUrl: string;
  const seeded = Date.now();

  const entry = (jti: string, accountId: string, resource: string, minutesAgo: number): AllowlistEntry => ({
    idHash: hashTokenId(jti),
    clientKey: SITE,
    accountId,
    resource,
    parent: 'jira:project:10000',
    createdAt: seeded - minutesAgo * MINUTE,
    expiresAt: seeded + 10 * MINUTE,
    lastSeenAt: seeded - minutesAgo * MINUTE,
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
    revokedAt: null,
    revokeReason: null,
    chain: null,
    boundKey: null,
  });
  const ALICE_ISSUE = entry('alice-issue', ALICE, 'jira:issue:10001', 3);
  const ALICE_OTHER_ISSUE = entry('alice-other-issue', ALICE, 'jira:issue:10002', 1);
  const BOB_ISSUE = entry('bob-issue', BOB, 'jira:issue:10001', 2);
  const MINT: AuditRecord = {
    at: seeded - 3 * MINUTE,
    kind: 'mint',
    clientKey: SITE,
    accountId: ALICE,
    actor: `user:${ALICE}`,
    reason: null,
    resource: 'jira:issue:10001',
    count: null,
    confirmation: null,
  };

  /** Runs the CLI as an operator would, with the environment the server has (or `env` instead). */
  function cli(...args: string[]): Promise<Run> {
    return cliWith({ DATABASE_URL: databaseUrl, PAGE_TOKEN_SECRET: 'cli-test-secret-of-at-least-32-characters', LOG_LEVEL: 'warn' }, args);
  }

  function cliWith(env: Record<string, string>, args: string[]): Promise<Run> {
    return runCli(args, { DATA_DIR: dir, ...env });
  }

  async function withStore<T>(work: (store: Awaited<ReturnType<typeof openSequelizeStore>>) => Promise<T>): Promise<T> {
    const store = await openSequelizeStore(databaseUrl);
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  }

  /** idHash → revokeReason (null while live) of every seeded entry. */
  const revocations = () =>
    withStore(async (store) => {
      const reasons: Record<string, string | null> = {};
      for (const { idHash } of [ALICE_ISSUE, ALICE_OTHER_ISSUE, BOB_ISSUE]) {
        const state = await store.loadEntryState(idHash);
        if (state === null) throw new Error(`entry ${idHash} is gone`);
        reasons[idHash] = state.entry.revokeReason;
      }
      return reasons;
    });

  const json = <T>(run: Run): T => {
    expect(run.code, run.stderr).to.equal(0);
    return JSON.parse(run.stdout) as T;
  };

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'panelguard-cli-'));
    databaseUrl = `sqlite:${path.join(dir, 'panelguard.sqlite')}`;
    await withStore(async (store) => {
      await store.putTenant({ clientKey: SITE, baseUrl: 'https://cli-test.atlassian.net', status: 'enabled', updatedAt: seeded });
      for (const seed of [ALICE_ISSUE, ALICE_OTHER_ISSUE, BOB_ISSUE]) await store.insertEntry(seed);
      await store.appendAudit([MINT]);
    });
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists its commands in --help', async () => {
    const run = await cli('--help');
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/sessions/).and.to.match(/audit/);
    const sessions = await cli('sessions', '--help');
    expect(sessions.code).to.equal(0);
    expect(sessions.stdout).to.match(/list/).and.to.match(/revoke/).and.to.match(/reset/);
  });

  it("lists every user's live sessions as JSON, newest first", async () => {
    const entries = json<AllowlistEntry[]>(await cli('sessions', 'list', '--tenant', SITE, '--json'));
    expect(entries.map((e) => e.idHash)).to.deep.equal([ALICE_OTHER_ISSUE.idHash, BOB_ISSUE.idHash, ALICE_ISSUE.idHash]);
    expect(entries[0]).to.deep.equal(ALICE_OTHER_ISSUE);
  });

  it("lists only one user's sessions with --user", async () => {
    const entries = json<AllowlistEntry[]>(await cli('sessions', 'list', '--tenant', SITE, '--user', BOB, '--json'));
    expect(entries.map((e) => e.idHash)).to.deep.equal([BOB_ISSUE.idHash]);
  });

  it('prints a table with short ids and ISO times, and a hint when --limit cut the list', async () => {
    const run = await cli('sessions', 'list', '--tenant', SITE, '--limit', '2');
    expect(run.code, run.stderr).to.equal(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).to.have.length(3);
    expect(lines[0]).to.match(/^id\s+user\s+resource\s+ip\s+started\s+last seen\s+user agent$/);
    expect(lines[1]).to.contain(ALICE_OTHER_ISSUE.idHash.slice(0, 12)).and.contain(new Date(ALICE_OTHER_ISSUE.createdAt).toISOString().slice(0, 19));
    expect(run.stderr).to.match(/--limit/);
  });

  it("revokes every session of one user and leaves the others' alone", async () => {
    const run = await cli('sessions', 'revoke', '--tenant', SITE, '--user', ALICE);
    expect(run.stdout).to.equal(`revoked 2 sessions of ${ALICE} (running nodes not told)\n`);
    expect(await revocations()).to.deep.equal({
      [ALICE_ISSUE.idHash]: 'admin_revoked_user',
      [ALICE_OTHER_ISSUE.idHash]: 'admin_revoked_user',
      [BOB_ISSUE.idHash]: null,
    });
  });

  it('says on BUS=memory that running nodes were not told, never "confirmed 1/1", and exits 3', async () => {
    const run = await cli('sessions', 'revoke', '--tenant', SITE, '--user', ALICE);
    expect(run.code).to.equal(3);
    expect(run.stdout).not.to.contain('confirmed');
    expect(run.stderr).to.contain('running nodes were not told').and.contain('CACHE_TTL_SECONDS (30 s)').and.contain('BUS=postgres or redis');
  });

  it('audits a revocation as the operator, with its count and confirmation', async () => {
    expect((await cli('sessions', 'revoke', '--tenant', SITE, '--user', ALICE)).code).to.equal(3);
    const records = json<StoredAuditRecord[]>(await cli('audit', '--tenant', SITE, '--kind', 'revoke', '--json'));
    expect(records).to.have.length(1);
    expect(records[0]).to.include({ kind: 'revoke', accountId: ALICE, actor: 'operator:cli', reason: 'admin_revoked_user', count: 2 });
    expect(records[0].confirmation).to.deep.equal({ confirmed: 1, expected: 1 });
  });

  it('lists the audit trail, only from --since on', async () => {
    const all = json<StoredAuditRecord[]>(await cli('audit', '--tenant', SITE, '--json'));
    expect(all.map((r) => r.kind)).to.deep.equal(['mint']);
    const later = json<StoredAuditRecord[]>(await cli('audit', '--tenant', SITE, '--since', new Date(seeded).toISOString(), '--json'));
    expect(later).to.deep.equal([]);
  });

  it('refuses to revoke a user the site never had, and exits 1', async () => {
    const run = await cli('sessions', 'revoke', '--tenant', SITE, '--user', '557058:nobody');
    expect(run.code).to.equal(1);
    expect(run.stderr).to.contain(`no such user in ${SITE}`);
    expect(run.stdout).to.equal('');
  });

  it('resets a site only with --yes: without it, says what it would do, changes nothing and exits 1', async () => {
    const run = await cli('sessions', 'reset', '--tenant', SITE);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.contain('3 live sessions').and.contain('--yes');
    expect(Object.values(await revocations())).to.deep.equal([null, null, null]);
  });

  it('resets a site with --yes: every session revoked', async () => {
    const run = await cli('sessions', 'reset', '--tenant', SITE, '--yes');
    expect(run.code, run.stderr).to.equal(3);
    expect(run.stdout).to.equal(`revoked 3 sessions of ${SITE} (running nodes not told)\n`);
    expect(Object.values(await revocations())).to.deep.equal(['admin_reset_site', 'admin_reset_site', 'admin_reset_site']);
  });

  it("audits a reset as the operator, with the admin API's reason for a site reset", async () => {
    expect((await cli('sessions', 'reset', '--tenant', SITE, '--yes')).code).to.equal(3);
    const records = json<StoredAuditRecord[]>(await cli('audit', '--tenant', SITE, '--kind', 'revoke', '--json'));
    expect(records).to.have.length(1);
    expect(records[0]).to.include({ kind: 'revoke', accountId: null, actor: 'operator:cli', reason: 'admin_reset_site', count: 3 });
  });

  for (const command of [
    ['sessions', 'list'],
    ['sessions', 'revoke', '--user', ALICE],
    ['sessions', 'reset', '--yes'],
    ['audit'],
  ]) {
    it(`refuses an unknown site in ${command.slice(0, 2).join(' ')} with the one message every command gives, and exits 1`, async () => {
      const run = await cli(...command, '--tenant', 'no-such-site');
      expect([run.code, run.stderr, run.stdout]).to.deep.equal([1, 'panelguard: no such tenant: no-such-site\n', '']);
    });
  }

  for (const [option, value] of [
    ['--limit', 'abc'],
    ['--limit', '1001'],
    ['--kind', 'bogus'],
    ['--since', 'garbage'],
  ]) {
    it(`refuses ${option} ${value} with a message naming the option, and exits 2`, async () => {
      const run = await cli('audit', '--tenant', SITE, option, value);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.contain(`option '${option}`).and.contain(`'${value}' is invalid`);
    });
  }

  it('reports each configuration problem on its own line, and exits 2', async () => {
    const run = await cliWith({ DATABASE_URL: 'mysql://nope', PAGE_TOKEN_SECRET: 'short' }, ['audit', '--tenant', SITE]);
    expect(run.code).to.equal(2);
    expect(run.stderr.trimEnd().split('\n')).to.have.members([
      'panelguard: configuration error: DATABASE_URL must be sqlite:<file>, sqlite::memory: or postgres://...',
      'panelguard: configuration error: PAGE_TOKEN_SECRET must be at least 32 characters',
    ]);
  });
});
