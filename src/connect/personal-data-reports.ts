/**
 * Atlassian's personal data reporting API for a Connect app: `POST <PERSONAL_DATA_REPORT_URL>` (api.atlassian.com's
 * `/app/report-accounts/`) with up to 90 `{accountId, updatedAt}`, authenticated as the app calls its hosts: an HS256
 * JWT issued by the app (`iss` its key, `aud` the site, `qsh` for this request) signed with the shared secret of the
 * site the report is made for. ACE's HTTP client signs only calls to the site itself, so the JWT is made here, the
 * way ACE makes it. Answers: 204 nothing to do, 200 the accounts `closed` or `updated`, 429 with Retry-After.
 */
import { SymmetricAlgorithm, createQueryStringHash, encodeSymmetric, fromMethodAndUrl } from 'atlassian-jwt';
import { z } from 'zod';
import type { HeldAccount, PersonalDataReports, ReportResult } from '../signals/personal-data';
import type { SettingsStore } from './ace-store';
import { hostTime, retryAfterMs, type HostAnswer } from './host-directory';

/** The part of ACE's clientInfo a signed call needs. */
const clientInfo = z.object({ key: z.string().min(1), clientKey: z.string().min(1), sharedSecret: z.string().min(1) }).passthrough();

const reportAnswer = z.object({
  accounts: z.array(z.object({ accountId: z.string().min(1), status: z.enum(['closed', 'updated']) }).passthrough()),
});

/** How long the JWT of one request lives, as ACE's do by default. */
const JWT_TTL_SECONDS = 180;
const TIMEOUT_MS = 10_000;

export interface ReportSigning {
  appKey: string;
  clientKey: string;
  sharedSecret: string;
  /** Epoch seconds. */
  now: number;
}

/** The `Authorization` header for one report: what ACE puts on a call to the host, made for the reporting API's URL. */
export function reportAuthorization(url: string, signing: ReportSigning): string {
  const claims = {
    iss: signing.appKey,
    iat: signing.now,
    exp: signing.now + JWT_TTL_SECONDS,
    qsh: createQueryStringHash(fromMethodAndUrl('POST', url)),
    aud: [signing.clientKey],
  };
  return `JWT ${encodeSymmetric(claims, signing.sharedSecret, SymmetricAlgorithm.HS256)}`;
}

/** Reads the API's answer; anything it does not document is a failure, and ends nothing. */
export function reportResult(answer: HostAnswer | null, now: number): ReportResult {
  if (answer === null) return { ok: false, code: 'host_unavailable' };
  if (answer.status === 429) return { ok: false, code: 'rate_limited', retryAfterMs: retryAfterMs(answer.retryAfter, now) };
  const answeredAt = hostTime(answer.date);
  if (answer.status === 204) return { ok: true, value: { closed: [], updated: [], answeredAt } };
  if (answer.status !== 200) return { ok: false, code: 'host_unavailable' };
  const parsed = reportAnswer.safeParse(answer.body);
  if (!parsed.success) return { ok: false, code: 'host_unavailable' };
  const named = (status: 'closed' | 'updated') => parsed.data.accounts.filter((account) => account.status === status).map((account) => account.accountId);
  return { ok: true, value: { closed: named('closed'), updated: named('updated'), answeredAt } };
}

export interface ReportOptions {
  /** `PERSONAL_DATA_REPORT_URL`. */
  url: string;
  /** ACE's settings, where each Connect tenant's clientInfo (its shared secret) is kept. */
  settings: Pick<SettingsStore, 'getSetting'>;
  /** Epoch ms. */
  now(): number;
}

async function post(url: string, authorization: string, accounts: readonly HeldAccount[]): Promise<HostAnswer | null> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { Authorization: authorization, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ accounts: accounts.map(({ accountId, updatedAt }) => ({ accountId, updatedAt: new Date(updatedAt).toISOString() })) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'error',
    });
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: response.status, retryAfter: response.headers.get('retry-after'), date: response.headers.get('date'), body };
  } catch {
    return null;
  }
}

export function connectPersonalDataReports(options: ReportOptions): PersonalDataReports {
  return {
    async report(clientKey, accounts) {
      const stored = clientInfo.safeParse(await options.settings.getSetting(clientKey, 'clientInfo'));
      if (!stored.success) return { ok: false, code: 'not_connect' };
      const authorization = reportAuthorization(options.url, {
        appKey: stored.data.key,
        clientKey: stored.data.clientKey,
        sharedSecret: stored.data.sharedSecret,
        now: Math.floor(options.now() / 1000),
      });
      return reportResult(await post(options.url, authorization, accounts), options.now());
    },
  };
}
