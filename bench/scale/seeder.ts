/**
 * Figure 3's seeder, in a process of its own so that the app node's memory is its own: tenants and a
 * million real allowlist entries (each the SHA-256 of the `jti` of a page token signed with the app's own
 * codec), written in multi-row INSERTs on the migrated schema; later, the expiry that the sweep clears.
 * Only a sample of the token strings is kept, in files the app node reads.
 */
import '../lib/as-deployed';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import sqlite3 from 'sqlite3';
import { systemClock } from '../../src/base/clock';
import { issueResource } from '../../src/allowlist/resource';
import { SWEEP_GRACE_MS } from '../../src/allowlist/sweeper';
import { openSequelizeStore } from '../../src/store/sequelize-store';
import { hashTokenId } from '../../src/tokens/hash';
import { createPageTokenCodec, type PageTokenCodec } from '../../src/tokens/page-token';
import { serveRequests } from '../lib/process';
import {
  revokedUser,
  SEEDED_IP,
  SEEDED_USER_AGENT,
  SWEEP_CHECK_IP,
  SIMULATED_TENANT,
  tenantKey,
  TOKEN_TTL_SECONDS,
  type ScalePlan,
} from './plan';
import {
  formatTokenLine,
  type SeededFiles,
  type SeederRequest,
  type SeedOpen,
  type SeedProgress,
} from './protocol';

interface SeedRow {
  idHash: string;
  clientKey: string;
  accountId: string;
  resource: string;
  parent: string | null;
  createdAt: number;
  expiresAt: number;
  ip: string;
}

/** The few statements seeding needs, on either database, through its plain driver. */
interface RowWriter {
  /** Each tenant by its client key and base URL. */
  insertTenants(tenants: Array<{ clientKey: string; baseUrl: string }>, at: number): Promise<void>;
  insertEntries(rows: SeedRow[]): Promise<void>;
  begin(): Promise<void>;
  commit(): Promise<void>;
  /** Sets the expiry of every row minted from `ip` to a time spread over the day before `before`; answers the rows changed. */
  expire(ip: string, before: number): Promise<number>;
  countByIp(ip: string): Promise<number>;
  /** What a database settles to after a bulk change: statistics (PostgreSQL), an empty WAL (SQLite). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

const ENTRY_COLUMNS = 'id_hash, client_key, account_id, resource, parent, created_at, expires_at, last_seen_at, ip, user_agent';
const DAY_MS = 24 * 60 * 60 * 1000;

async function openSqliteWriter(file: string): Promise<RowWriter> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const opened: sqlite3.Database = new sqlite3.Database(file, (error) => (error ? reject(error) : resolve(opened)));
  });
  const exec = (sql: string) => new Promise<void>((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));
  const run = (sql: string, params: unknown[]) =>
    new Promise<number>((resolve, reject) =>
      db.run(sql, params, function (this: sqlite3.RunResult, error: Error | null) {
        if (error) reject(error);
        else resolve(this.changes);
      }),
    );
  const count = (sql: string, params: unknown[]) =>
    new Promise<number>((resolve, reject) =>
      db.get<{ n: number }>(sql, params, (error, row) => (error ? reject(error) : resolve(row?.n ?? 0))),
    );
  // This connection only: the app's own connection keeps the store's settings. A crash mid-seed loses the bench run, nothing else.
  await exec('PRAGMA busy_timeout = 5000; PRAGMA synchronous = OFF');
  return {
    async insertTenants(tenants, at) {
      const values = tenants.map(() => "(?, ?, 'enabled', ?)").join(', ');
      await run(
        `INSERT INTO tenants (client_key, base_url, status, updated_at) VALUES ${values}`,
        tenants.flatMap(({ clientKey, baseUrl }) => [clientKey, baseUrl, at]),
      );
    },
    async insertEntries(rows) {
      const values = rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
      await run(
        `INSERT INTO allowlist_entries (${ENTRY_COLUMNS}) VALUES ${values}`,
        rows.flatMap((r) => [r.idHash, r.clientKey, r.accountId, r.resource, r.parent, r.createdAt, r.expiresAt, r.createdAt, r.ip, SEEDED_USER_AGENT]),
      );
    },
    begin: () => exec('BEGIN'),
    commit: () => exec('COMMIT'),
    expire: (ip, before) =>
      run('UPDATE allowlist_entries SET expires_at = ? - ((random() & 2147483647) % ?) WHERE ip = ?', [before, DAY_MS, ip]),
    countByIp: (ip) => count('SELECT COUNT(*) AS n FROM allowlist_entries WHERE ip = ?', [ip]),
    settle: () => exec('PRAGMA wal_checkpoint(TRUNCATE)'),
    close: () => new Promise<void>((resolve, reject) => db.close((error) => (error ? reject(error) : resolve()))),
  };
}

async function openPostgresWriter(url: string): Promise<RowWriter> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    async insertTenants(tenants, at) {
      await client.query(
        `INSERT INTO tenants (client_key, base_url, status, updated_at)
         SELECT key, url, 'enabled', $3 FROM unnest($1::text[], $2::text[]) AS t(key, url)`,
        [tenants.map((t) => t.clientKey), tenants.map((t) => t.baseUrl), at],
      );
    },
    async insertEntries(rows) {
      // One statement per batch: each column travels as one array parameter.
      await client.query(
        `INSERT INTO allowlist_entries (${ENTRY_COLUMNS})
         SELECT id_hash, client_key, account_id, resource, parent, created_at, expires_at, created_at, ip, $9
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[])
             AS r(id_hash, client_key, account_id, resource, parent, created_at, expires_at, ip)`,
        [
          rows.map((r) => r.idHash),
          rows.map((r) => r.clientKey),
          rows.map((r) => r.accountId),
          rows.map((r) => r.resource),
          rows.map((r) => r.parent),
          rows.map((r) => r.createdAt),
          rows.map((r) => r.expiresAt),
          rows.map((r) => r.ip),
          SEEDED_USER_AGENT,
        ],
      );
    },
    begin: async () => void (await client.query('BEGIN')),
    commit: async () => void (await client.query('COMMIT')),
    async expire(ip, before) {
      const result = await client.query(
        'UPDATE allowlist_entries SET expires_at = $1::bigint - floor(random() * $2)::bigint WHERE ip = $3',
        [before, DAY_MS, ip],
      );
      return result.rowCount ?? 0;
    },
    async countByIp(ip) {
      const result = await client.query<{ n: string }>('SELECT COUNT(*) AS n FROM allowlist_entries WHERE ip = $1', [ip]);
      return Number(result.rows[0]?.n ?? 0);
    },
    // What the server gets to on its own after a bulk change (autovacuum, the checkpointer), done now rather than
    // in the background of a measurement: dead rows reclaimed, statistics current, dirty pages written.
    async settle() {
      await client.query('VACUUM ANALYZE');
      await client.query('CHECKPOINT');
    },
    close: () => client.end(),
  };
}

const USERS_PER_TENANT = 50;
const ISSUES = 5_000;
const PROJECTS = 20;
/** Tokens kept per revoked user: checked before its revocation (so cached) and after it (must be refused). */
const REVOKED_SAMPLE = 20;

/** What each population row is for (filler: nothing but being there); shuffled so that every sample is spread over insertion order. */
const Role = {
  Filler: 0,
  Miss: 1,
  Fill: 2,
  /** Role.Revoked + r: a token of revoked user r. */
  Revoked: 3,
} as const;

function shuffledRoles(plan: ScalePlan): Uint8Array {
  const roles = new Uint8Array(plan.entries).fill(Role.Filler);
  let at = 0;
  const assign = (role: number, count: number) => {
    roles.fill(role, at, at + count);
    at += count;
  };
  assign(Role.Miss, plan.missWarmup + plan.missSamples);
  assign(Role.Fill, plan.cacheFill);
  for (let r = 0; r < plan.revokedUsers; r++) assign(Role.Revoked + r, plan.tokensPerRevokedUser);
  if (at > plan.entries) throw new Error(`the plan needs ${at} sampled entries but seeds only ${plan.entries}`);
  for (let i = roles.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const role = roles[i];
    roles[i] = roles[j];
    roles[j] = role;
  }
  return roles;
}

const pick = (n: number) => Math.floor(Math.random() * n);

interface Seeding {
  open: SeedOpen;
  writer: RowWriter;
  codec: PageTokenCodec;
  roles: Uint8Array;
  seeded: number;
  total: number;
  startedAt: number;
  lines: { miss: string[]; fill: string[]; sweep: string[]; revoked: string[][] };
}

let seeding: Seeding | null = null;

function current(): Seeding {
  if (seeding === null) throw new Error('the seeder is not open');
  return seeding;
}

async function open(request: SeedOpen): Promise<SeedProgress> {
  // The real migrations make the schema; the store is closed again before a row is written.
  const store = await openSequelizeStore(request.databaseUrl);
  await store.close();
  const writer =
    request.store === 'sqlite' ? await openSqliteWriter(request.databaseUrl.slice('sqlite:'.length)) : await openPostgresWriter(request.databaseUrl);
  const { plan } = request;
  await writer.insertTenants(
    Array.from({ length: plan.tenants }, (_, index) => {
      const clientKey = tenantKey(index);
      return { clientKey, baseUrl: clientKey === SIMULATED_TENANT ? request.simulatedBaseUrl : `https://${clientKey}.atlassian.net` };
    }),
    systemClock.now(),
  );
  seeding = {
    open: request,
    writer,
    codec: createPageTokenCodec({ secret: request.pageTokenSecret, appKey: request.appKey, clock: systemClock, isTenant: async () => true }),
    roles: shuffledRoles(plan),
    seeded: 0,
    total: plan.entries + plan.sweepChecks,
    startedAt: performance.now(),
    lines: { miss: [], fill: [], sweep: [], revoked: Array.from({ length: plan.revokedUsers }, () => []) },
  };
  return { seeded: 0, total: seeding.total };
}

/** Row `index`: a page token issued as the app would, its entry, and (for the sampled roles) its token line. */
function makeRow(s: Seeding, index: number): SeedRow {
  const population = index < s.roles.length;
  const role = population ? s.roles[index] : -1;
  const revoked = role >= Role.Revoked ? revokedUser(role - Role.Revoked) : null;
  const tenant = pick(s.open.plan.tenants);
  const clientKey = revoked?.clientKey ?? tenantKey(tenant);
  const accountId = revoked?.accountId ?? `557058:bench-${tenant}-${pick(USERS_PER_TENANT)}`;
  const issueId = 10_000 + pick(ISSUES);
  const target = issueResource(String(issueId), String(10_000 + (issueId % PROJECTS)));
  const issued = s.codec.issue({ clientKey, accountId, resource: target.resource, ttlSeconds: TOKEN_TTL_SECONDS });
  const idHash = hashTokenId(issued.claims.jti);
  const line = () => formatTokenLine({ token: issued.token, resource: target.resource, idHash });
  if (!population) s.lines.sweep.push(line());
  else if (role === Role.Miss) s.lines.miss.push(line());
  else if (role === Role.Fill) s.lines.fill.push(line());
  else if (revoked !== null) {
    const sample = s.lines.revoked[role - Role.Revoked];
    if (sample.length < REVOKED_SAMPLE) sample.push(line());
  }
  return {
    idHash,
    clientKey,
    accountId,
    resource: target.resource,
    parent: target.parent,
    createdAt: issued.issuedAt,
    expiresAt: issued.expiresAt,
    ip: population ? SEEDED_IP : SWEEP_CHECK_IP,
  };
}

async function seed(rows: number): Promise<SeedProgress> {
  const s = current();
  const end = Math.min(s.total, s.seeded + rows);
  const batchSize = s.open.store === 'sqlite' ? 1_000 : 5_000;
  await s.writer.begin();
  // Tokens for the next batch are signed while the database writes the last one.
  let writing: Promise<void> = Promise.resolve();
  for (let start = s.seeded; start < end; start += batchSize) {
    const batch: SeedRow[] = [];
    for (let index = start; index < Math.min(end, start + batchSize); index++) batch.push(makeRow(s, index));
    await writing;
    writing = s.writer.insertEntries(batch);
  }
  await writing;
  await s.writer.commit();
  s.seeded = end;
  return { seeded: s.seeded, total: s.total };
}

async function finish(): Promise<SeededFiles> {
  const s = current();
  if (s.seeded !== s.total) throw new Error(`seeded ${s.seeded} of ${s.total} rows`);
  const file = (name: string, lines: string[]) => {
    const where = path.join(s.open.dir, name);
    writeFileSync(where, `${lines.join('\n')}\n`);
    return where;
  };
  const files: SeededFiles = {
    miss: file('miss.tokens', s.lines.miss),
    fill: file('fill.tokens', s.lines.fill),
    sweep: file('sweep.tokens', s.lines.sweep),
    revoked: s.lines.revoked.map((lines, r) => ({ ...revokedUser(r), file: file(`revoked-${r}.tokens`, lines) })),
    entries: s.total,
    tenants: s.open.plan.tenants,
    seconds: (performance.now() - s.startedAt) / 1000,
  };
  s.lines = { miss: [], fill: [], sweep: [], revoked: [] };
  await s.writer.settle();
  return files;
}

async function expire(): Promise<number> {
  const s = current();
  // Expired more than an hour ago (the sweep's grace), by up to a day more: as a backlog of old tokens would be.
  const changed = await s.writer.expire(SEEDED_IP, systemClock.now() - 2 * SWEEP_GRACE_MS);
  await s.writer.settle();
  return changed;
}

async function close(): Promise<void> {
  const s = seeding;
  seeding = null;
  await s?.writer.close();
}

serveRequests(async (request: SeederRequest) => {
  switch (request.kind) {
    case 'open':
      return open(request);
    case 'seed':
      return seed(request.rows);
    case 'finish':
      return finish();
    case 'expire':
      return expire();
    case 'count-population':
      return current().writer.countByIp(SEEDED_IP);
    case 'close':
      return close();
  }
});
process.on('SIGTERM', () => {
  close().finally(() => process.exit(0));
});
