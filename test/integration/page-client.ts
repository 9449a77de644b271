/**
 * A page as a browser runs it, for theft-detection tests over HTTP: it holds one page token, calls the notes API
 * from one device, and moves to the `Page-Token-Next` an answer carries only when that answer was to the token it
 * holds; an answer to an older token, arriving late, never moves it. Also what the tests read back: the signals an
 * admin sees in the audit, and the theft metrics.
 */
import type { SignalDetail } from '../../src/allowlist/types';
import type { IssueContext } from '../../src/host-simulator';
import { ISSUE, pageTokenOf, type ApiBody } from './harness';

/**
 * Where calls come from. The app under test trusts X-Forwarded-For from loopback (TRUST_PROXY=loopback), so each
 * device has an address of its own even though every request leaves this machine.
 */
export interface Device {
  ip: string;
  userAgent: string;
}

export const VICTIM: Device = {
  ip: '203.0.113.10',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
};
export const THIEF: Device = {
  ip: '198.51.100.66',
  userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
};

/** The configuration that lets a device's address through: the app is called from loopback only. */
export const TRUST_LOOPBACK = { TRUST_PROXY: 'loopback' };

export interface Answer {
  status: number;
  /** The refusal's code; null when served. */
  code: string | null;
  /** The token the call carried. */
  sent: string;
  /** The successor the answer offered (`Page-Token-Next`), if any. */
  next: string | null;
}

const fromDevice = (device: Device): Record<string, string> => ({ 'user-agent': device.userAgent, 'x-forwarded-for': device.ip });

/** Renders the issue panel at `panelUrl` from `device`, as the host's iframe would, and returns the page with its token. */
export async function openPage(panelUrl: string, device: Device, issue: IssueContext = ISSUE): Promise<PageClient> {
  const response = await fetch(panelUrl, { headers: fromDevice(device) });
  const html = await response.text();
  const token = pageTokenOf(html);
  if (response.status !== 200 || token === null) throw new Error(`no page token: ${response.status} ${html.slice(0, 200)}`);
  return new PageClient(token, device, issue);
}

export class PageClient {
  /** How many times the page moved to a successor. */
  switches = 0;

  constructor(
    public token: string,
    readonly device: Device,
    readonly issue: IssueContext = ISSUE,
  ) {}

  /** One call to the app at `baseUrl` with the token held now, its answer taken as the page takes it. */
  async call(baseUrl: string): Promise<Answer> {
    return this.receive(await this.send(baseUrl));
  }

  /** A call whose answer the page has not taken yet: one in flight, or one lost on its way if never received. */
  async send(baseUrl: string, token: string = this.token): Promise<Answer> {
    const response = await fetch(`${baseUrl}/api/issues/${this.issue.issueId}/notes`, {
      headers: { authorization: `Bearer ${token}`, ...fromDevice(this.device) },
    });
    const body = (await response.json()) as ApiBody;
    return { status: response.status, code: body.error?.code ?? null, sent: token, next: response.headers.get('page-token-next') };
  }

  /** Takes an answer: its successor replaces the token held only when the answer was to that token. */
  receive(answer: Answer): Answer {
    if (answer.next !== null && answer.sent === this.token) {
      this.token = answer.next;
      this.switches += 1;
    }
    return answer;
  }
}

/** What an answer was: `200`, or the status and the refusal's code, so a failed expectation says why. */
export function outcome(answer: Answer): string {
  return answer.code === null ? String(answer.status) : `${answer.status} ${answer.code}`;
}

export interface SignalRecord {
  at: number;
  accountId: string | null;
  reason: string | null;
  detail: SignalDetail;
}

/** The theft signals an admin of the site reads (newest first), optionally of one user, through the admin API. */
export async function signals(baseUrl: string, operatorToken: string, accountId?: string): Promise<SignalRecord[]> {
  const query = new URLSearchParams({ kind: 'signal', limit: '200', ...(accountId === undefined ? {} : { user: accountId }) });
  const response = await fetch(`${baseUrl}/api/admin/audit?${query}`, { headers: { authorization: `Bearer ${operatorToken}` } });
  if (response.status !== 200) throw new Error(`audit: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { records: SignalRecord[] }).records;
}

/** Sets the site's policy fields in `change` through the admin API. */
export async function setPolicy(baseUrl: string, operatorToken: string, change: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${baseUrl}/api/admin/policy`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(change),
  });
  if (response.status !== 200) throw new Error(`policy: ${response.status} ${await response.text()}`);
}

/** The sum, over the apps at `baseUrls`, of every sample of metric `name` whose labels include `labels`. */
export async function metricSum(baseUrls: string[], name: string, labels: Record<string, string> = {}): Promise<number> {
  let sum = 0;
  for (const baseUrl of baseUrls) {
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    for (const line of text.split('\n')) {
      const sample = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (sample === null || sample[1] !== name) continue;
      const present = new Map([...(sample[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      if (Object.entries(labels).every(([key, value]) => present.get(key) === value)) sum += Number(sample[3]);
    }
  }
  return sum;
}

/** What would show that theft detection fired: signals of any kind counted, and sessions revoked for theft. */
export interface Alarms {
  signals: number;
  theftRevocations: number;
}

export async function alarms(baseUrls: string[]): Promise<Alarms> {
  return {
    signals: await metricSum(baseUrls, 'panelguard_theft_signals_total'),
    theftRevocations: await metricSum(baseUrls, 'panelguard_revocations_total', { reason: 'theft_suspected' }),
  };
}

export const rotations = (baseUrls: string[]): Promise<number> => metricSum(baseUrls, 'panelguard_page_token_rotations_total');
