/** Configuration: read the environment once, validate every value, and say clearly what is wrong. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_PREFIXES, type NetworkPrefixes } from '../allowlist/network';
import { PRODUCTION_JWKS_URL } from '../forge/fit-verifier';
import { FORGE_APP_ID } from '../forge/invocation';
import { parseOperatorTokens, type OperatorToken } from '../tokens/operator-tokens';
import { parseSigningKey, SIGNING_KEY_PROBLEM } from '../signals/ssf-transmitter/signing-key';
import { randomSecret } from '../tokens/random';

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  /** Where the host reaches the app; null means "http://localhost:<bound port>" (development and tests only). */
  appBaseUrl: string | null;
  databaseUrl: string;
  /** How nodes tell each other about revocations: `memory` for one node, `postgres` or `redis` for a cluster. */
  bus: 'memory' | 'postgres' | 'redis';
  /** Required with BUS=redis. */
  redisUrl: string | null;
  /** The channel every node of one deployment shares (a LISTEN channel or a Redis pub/sub channel). */
  busChannel: string;
  /** How long a revocation waits for every live node to confirm, at most. */
  revocationConfirmMs: number;
  /** How often a node announces itself; a node silent for three is counted gone. */
  heartbeatMs: number;
  /** This node's name on the bus and in /readyz. */
  nodeName: string;
  /** How often expired entries are swept; 0 turns the sweep off. */
  sweepIntervalSeconds: number;
  /** A tenant's idle timeout until its admins set one. */
  idleTimeoutSeconds: number;
  /** How often last-seen times are written behind. */
  lastSeenFlushSeconds: number;
  /** Audit records older than this are deleted by the sweep. */
  auditRetentionDays: number;
  /** Page-token rotation, which lets theft detection tell a session's holder from a copy of its token. */
  rotation: {
    /** How long a page token serves before guarded answers offer its successor; 0 turns rotation off. */
    afterMs: number;
    /** How long a replaced token keeps working after its successor's first use; a use after that is a fork. */
    graceMs: number;
  };
  /** How coarse "the same network" is when theft detection compares where a session is used from. */
  networkPrefixes: NetworkPrefixes;
  /** How often the host is asked whether users with live sessions are still active (lost webhooks); 0 turns it off. */
  reconcileIntervalMs: number;
  /** Atlassian's personal data reporting: each account reported at most once per interval (0 turns it off), to this URL. */
  personalDataReport: { intervalMs: number; url: string };
  /** Operator bearer tokens, each bound to one tenant; empty when none are configured. */
  operatorTokens: OperatorToken[];
  /** Bearer token /metrics requires; null leaves /metrics open (keep it behind the network then). */
  metricsToken: string | null;
  /** Express's `trust proxy` (which hops' X-Forwarded-For to believe for the client IP); false when unset. */
  trustProxy: boolean | number | string;
  pageTokenSecret: string;
  pageTokenTtlSeconds: number;
  /** Seconds a node trusts a cached entry state at most. */
  cacheTtlSeconds: number;
  cacheMaxEntries: number;
  /** Live channels (open pages' event streams and held long polls) one node holds at most; 0 turns them off (pages keep calling as before). */
  liveChannelsMax: number;
  /** How long a page's long poll (GET /api/live/poll) is held before it is answered "still standing", in ms. */
  livePollMs: number;
  /** ACE's install-key server (it reads CONNECT_KEYS_CDN_URL itself; validated here). */
  connectKeysCdnUrl: string | null;
  /** The Forge app's id (the FIT's audience); null: the Forge front door is closed. */
  forgeAppId: string | null;
  /** Where the keys that sign Forge Invocation Tokens are published. */
  forgeJwksUrl: string;
  /** How soon after fetching an SSF transmitter's key set an unknown `kid` may fetch it again. */
  ssfJwksCooldownMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Telling receivers about revocations (Shared Signals): the key SETs are signed with, and how pushes are paced. */
  ssf: {
    /** The private key from SSF_SIGNING_KEY; null in development, which makes one under the data directory on first use. */
    signingKey: KeyObject | null;
    /** How often each node looks for SETs due; its own revocations wake it at once. */
    pollMs: number;
    /** The delay before the first retry; each later one doubles, with jitter, up to `retryMaxMs`. */
    retryBaseMs: number;
    retryMaxMs: number;
  };
  /** Where development keeps its SQLite file and generated secret. */
  dataDir: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

const MIN_SECRET_LENGTH = 32;

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

/** Seconds as a decimal down to the millisecond (0.5 for tests), read as whole milliseconds. */
const secondsAsMs = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]+(\.[0-9]{1,3})?$/, 'must be seconds such as 60 or 0.5, with at most 3 decimals')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    // Three decimals are whole milliseconds; rounding only undoes binary fractions (1.005 * 1000 is 1004.999...).
    .transform((seconds) => Math.round(seconds * 1000));

/** One of a fixed set of words, named in the message (zod's own wording is for programmers). */
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { message: `must be one of ${values.join(', ')}` });

const httpUrl = z
  .string()
  .url('must be a URL such as https://panelguard.example.com')
  .refine((value) => /^https?:\/\//.test(value), 'must start with http:// or https://')
  .transform((value) => value.replace(/\/+$/, ''));

/** Atlassian's personal data reporting API; its path keeps the trailing slash Atlassian documents. */
export const PERSONAL_DATA_REPORT_URL = 'https://api.atlassian.com/app/report-accounts/';

const environmentSchema = z.object({
  NODE_ENV: oneOf(['development', 'production', 'test']).default('development'),
  PORT: integer(0, 65535).default('3000'),
  APP_BASE_URL: httpUrl.optional(),
  DATABASE_URL: z
    .string()
    .refine((value) => /^sqlite:/.test(value) || /^postgres(ql)?:\/\//.test(value), 'must be sqlite:<file>, sqlite::memory: or postgres://...')
    .optional(),
  BUS: oneOf(['memory', 'postgres', 'redis']).default('memory'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/[^\s]+$/, 'must be a URL such as redis://127.0.0.1:6379')
    .optional(),
  BUS_CHANNEL: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be lower-case letters, digits and _ (at most 63), starting with a letter or _')
    .default('panelguard_invalidations'),
  REVOCATION_CONFIRM_MS: integer(0, 10_000).default('500'),
  HEARTBEAT_MS: integer(50, 60_000).default('1000'),
  NODE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1 to 64 letters, digits or . _ : -')
    .optional(),
  SWEEP_INTERVAL_SECONDS: integer(0, 86_400).default('300'),
  IDLE_TIMEOUT_SECONDS: integer(60, 86_400).default('300'),
  LAST_SEEN_FLUSH_SECONDS: integer(1, 60).default('15'),
  AUDIT_RETENTION_DAYS: integer(1, 3650).default('90'),
  ROTATE_AFTER_SECONDS: secondsAsMs(0, 86_400).default('60'),
  ROTATION_GRACE_SECONDS: secondsAsMs(0, 3600).default('10'),
  NETWORK_PREFIX_V4: integer(8, 32).default(String(DEFAULT_PREFIXES.ipv4)),
  NETWORK_PREFIX_V6: integer(16, 128).default(String(DEFAULT_PREFIXES.ipv6)),
  RECONCILE_INTERVAL_SECONDS: secondsAsMs(0, 7 * 86_400).default('3600'),
  // Atlassian's cycle period is 7 days; reporting an account more often than that is not allowed.
  PERSONAL_DATA_REPORT_INTERVAL_SECONDS: secondsAsMs(0, 365 * 86_400).default('604800'),
  PERSONAL_DATA_REPORT_URL: z
    .string()
    .url('must be a URL such as https://api.atlassian.com/app/report-accounts/')
    .refine((value) => /^https?:\/\//.test(value), 'must start with http:// or https://')
    .default(PERSONAL_DATA_REPORT_URL),
  OPERATOR_TOKEN: z
    .string()
    .transform((value, ctx) => {
      const parsed = parseOperatorTokens(value);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: parsed });
        return z.NEVER;
      }
      return parsed;
    })
    .optional(),
  METRICS_TOKEN: z
    .string()
    .min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|[0-9]{1,2}|[a-z0-9.:/,\s]+)$/i, 'must be true, false, a hop count, or addresses/subnets such as loopback or 10.0.0.0/8')
    .optional(),
  PAGE_TOKEN_SECRET: z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`).optional(),
  PAGE_TOKEN_TTL_SECONDS: integer(60, 3600).default('600'),
  CACHE_TTL_SECONDS: integer(1, 300).default('30'),
  CACHE_MAX_ENTRIES: integer(100, 10_000_000).default('100000'),
  LIVE_CHANNELS_MAX: integer(0, 1_000_000).default('10000'),
  // Under the 25 s Forge gives a UI call's invokeRemote, with room for the way there and back.
  LIVE_POLL_SECONDS: secondsAsMs(0.1, 24).default('20'),
  CONNECT_KEYS_CDN_URL: httpUrl.optional(),
  FORGE_APP_ID: z.string().regex(FORGE_APP_ID, 'must be the app id from the Forge manifest, ari:cloud:ecosystem::app/<uuid>').optional(),
  FORGE_JWKS_URL: httpUrl.default(PRODUCTION_JWKS_URL),
  SSF_JWKS_COOLDOWN_SECONDS: secondsAsMs(0, 3600).default('30'),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SSF_SIGNING_KEY: z
    .string()
    .transform((value, ctx) => {
      const key = parseSigningKey(value);
      if (key === null) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: SIGNING_KEY_PROBLEM });
        return z.NEVER;
      }
      return key;
    })
    .optional(),
  SSF_POLL_SECONDS: secondsAsMs(0.05, 3600).default('5'),
  SSF_RETRY_BASE_SECONDS: secondsAsMs(0.01, 3600).default('2'),
  SSF_RETRY_MAX_SECONDS: secondsAsMs(0.01, 86_400).default('3600'),
  DATA_DIR: z.string().min(1, 'must name a directory').default('data'),
  AC_OPTS: z
    .string()
    .optional()
    .refine((value) => value === undefined || !/no-auth|no-token-verfication/.test(value), 'must not switch off authentication'),
});

/** Every variable the configuration reads. */
export const CONFIG_VARIABLES = Object.keys(environmentSchema.shape);

/** Reads and validates the environment; throws ConfigError listing one line per mistake. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Config {
  const parsed = environmentSchema.safeParse(stripEmpty(env));
  if (!parsed.success) {
    // One line per variable: its first problem is the one to fix.
    const byVariable = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const name = issue.path.join('.');
      if (!byVariable.has(name)) byVariable.set(name, `${name} ${issue.message}`);
    }
    throw new ConfigError([...byVariable.values()]);
  }
  const values = parsed.data;
  const production = values.NODE_ENV === 'production';
  const problems: string[] = [];
  if (production && values.APP_BASE_URL === undefined) problems.push('APP_BASE_URL is required in production');
  if (production && values.PAGE_TOKEN_SECRET === undefined) problems.push('PAGE_TOKEN_SECRET is required in production');
  if (production && values.DATABASE_URL === undefined) problems.push('DATABASE_URL is required in production');
  // Every node must sign with the same key, which a node cannot make up on its own.
  if (production && values.SSF_SIGNING_KEY === undefined) problems.push('SSF_SIGNING_KEY is required in production');
  if (values.SSF_RETRY_MAX_SECONDS < values.SSF_RETRY_BASE_SECONDS) problems.push('SSF_RETRY_MAX_SECONDS must be at least SSF_RETRY_BASE_SECONDS');
  if (values.BUS === 'redis' && values.REDIS_URL === undefined) problems.push('REDIS_URL is required with BUS=redis');
  if (values.IDLE_TIMEOUT_SECONDS > values.PAGE_TOKEN_TTL_SECONDS) {
    problems.push(
      `IDLE_TIMEOUT_SECONDS (${values.IDLE_TIMEOUT_SECONDS}) must be no longer than PAGE_TOKEN_TTL_SECONDS (${values.PAGE_TOKEN_TTL_SECONDS}): a token cannot sit idle past its lifetime`,
    );
  }
  if (values.BUS === 'postgres' && !/^postgres(ql)?:\/\//.test(values.DATABASE_URL ?? '')) {
    problems.push('BUS=postgres needs DATABASE_URL to be a postgres:// URL (LISTEN/NOTIFY runs on the store)');
  }
  const dataDir = path.resolve(cwd, values.DATA_DIR);
  const missingParent = values.DATABASE_URL === undefined ? null : missingSqliteParent(values.DATABASE_URL, dataDir);
  if (missingParent !== null) {
    problems.push(`DATABASE_URL names a file in ${missingParent}, which does not exist: create that directory first, or give a path relative to the working directory`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    nodeEnv: values.NODE_ENV,
    port: values.PORT,
    appBaseUrl: values.APP_BASE_URL ?? null,
    databaseUrl: values.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'panelguard.sqlite')}`,
    bus: values.BUS,
    redisUrl: values.REDIS_URL ?? null,
    busChannel: values.BUS_CHANNEL,
    revocationConfirmMs: values.REVOCATION_CONFIRM_MS,
    heartbeatMs: values.HEARTBEAT_MS,
    nodeName: values.NODE_NAME ?? `${hostname()}:${process.pid}`,
    sweepIntervalSeconds: values.SWEEP_INTERVAL_SECONDS,
    idleTimeoutSeconds: values.IDLE_TIMEOUT_SECONDS,
    lastSeenFlushSeconds: values.LAST_SEEN_FLUSH_SECONDS,
    auditRetentionDays: values.AUDIT_RETENTION_DAYS,
    rotation: { afterMs: values.ROTATE_AFTER_SECONDS, graceMs: values.ROTATION_GRACE_SECONDS },
    networkPrefixes: { ipv4: values.NETWORK_PREFIX_V4, ipv6: values.NETWORK_PREFIX_V6 },
    reconcileIntervalMs: values.RECONCILE_INTERVAL_SECONDS,
    personalDataReport: { intervalMs: values.PERSONAL_DATA_REPORT_INTERVAL_SECONDS, url: values.PERSONAL_DATA_REPORT_URL },
    operatorTokens: values.OPERATOR_TOKEN ?? [],
    metricsToken: values.METRICS_TOKEN ?? null,
    trustProxy: trustProxyValue(values.TRUST_PROXY),
    pageTokenSecret: values.PAGE_TOKEN_SECRET ?? developmentSecret(dataDir),
    pageTokenTtlSeconds: values.PAGE_TOKEN_TTL_SECONDS,
    cacheTtlSeconds: values.CACHE_TTL_SECONDS,
    cacheMaxEntries: values.CACHE_MAX_ENTRIES,
    liveChannelsMax: values.LIVE_CHANNELS_MAX,
    livePollMs: values.LIVE_POLL_SECONDS,
    connectKeysCdnUrl: values.CONNECT_KEYS_CDN_URL ?? null,
    forgeAppId: values.FORGE_APP_ID ?? null,
    forgeJwksUrl: values.FORGE_JWKS_URL,
    ssfJwksCooldownMs: values.SSF_JWKS_COOLDOWN_SECONDS,
    logLevel: values.LOG_LEVEL,
    ssf: {
      signingKey: values.SSF_SIGNING_KEY ?? null,
      pollMs: values.SSF_POLL_SECONDS,
      retryBaseMs: values.SSF_RETRY_BASE_SECONDS,
      retryMaxMs: values.SSF_RETRY_MAX_SECONDS,
    },
    dataDir,
  };
}

/**
 * An absolute SQLite path outside DATA_DIR whose directory is missing is more likely a typo than a wish for a new
 * directory tree; the store creates directories only for relative paths and under DATA_DIR.
 */
function missingSqliteParent(url: string, dataDir: string): string | null {
  if (!url.startsWith('sqlite:')) return null;
  const file = url.slice('sqlite:'.length).replace(/^\/\//, '');
  if (file === ':memory:' || !path.isAbsolute(file)) return null;
  const parent = path.dirname(file);
  const underDataDir = parent === dataDir || parent.startsWith(dataDir + path.sep);
  return underDataDir || existsSync(parent) ? null : parent;
}

function trustProxyValue(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  return /^[0-9]+$/.test(value) ? Number(value) : value;
}

/** An empty variable is a mistake more often than a value; treat it as unset. */
function stripEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') out[key] = value;
  return out;
}

/** Development keeps one generated secret under data/, so tokens survive restarts without setup. */
function developmentSecret(dataDir: string): string {
  const file = path.join(dataDir, 'page-token-secret');
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length >= MIN_SECRET_LENGTH) return secret;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomSecret(32);
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
