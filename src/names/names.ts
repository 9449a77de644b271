/**
 * People's display names and issues' and projects' keys on one site, as the host says them: asked in one batch per
 * page of rows, kept briefly, and never in the way of the page: whatever the host cannot say in time stays an id.
 */
import NodeCache from 'node-cache';

/**
 * A way to ask that does not apply to this site (Connect credentials on a Forge-only installation): not a failure
 * to report, and nothing to keep, so that a later call through the right door asks.
 */
export class NoWayToAsk extends Error {
  constructor() {
    super('this site cannot be asked this way');
    this.name = 'NoWayToAsk';
  }
}

/** One way to ask the host, for one site and one request (Connect's HTTP client, or Forge's product API). */
export interface HostNames {
  /** Display names by account id; accounts the host does not know are left out. Rejects when the host cannot be asked (NoWayToAsk: not this way). */
  displayNames(accountIds: readonly string[]): Promise<Map<string, string>>;
  /** Issue keys (`DEMO-1`) by issue id; issues the host does not show (deleted, hidden) are left out. Rejects likewise. */
  issueKeys(issueIds: readonly string[]): Promise<Map<string, string>>;
  /** Project keys (`DEMO`) by project id; projects the host does not show (deleted, archived, hidden) are left out. Rejects likewise. */
  projectKeys(projectIds: readonly string[]): Promise<Map<string, string>>;
}

/** What a page of rows names, by id. */
export interface Wanted {
  accountIds: Iterable<string | null>;
  issueIds: Iterable<string | null>;
  projectIds: Iterable<string | null>;
}

/** The names found, by id; an id missing here is shown as itself. */
export interface Labels {
  displayName(accountId: string | null): string | null;
  issueKey(issueId: string | null): string | null;
  projectKey(projectId: string | null): string | null;
}

export interface NameResolverOptions {
  /** How long an answer is kept: a renamed user shows their old name for at most this long. */
  ttlSeconds: number;
  /** Cap on kept answers across sites; past it answers are used once and not kept. */
  maxEntries: number;
  /** How long a page waits for the host before it shows ids. */
  timeoutMs: number;
  /** Resolves once `ms` have passed (tests resolve it themselves); a real timer by default. */
  wait?: (ms: number) => Promise<void>;
  /** Told of each failed or late lookup (never with a credential), so that the log says why a page shows ids. */
  onFailure?: (failure: LookupFailure) => void;
}

export interface LookupFailure {
  tenant: string;
  what: 'people' | 'issues' | 'projects';
  code: 'host_failed' | 'host_timeout';
  error?: unknown;
}

/** A kept answer: the name, or null when the host answered without it (an unknown account, a deleted issue). */
type Kept = string | null;

const NO_LABELS: Labels = { displayName: () => null, issueKey: () => null, projectKey: () => null };

function realWait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function distinct(ids: Iterable<string | null>): string[] {
  const seen = new Set<string>();
  for (const id of ids) if (id !== null && id !== '') seen.add(id);
  return [...seen];
}

export class NameResolver {
  private readonly kept: NodeCache;
  private readonly wait: (ms: number) => Promise<void>;

  constructor(private readonly options: NameResolverOptions) {
    // No cloning: kept values are strings.
    this.kept = new NodeCache({ stdTTL: options.ttlSeconds, checkperiod: Math.max(1, options.ttlSeconds), useClones: false, maxKeys: options.maxEntries });
    this.wait = options.wait ?? realWait;
  }

  /**
   * The names a page of rows needs, for `tenant`: kept ones at once, the rest in one question per kind to `host`
   * (null: no way to ask, so ids). Never rejects: a failed or late question leaves its ids unnamed.
   */
  async resolve(tenant: string, host: HostNames | null, wanted: Wanted): Promise<Labels> {
    const accountIds = distinct(wanted.accountIds);
    const issueIds = distinct(wanted.issueIds);
    const projectIds = distinct(wanted.projectIds);
    if (accountIds.length === 0 && issueIds.length === 0 && projectIds.length === 0) return NO_LABELS;
    // Each kind is its own question, asked side by side, each under its own timeout: a slow one leaves only its ids.
    const [people, issues, projects] = await Promise.all([
      this.lookUp(tenant, 'people', accountIds, host === null ? null : (ids) => host.displayNames(ids)),
      this.lookUp(tenant, 'issues', issueIds, host === null ? null : (ids) => host.issueKeys(ids)),
      this.lookUp(tenant, 'projects', projectIds, host === null ? null : (ids) => host.projectKeys(ids)),
    ]);
    return {
      displayName: (accountId) => nameIn(people, accountId),
      issueKey: (issueId) => nameIn(issues, issueId),
      projectKey: (projectId) => nameIn(projects, projectId),
    };
  }

  close(): void {
    this.kept.close();
  }

  private async lookUp(
    tenant: string,
    what: LookupFailure['what'],
    ids: string[],
    ask: ((ids: string[]) => Promise<Map<string, string>>) | null,
  ): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const missing: string[] = [];
    for (const id of ids) {
      const kept = this.kept.get<Kept>(keyOf(tenant, what, id));
      if (kept === undefined) missing.push(id);
      else if (kept !== null) found.set(id, kept);
    }
    if (missing.length === 0 || ask === null) return found;
    const answer = await this.answerInTime(tenant, what, ask(missing));
    if (answer === null) return found;
    for (const id of missing) {
      const name = answer.get(id) ?? null;
      this.keep(keyOf(tenant, what, id), name);
      if (name !== null) found.set(id, name);
    }
    return found;
  }

  /** The host's answer, or null when it failed or came after the timeout (a late answer is dropped, not kept). */
  private answerInTime(tenant: string, what: LookupFailure['what'], asked: Promise<Map<string, string>>): Promise<Map<string, string> | null> {
    const answered = asked.then(
      (names) => ({ names }),
      (error: unknown) => {
        if (!(error instanceof NoWayToAsk)) this.options.onFailure?.({ tenant, what, code: 'host_failed', error });
        return { names: null };
      },
    );
    const late = this.wait(this.options.timeoutMs).then(() => ({ names: null, late: true as const }));
    return Promise.race([answered, late]).then((outcome) => {
      if ('late' in outcome) this.options.onFailure?.({ tenant, what, code: 'host_timeout' });
      return outcome.names;
    });
  }

  private keep(key: string, value: Kept): void {
    try {
      this.kept.set(key, value);
    } catch {
      // node-cache throws ECACHEFULL at maxKeys: the answer serves this page and is asked again next time.
    }
  }
}

function nameIn(found: Map<string, string>, id: string | null): string | null {
  return id === null ? null : (found.get(id) ?? null);
}

function keyOf(tenant: string, what: LookupFailure['what'], id: string): string {
  return `${tenant}\u0000${what}\u0000${id}`;
}
