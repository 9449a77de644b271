/**
 * The simulated site the soak drives: its users and their open issue panels (tabs), its issues,
 * and the three things a browser and the host do — render a panel (mint a page token), call the
 * notes API with it, and nothing else. Every request is stamped into the ledger.
 */
import type { HostSimulator, IssueContext } from '../src/host-simulator';
import { randomId } from '../src/tokens/random';
import { pageTokenOf } from '../test/integration/harness';
import { soakClock, type Answer, type Ledger, type UseKind } from './ledger';
import type { Random } from './random';

/** A request the soak gave up on after this long: a node that hangs is no better than one that fails. */
export const REQUEST_TIMEOUT_MS = 15_000;
/** Page tokens a tab keeps using: its newest mostly, older ones now and then (a tab left open). */
const TOKENS_KEPT = 4;

export interface Tab {
  user: User;
  issue: IssueContext;
  /** Ledger indexes of this tab's page tokens, newest last. */
  tokens: number[];
}

export interface User {
  accountId: string;
  tabs: Tab[];
  /** A revocation or reactivation of this user is under way: no other one starts. */
  busy: boolean;
  /** Removed (tombstoned) on the host; reactivated at `reactivateAt`. */
  removed: boolean;
  reactivateAt: number;
}

export interface SiteOptions {
  users: number;
  issues: number;
  /** Share of API calls that add a note rather than list them. */
  postShare: number;
}

export class Site {
  readonly users: User[] = [];
  /** Issues that exist, by id. */
  readonly issues = new Map<string, IssueContext>();
  /** Issues under deletion or deleted: no tab moves to them. */
  readonly deletedIssues = new Set<string>();
  private nextIssue = 10_001;

  constructor(
    readonly sim: HostSimulator,
    readonly ledger: Ledger,
    readonly random: Random,
    private readonly options: SiteOptions,
    private readonly nodeNameOf: (target: string | null) => string | null,
  ) {
    for (let i = 0; i < options.issues; i += 1) this.createIssue();
    for (let i = 0; i < options.users; i += 1) {
      const accountId = `557058:soak-${i}-${randomId().slice(0, 8)}`;
      sim.directory.add({ accountId, displayName: `Soak user ${i}`, active: true, siteAdmin: false });
      const user: User = { accountId, tabs: [], busy: false, removed: false, reactivateAt: 0 };
      const tabs = random.chance(0.5) ? 2 : 1;
      for (let t = 0; t < tabs; t += 1) user.tabs.push({ user, issue: this.randomIssue(), tokens: [] });
      this.users.push(user);
    }
  }

  get tabs(): Tab[] {
    return this.users.flatMap((user) => user.tabs);
  }

  /** A new issue in one of two projects, as if someone created it on the site. */
  createIssue(): IssueContext {
    const id = this.nextIssue++;
    const project = id % 2 === 0 ? { projectId: '10000', projectKey: 'SOAK' } : { projectId: '20000', projectKey: 'CHAOS' };
    const issue: IssueContext = { issueId: String(id), issueKey: `${project.projectKey}-${id}`, ...project };
    this.sim.issues.put(issue);
    this.issues.set(issue.issueId, issue);
    return issue;
  }

  randomIssue(): IssueContext {
    return this.random.pick([...this.issues.values()]);
  }

  /** Renders the tab's issue panel through the balancer, as the host's iframe would, and keeps the page token it mints. */
  async render(tab: Tab): Promise<number | null> {
    // A tab on a deleted issue is navigated elsewhere by its user before it renders again, most of the time.
    if (this.deletedIssues.has(tab.issue.issueId) && this.random.chance(0.8)) tab.issue = this.randomIssue();
    const sentAt = soakClock();
    const url = this.sim.panelUrl('issue-notes', tab.issue, tab.user.accountId);
    const { answer, body } = await send(url, { headers: { accept: 'text/html' } }, this.nodeNameOf);
    const answeredAt = soakClock();
    const value = answer.status === 200 && body !== null ? pageTokenOf(body) : null;
    let token: number | null = null;
    if (value !== null) {
      token = this.ledger.addToken({
        accountId: tab.user.accountId,
        issueId: tab.issue.issueId,
        expiresAt: expiryOf(value),
        mintSentAt: sentAt,
        mintAnsweredAt: answeredAt,
        value,
      });
      tab.tokens.push(token);
      if (tab.tokens.length > TOKENS_KEPT) tab.tokens.shift();
    }
    this.ledger.mints.push({ ...answer, accountId: tab.user.accountId, issueId: tab.issue.issueId, sentAt, answeredAt, token });
    return token;
  }

  /** Calls the notes API through the balancer with one of the tab's page tokens. */
  async use(tab: Tab, kind: UseKind, token?: number): Promise<void> {
    const chosen = token ?? this.pickToken(tab);
    if (chosen === undefined) return;
    await this.call(chosen, kind);
  }

  /** Calls the notes API through the balancer with a page token. */
  async call(token: number, kind: UseKind): Promise<void> {
    const record = this.ledger.tokens[token]!;
    const post = this.random.chance(this.options.postShare);
    const init: RequestInit = post
      ? { method: 'POST', headers: { authorization: `Bearer ${record.value}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: `soak ${kind}` }) }
      : { method: 'GET', headers: { authorization: `Bearer ${record.value}` } };
    const sentAt = soakClock();
    const { answer } = await send(`${this.sim.descriptor!.baseUrl}/api/issues/${record.issueId}/notes`, init, this.nodeNameOf, false);
    this.ledger.uses.push({ ...answer, token, method: post ? 'POST' : 'GET', kind, sentAt, answeredAt: soakClock() });
  }

  private pickToken(tab: Tab): number | undefined {
    if (tab.tokens.length === 0) return undefined;
    return this.random.chance(0.85) ? tab.tokens[tab.tokens.length - 1] : this.random.pick(tab.tokens);
  }
}

/** A page token's `exp`, in ms, read without verifying (the soak only needs to know when it lapses). */
function expiryOf(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
  return typeof payload.exp === 'number' ? payload.exp * 1000 : Number.POSITIVE_INFINITY;
}

/**
 * One request with the soak's timeout. Answers the status, the JSON error code (or `bad_gateway`), the node that
 * served it, and the body when `keepBody`; a request that got no answer has status null and says why.
 */
export async function send(
  url: string,
  init: RequestInit,
  nodeNameOf: (target: string | null) => string | null,
  keepBody = true,
): Promise<{ answer: Answer; body: string | null; headers: Headers | null }> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    return { answer: { status: null, code: whyNoAnswer(error), servedBy: null }, body: null, headers: null };
  }
  const servedBy = nodeNameOf(response.headers.get('x-balancer-target'));
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    // Headers came, the body did not: the node went away mid-answer, or never finished it.
    return { answer: { status: null, code: whyNoAnswer(error), servedBy }, body: null, headers: response.headers };
  }
  let code: string | null = null;
  if (response.status >= 400 && (response.headers.get('content-type') ?? '').includes('json')) {
    try {
      const parsed = JSON.parse(text) as { error?: { code?: unknown } };
      if (typeof parsed.error?.code === 'string') code = parsed.error.code;
    } catch {
      code = 'unparsable';
    }
  }
  return { answer: { status: response.status, code, servedBy }, body: keepBody ? text : null, headers: response.headers };
}

/** `timeout` when the soak gave up waiting (the node may still act on the request), `network` when the connection failed. */
function whyNoAnswer(error: unknown): 'timeout' | 'network' {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError') ? 'timeout' : 'network';
}
