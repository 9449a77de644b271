import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../../src/app/config';
import { PROJECT_ROOT } from '../../src/app/paths';

function problemsOf(env: NodeJS.ProcessEnv, cwd: string): string[] {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'panelguard-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs with no variables at all on a SQLite file under data/', () => {
    const config = loadConfig({}, dir);
    expect(config).to.include({ nodeEnv: 'development', port: 3000, bus: 'memory', pageTokenTtlSeconds: 600, appBaseUrl: null });
    expect(config.databaseUrl).to.equal(`sqlite:${path.join(dir, 'data', 'panelguard.sqlite')}`);
  });

  it('generates a development page-token secret once and keeps it under data/', () => {
    const first = loadConfig({}, dir).pageTokenSecret;
    expect(first.length).to.be.at.least(32);
    expect(readFileSync(path.join(dir, 'data', 'page-token-secret'), 'utf8').trim()).to.equal(first);
    expect(loadConfig({}, dir).pageTokenSecret).to.equal(first);
  });

  it('names each value production requires', () => {
    expect(problemsOf({ NODE_ENV: 'production' }, dir)).to.deep.equal([
      'APP_BASE_URL is required in production',
      'PAGE_TOKEN_SECRET is required in production',
      'DATABASE_URL is required in production',
      'SSF_SIGNING_KEY is required in production',
    ]);
  });

  it('names each malformed value in one line', () => {
    const problems = problemsOf(
      { PORT: 'abc', APP_BASE_URL: 'not a url', PAGE_TOKEN_TTL_SECONDS: '7200', DATABASE_URL: 'mysql://x', PAGE_TOKEN_SECRET: 'short' },
      dir,
    );
    expect(problems).to.have.length(5);
    expect(problems.find((p) => p.startsWith('PORT '))).to.equal('PORT must be a whole number');
    expect(problems.find((p) => p.startsWith('PAGE_TOKEN_TTL_SECONDS '))).to.equal('PAGE_TOKEN_TTL_SECONDS must be at most 3600');
    expect(problems.some((p) => p.startsWith('APP_BASE_URL '))).to.equal(true);
    expect(problems.some((p) => p.startsWith('DATABASE_URL '))).to.equal(true);
    expect(problems.find((p) => p.startsWith('PAGE_TOKEN_SECRET '))).to.include('at least 32');
  });

  it('refuses a SQLite file whose absolute directory does not exist, rather than creating it', () => {
    expect(problemsOf({ DATABASE_URL: 'sqlite:/no/such/dir/x.sqlite' }, dir)).to.deep.equal([
      'DATABASE_URL names a file in /no/such/dir, which does not exist: create that directory first, or give a path relative to the working directory',
    ]);
    expect(problemsOf({ DATABASE_URL: 'sqlite:///no/such/dir/x.sqlite' }, dir)).to.have.length(1);
  });

  it('takes a SQLite file in an existing directory, under DATA_DIR, relative to the working directory, or in memory', () => {
    for (const url of [`sqlite:${path.join(dir, 'x.sqlite')}`, `sqlite:${path.join(dir, 'data', 'sub', 'x.sqlite')}`, 'sqlite:new/x.sqlite', 'sqlite::memory:']) {
      expect(loadConfig({ DATABASE_URL: url }, dir).databaseUrl, url).to.equal(url);
    }
  });

  it('refuses a page-token lifetime under a minute', () => {
    expect(problemsOf({ PAGE_TOKEN_TTL_SECONDS: '10' }, dir)).to.deep.equal(['PAGE_TOKEN_TTL_SECONDS must be at least 60']);
  });

  it('refuses to switch off ACE authentication through AC_OPTS', () => {
    expect(problemsOf({ AC_OPTS: 'no-auth' }, dir)).to.deep.equal(['AC_OPTS must not switch off authentication']);
  });

  it('names the buses it knows when given another', () => {
    expect(problemsOf({ BUS: 'kafka' }, dir)).to.deep.equal(['BUS must be one of memory, postgres, redis']);
  });

  it('names the environments and log levels it knows when given another', () => {
    expect(problemsOf({ NODE_ENV: 'prod', LOG_LEVEL: 'verbose' }, dir)).to.deep.equal([
      'NODE_ENV must be one of development, production, test',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  it('words every refusal for the reader, never in the validator\'s own terms', () => {
    for (const name of CONFIG_VARIABLES) {
      for (const value of ['nonsense value!', '-1', 'x']) {
        for (const problem of problemsOf({ [name]: value }, dir)) {
          expect(problem, `${name}=${value}`).to.match(new RegExp(`^${name} `));
          expect(problem, `${name}=${value}`).not.to.match(/Invalid|Expected|received|Required|String must|Number must/);
        }
      }
    }
  });

  it('requires REDIS_URL with the redis bus', () => {
    expect(problemsOf({ BUS: 'redis' }, dir)).to.deep.equal(['REDIS_URL is required with BUS=redis']);
    expect(loadConfig({ BUS: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' }, dir)).to.include({ bus: 'redis', redisUrl: 'redis://127.0.0.1:6379' });
  });

  it('requires a PostgreSQL store with the postgres bus', () => {
    expect(problemsOf({ BUS: 'postgres' }, dir)).to.deep.equal([
      'BUS=postgres needs DATABASE_URL to be a postgres:// URL (LISTEN/NOTIFY runs on the store)',
    ]);
    expect(loadConfig({ BUS: 'postgres', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' }, dir).bus).to.equal('postgres');
  });

  it('validates the cluster settings', () => {
    const problems = problemsOf(
      { REDIS_URL: 'http://x', BUS_CHANNEL: 'Bad Channel', REVOCATION_CONFIRM_MS: '60000', HEARTBEAT_MS: '10', NODE_NAME: 'a b' },
      dir,
    );
    expect(problems.map((p) => p.split(' ')[0])).to.deep.equal(['REDIS_URL', 'BUS_CHANNEL', 'REVOCATION_CONFIRM_MS', 'HEARTBEAT_MS', 'NODE_NAME']);
    expect(problems[2]).to.equal('REVOCATION_CONFIRM_MS must be at most 10000');
  });

  it('waits half a second for confirmations and heartbeats every second by default', () => {
    expect(loadConfig({}, dir)).to.include({ revocationConfirmMs: 500, heartbeatMs: 1000, busChannel: 'panelguard_invalidations', sweepIntervalSeconds: 300 });
  });

  it('reads operator tokens bound to their sites, and names a mistake without echoing a token', () => {
    const secret = 's'.repeat(40);
    expect(loadConfig({ OPERATOR_TOKEN: `site-a:${secret},urn:site:b:${'t'.repeat(32)}` }, dir).operatorTokens).to.deep.equal([
      { clientKey: 'site-a', token: secret },
      { clientKey: 'urn:site:b', token: 't'.repeat(32) },
    ]);
    const short = problemsOf({ OPERATOR_TOKEN: 'site-a:tooshort' }, dir);
    expect(short).to.deep.equal(['OPERATOR_TOKEN each token must be at least 32 characters']);
    expect(problemsOf({ OPERATOR_TOKEN: secret }, dir)).to.deep.equal(['OPERATOR_TOKEN must be clientKey:token pairs separated by commas']);
    expect(problemsOf({ OPERATOR_TOKEN: `a:${secret},b:${secret}` }, dir)).to.deep.equal(['OPERATOR_TOKEN each token must be different']);
    expect(loadConfig({}, dir).operatorTokens).to.deep.equal([]);
  });

  it('reads a metrics token, leaves /metrics open without one, and refuses a short one without echoing it', () => {
    expect(loadConfig({ METRICS_TOKEN: 'm'.repeat(32) }, dir).metricsToken).to.equal('m'.repeat(32));
    expect(loadConfig({}, dir).metricsToken).to.equal(null);
    expect(problemsOf({ METRICS_TOKEN: 'short-secret' }, dir)).to.deep.equal(['METRICS_TOKEN must be at least 32 characters']);
  });

  it('validates the session settings', () => {
    expect(loadConfig({}, dir)).to.include({ idleTimeoutSeconds: 300, lastSeenFlushSeconds: 15, auditRetentionDays: 90, trustProxy: false });
    expect(problemsOf({ IDLE_TIMEOUT_SECONDS: '10', LAST_SEEN_FLUSH_SECONDS: '0', AUDIT_RETENTION_DAYS: '0' }, dir)).to.deep.equal([
      'IDLE_TIMEOUT_SECONDS must be at least 60',
      'LAST_SEEN_FLUSH_SECONDS must be at least 1',
      'AUDIT_RETENTION_DAYS must be at least 1',
    ]);
    expect(loadConfig({ TRUST_PROXY: '1' }, dir).trustProxy).to.equal(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }, dir).trustProxy).to.equal('loopback, 10.0.0.0/8');
  });

  it('refuses an idle timeout longer than the page-token lifetime, naming both', () => {
    expect(problemsOf({ IDLE_TIMEOUT_SECONDS: '900', PAGE_TOKEN_TTL_SECONDS: '600' }, dir)).to.deep.equal([
      'IDLE_TIMEOUT_SECONDS (900) must be no longer than PAGE_TOKEN_TTL_SECONDS (600): a token cannot sit idle past its lifetime',
    ]);
    expect(problemsOf({ IDLE_TIMEOUT_SECONDS: '700' }, dir)).to.have.length(1);
    expect(loadConfig({ IDLE_TIMEOUT_SECONDS: '600', PAGE_TOKEN_TTL_SECONDS: '600' }, dir).idleTimeoutSeconds).to.equal(600);
  });

  it('rotates page tokens after a minute with ten seconds of grace by default', () => {
    expect(loadConfig({}, dir).rotation).to.deep.equal({ afterMs: 60_000, graceMs: 10_000 });
  });

  it('reads rotation times in seconds, to the millisecond, and 0 as off', () => {
    const rotation = (after: string, grace: string) => loadConfig({ ROTATE_AFTER_SECONDS: after, ROTATION_GRACE_SECONDS: grace }, dir).rotation;
    expect(rotation('0.5', '0.25')).to.deep.equal({ afterMs: 500, graceMs: 250 });
    expect(rotation('1.005', '3600')).to.deep.equal({ afterMs: 1005, graceMs: 3_600_000 });
    expect(rotation('86400', '10')).to.deep.equal({ afterMs: 86_400_000, graceMs: 10_000 });
    expect(rotation('0', '0')).to.deep.equal({ afterMs: 0, graceMs: 0 });
  });

  it('names each malformed rotation time', () => {
    expect(problemsOf({ ROTATE_AFTER_SECONDS: '86401', ROTATION_GRACE_SECONDS: '3601' }, dir)).to.deep.equal([
      'ROTATE_AFTER_SECONDS must be at most 86400',
      'ROTATION_GRACE_SECONDS must be at most 3600',
    ]);
    const malformed = 'must be seconds such as 60 or 0.5, with at most 3 decimals';
    for (const value of ['-1', 'soon', '1e3', '0.0005', '.5']) {
      expect(problemsOf({ ROTATE_AFTER_SECONDS: value, ROTATION_GRACE_SECONDS: value }, dir), value).to.deep.equal([
        `ROTATE_AFTER_SECONDS ${malformed}`,
        `ROTATION_GRACE_SECONDS ${malformed}`,
      ]);
    }
  });

  it('reconciles hourly and reports personal data weekly to Atlassian by default', () => {
    const config = loadConfig({}, dir);
    expect(config.reconcileIntervalMs).to.equal(3_600_000);
    expect(config.personalDataReport).to.deep.equal({ intervalMs: 604_800_000, url: 'https://api.atlassian.com/app/report-accounts/' });
  });

  it('reads the reconciliation and reporting intervals in seconds, to the millisecond, and 0 as off', () => {
    const config = loadConfig({ RECONCILE_INTERVAL_SECONDS: '0.5', PERSONAL_DATA_REPORT_INTERVAL_SECONDS: '0', PERSONAL_DATA_REPORT_URL: 'http://127.0.0.1:9/app/report-accounts/' }, dir);
    expect(config.reconcileIntervalMs).to.equal(500);
    expect(config.personalDataReport).to.deep.equal({ intervalMs: 0, url: 'http://127.0.0.1:9/app/report-accounts/' });
    expect(problemsOf({ RECONCILE_INTERVAL_SECONDS: 'hourly', PERSONAL_DATA_REPORT_INTERVAL_SECONDS: '31536001', PERSONAL_DATA_REPORT_URL: 'ftp://x' }, dir)).to.deep.equal([
      'RECONCILE_INTERVAL_SECONDS must be seconds such as 60 or 0.5, with at most 3 decimals',
      'PERSONAL_DATA_REPORT_INTERVAL_SECONDS must be at most 31536000',
      'PERSONAL_DATA_REPORT_URL must start with http:// or https://',
    ]);
  });

  it('compares networks by /24 and /48 by default, or by the prefixes given', () => {
    expect(loadConfig({}, dir).networkPrefixes).to.deep.equal({ ipv4: 24, ipv6: 48 });
    const prefixes = (v4: string, v6: string) => loadConfig({ NETWORK_PREFIX_V4: v4, NETWORK_PREFIX_V6: v6 }, dir).networkPrefixes;
    expect(prefixes('16', '64')).to.deep.equal({ ipv4: 16, ipv6: 64 });
    expect(prefixes('8', '16')).to.deep.equal({ ipv4: 8, ipv6: 16 });
    expect(prefixes('32', '128')).to.deep.equal({ ipv4: 32, ipv6: 128 });
  });

  it('names each network prefix out of range or not whole', () => {
    expect(problemsOf({ NETWORK_PREFIX_V4: '7', NETWORK_PREFIX_V6: '129' }, dir)).to.deep.equal([
      'NETWORK_PREFIX_V4 must be at least 8',
      'NETWORK_PREFIX_V6 must be at most 128',
    ]);
    expect(problemsOf({ NETWORK_PREFIX_V4: '33', NETWORK_PREFIX_V6: '15' }, dir)).to.deep.equal([
      'NETWORK_PREFIX_V4 must be at most 32',
      'NETWORK_PREFIX_V6 must be at least 16',
    ]);
    expect(problemsOf({ NETWORK_PREFIX_V4: '/24', NETWORK_PREFIX_V6: '48.5' }, dir)).to.deep.equal([
      'NETWORK_PREFIX_V4 must be a whole number',
      'NETWORK_PREFIX_V6 must be a whole number',
    ]);
  });

  describe('the SSF signing key', () => {
    const PROBLEM = 'SSF_SIGNING_KEY must be an RSA private key of at least 2048 bits, as PEM (PKCS#8 or PKCS#1) or a JWK';
    let rsa: KeyObject;
    before(() => {
      rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    });
    const signingKeyOf = (value: string) => loadConfig({ SSF_SIGNING_KEY: value }, dir).ssf.signingKey;
    const pkcs8 = () => rsa.export({ type: 'pkcs8', format: 'pem' }).toString();

    it('has none in development, which makes one under data/ when it first signs', () => {
      expect(loadConfig({}, dir).ssf.signingKey).to.equal(null);
    });

    it('reads an RSA private key as PKCS#8 or PKCS#1 PEM, or as a JWK', () => {
      const pkcs1 = rsa.export({ type: 'pkcs1', format: 'pem' }).toString();
      const jwk = JSON.stringify(rsa.export({ format: 'jwk' }));
      for (const value of [pkcs8(), pkcs1, jwk]) expect(signingKeyOf(value)?.equals(rsa), value.slice(0, 30)).to.equal(true);
    });

    it('reads a PEM written on one line with its newlines as \\n, as environment files hold it', () => {
      expect(signingKeyOf(pkcs8().trim().replace(/\n/g, '\\n'))?.equals(rsa)).to.equal(true);
    });

    it('refuses a public key, a short RSA key, another kind of key or no key at all, without echoing it', () => {
      const publicPem = createPublicKey(rsa).export({ type: 'spki', format: 'pem' }).toString();
      const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const publicJwk = JSON.stringify(createPublicKey(rsa).export({ format: 'jwk' }));
      for (const value of [publicPem, short, ec, publicJwk, 'not a key', '{"kty": "RSA"']) {
        const problems = problemsOf({ SSF_SIGNING_KEY: value }, dir);
        expect(problems, value.slice(0, 30)).to.deep.equal([PROBLEM]);
      }
    });

    it('retries after 2 s, doubling up to an hour, and looks for SETs due every 5 s, unless told otherwise', () => {
      expect(loadConfig({}, dir).ssf).to.include({ pollMs: 5000, retryBaseMs: 2000, retryMaxMs: 3_600_000 });
      expect(loadConfig({ SSF_POLL_SECONDS: '0.1', SSF_RETRY_BASE_SECONDS: '0.05', SSF_RETRY_MAX_SECONDS: '0.4' }, dir).ssf).to.include({
        pollMs: 100,
        retryBaseMs: 50,
        retryMaxMs: 400,
      });
      expect(problemsOf({ SSF_RETRY_BASE_SECONDS: '10', SSF_RETRY_MAX_SECONDS: '5' }, dir)).to.deep.equal([
        'SSF_RETRY_MAX_SECONDS must be at least SSF_RETRY_BASE_SECONDS',
      ]);
    });
  });

  it('stops the process with one line naming the mistake', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/launch/server.ts'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, PORT: 'abc', DATA_DIR: dir },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).to.equal(1);
    expect(result.stderr.trim()).to.equal('panelguard: configuration error: PORT must be a whole number');
  });
});
