import { expect } from 'chai';
import type { AddOn } from '../../src/connect/addon';
import { connectHostNames, type Ask } from '../../src/connect/host-names';
import { forgeHostNames } from '../../src/forge/host-names';
import { startHostSimulator, type HostSimulator } from '../../src/host-simulator';
import { CONTRACT_LAYOUT, startForgeSimulator, type ForgeSimulator } from '../../src/host-simulator/forge';
import { NamesUnavailable } from '../../src/names/jira-answers';
import { NameResolver, NoWayToAsk, type HostNames, type LookupFailure, type Wanted } from '../../src/names/names';
import { startStandInRemote, type StandInRemote } from '../support/forge-remote';

const ADA = '557058:ada';
const BOB = '557058:bob';

/** A host that answers from fixed names and records every question; `fail` makes it reject, `hold` keeps it from answering. */
class FakeHost implements HostNames {
  readonly askedPeople: string[][] = [];
  readonly askedIssues: string[][] = [];
  readonly askedProjects: string[][] = [];
  fail = false;
  private held: Array<() => void> = [];
  hold = false;

  constructor(
    private readonly people: Record<string, string>,
    private readonly issues: Record<string, string>,
    private readonly projects: Record<string, string> = {},
  ) {}

  displayNames(accountIds: readonly string[]): Promise<Map<string, string>> {
    this.askedPeople.push([...accountIds]);
    return this.answer(accountIds, this.people);
  }

  issueKeys(issueIds: readonly string[]): Promise<Map<string, string>> {
    this.askedIssues.push([...issueIds]);
    return this.answer(issueIds, this.issues);
  }

  projectKeys(projectIds: readonly string[]): Promise<Map<string, string>> {
    this.askedProjects.push([...projectIds]);
    return this.answer(projectIds, this.projects);
  }

  /** Lets every held question answer. */
  release(): void {
    for (const answer of this.held.splice(0)) answer();
  }

  private answer(ids: readonly string[], known: Record<string, string>): Promise<Map<string, string>> {
    if (this.fail) return Promise.reject(new NamesUnavailable(503));
    const names = new Map(ids.filter((id) => id in known).map((id) => [id, known[id]] as const));
    if (!this.hold) return Promise.resolve(names);
    return new Promise((resolve) => this.held.push(() => resolve(names)));
  }
}

/** A timeout the test fires itself: nothing sleeps. */
class ManualTimeout {
  private readonly pending: Array<() => void> = [];
  readonly wait = (): Promise<void> => new Promise((resolve) => this.pending.push(resolve));
  fire(): void {
    for (const resolve of this.pending.splice(0)) resolve();
  }
}

/** What a page wants named; each kind empty unless given. */
function wanted(ids: Partial<Wanted>): Wanted {
  return { accountIds: [], issueIds: [], projectIds: [], ...ids };
}

describe('names: display names, issue keys and project keys for the rows a page lists', () => {
  let host: FakeHost;
  let timeout: ManualTimeout;
  let failures: LookupFailure[];
  let resolver: NameResolver;

  beforeEach(() => {
    host = new FakeHost({ [ADA]: 'Ada Admin', [BOB]: 'Bob' }, { '10001': 'DEMO-1', '10002': 'DEMO-2' }, { '10000': 'DEMO', '20000': 'OPS' });
    timeout = new ManualTimeout();
    failures = [];
    resolver = new NameResolver({ ttlSeconds: 300, maxEntries: 100, timeoutMs: 1_500, wait: timeout.wait, onFailure: (failure) => failures.push(failure) });
  });
  afterEach(() => resolver.close());

  it('names every user, issue and project of a page with one question per kind, each id asked once', async () => {
    const labels = await resolver.resolve(
      'site-1',
      host,
      wanted({ accountIds: [ADA, BOB, ADA, null], issueIds: ['10001', null, '10002', '10001'], projectIds: ['20000', null, '10000', '20000'] }),
    );
    expect(host.askedPeople).to.deep.equal([[ADA, BOB]]);
    expect(host.askedIssues).to.deep.equal([['10001', '10002']]);
    expect(host.askedProjects).to.deep.equal([['20000', '10000']]);
    expect([labels.displayName(ADA), labels.displayName(BOB), labels.displayName(null)]).to.deep.equal(['Ada Admin', 'Bob', null]);
    expect([labels.issueKey('10001'), labels.issueKey('10002'), labels.issueKey(null)]).to.deep.equal(['DEMO-1', 'DEMO-2', null]);
    expect([labels.projectKey('10000'), labels.projectKey('20000'), labels.projectKey(null)]).to.deep.equal(['DEMO', 'OPS', null]);
  });

  it('asks nothing for a page with nothing to name', async () => {
    const labels = await resolver.resolve('site-1', host, wanted({ accountIds: [null], projectIds: [null] }));
    expect(labels.displayName(ADA)).to.equal(null);
    expect(labels.projectKey('10000')).to.equal(null);
    expect(host.askedPeople).to.deep.equal([]);
    expect(host.askedIssues).to.deep.equal([]);
    expect(host.askedProjects).to.deep.equal([]);
  });

  it('asks only for the kinds a page lists', async () => {
    const labels = await resolver.resolve('site-1', host, wanted({ projectIds: ['10000'] }));
    expect(labels.projectKey('10000')).to.equal('DEMO');
    expect([host.askedPeople, host.askedIssues]).to.deep.equal([[], []]);
  });

  it('keeps answers: the next page asks only for what it has not seen, on the same site', async () => {
    await resolver.resolve('site-1', host, wanted({ accountIds: [ADA], issueIds: ['10001'], projectIds: ['10000'] }));
    const labels = await resolver.resolve('site-1', host, wanted({ accountIds: [ADA, BOB], issueIds: ['10001'], projectIds: ['10000', '20000'] }));
    expect(host.askedPeople).to.deep.equal([[ADA], [BOB]]);
    expect(host.askedIssues).to.deep.equal([['10001']]);
    expect(host.askedProjects).to.deep.equal([['10000'], ['20000']]);
    expect(labels.displayName(ADA)).to.equal('Ada Admin');
    expect(labels.issueKey('10001')).to.equal('DEMO-1');
    expect(labels.projectKey('10000')).to.equal('DEMO');
  });

  it('keeps issues and projects apart, though Jira numbers both from 10000', async () => {
    const both = new FakeHost({}, { '10000': 'DEMO-7' }, { '10000': 'DEMO' });
    await resolver.resolve('site-1', both, wanted({ issueIds: ['10000'] }));
    const labels = await resolver.resolve('site-1', both, wanted({ issueIds: ['10000'], projectIds: ['10000'] }));
    expect([labels.issueKey('10000'), labels.projectKey('10000')]).to.deep.equal(['DEMO-7', 'DEMO']);
    expect(both.askedProjects).to.deep.equal([['10000']]);
  });

  it('keeps one site\u2019s answers from another site', async () => {
    await resolver.resolve('site-1', host, wanted({ accountIds: [ADA], projectIds: ['10000'] }));
    const other = new FakeHost({ [ADA]: 'Someone Else' }, {}, { '10000': 'ELSE' });
    const labels = await resolver.resolve('site-2', other, wanted({ accountIds: [ADA], projectIds: ['10000'] }));
    expect(other.askedPeople).to.deep.equal([[ADA]]);
    expect(other.askedProjects).to.deep.equal([['10000']]);
    expect(labels.displayName(ADA)).to.equal('Someone Else');
    expect(labels.projectKey('10000')).to.equal('ELSE');
  });

  it('keeps "the host does not know this one" too, so a deleted issue or project is not asked about on every page', async () => {
    const gone = wanted({ accountIds: ['557058:gone'], issueIds: ['99999'], projectIds: ['90000'] });
    const first = await resolver.resolve('site-1', host, gone);
    expect(first.displayName('557058:gone')).to.equal(null);
    expect(first.issueKey('99999')).to.equal(null);
    expect(first.projectKey('90000')).to.equal(null);
    await resolver.resolve('site-1', host, gone);
    expect(host.askedPeople).to.have.length(1);
    expect(host.askedIssues).to.have.length(1);
    expect(host.askedProjects).to.have.length(1);
  });

  it('shows ids when the host fails, says so, and asks again next time', async () => {
    host.fail = true;
    const page = wanted({ accountIds: [ADA], issueIds: ['10001'], projectIds: ['10000'] });
    const labels = await resolver.resolve('site-1', host, page);
    expect(labels.displayName(ADA)).to.equal(null);
    expect(labels.issueKey('10001')).to.equal(null);
    expect(labels.projectKey('10000')).to.equal(null);
    expect(failures.map(({ tenant, what, code }) => ({ tenant, what, code }))).to.deep.equal([
      { tenant: 'site-1', what: 'people', code: 'host_failed' },
      { tenant: 'site-1', what: 'issues', code: 'host_failed' },
      { tenant: 'site-1', what: 'projects', code: 'host_failed' },
    ]);
    host.fail = false;
    const again = await resolver.resolve('site-1', host, page);
    expect(again.displayName(ADA)).to.equal('Ada Admin');
    expect(again.issueKey('10001')).to.equal('DEMO-1');
    expect(again.projectKey('10000')).to.equal('DEMO');
  });

  it('shows ids when the host has not answered by the timeout, and does not keep the late answer', async () => {
    host.hold = true;
    const page = resolver.resolve('site-1', host, wanted({ accountIds: [ADA], issueIds: ['10001'], projectIds: ['10000'] }));
    timeout.fire();
    const labels = await page;
    expect(labels.displayName(ADA)).to.equal(null);
    expect(labels.issueKey('10001')).to.equal(null);
    expect(labels.projectKey('10000')).to.equal(null);
    expect(failures.map(({ what, code }) => `${what} ${code}`)).to.deep.equal(['people host_timeout', 'issues host_timeout', 'projects host_timeout']);
    host.release();
    host.hold = false;
    const later = await resolver.resolve('site-1', host, wanted({ accountIds: [ADA], projectIds: ['10000'] }));
    expect(host.askedPeople).to.have.length(2);
    expect(host.askedProjects).to.have.length(2);
    expect(later.projectKey('10000')).to.equal('DEMO');
  });

  it('neither reports nor keeps a way of asking that does not apply, so the right door asks next', async () => {
    const notThisWay: HostNames = {
      displayNames: () => Promise.reject(new NoWayToAsk()),
      issueKeys: () => Promise.reject(new NoWayToAsk()),
      projectKeys: () => Promise.reject(new NoWayToAsk()),
    };
    const page = wanted({ accountIds: [ADA], issueIds: ['10001'], projectIds: ['10000'] });
    const labels = await resolver.resolve('site-1', notThisWay, page);
    expect([labels.displayName(ADA), labels.issueKey('10001'), labels.projectKey('10000')]).to.deep.equal([null, null, null]);
    expect(failures).to.deep.equal([]);
    const named = await resolver.resolve('site-1', host, page);
    expect([named.displayName(ADA), named.issueKey('10001'), named.projectKey('10000')]).to.deep.equal(['Ada Admin', 'DEMO-1', 'DEMO']);
  });

  it('shows ids where there is no way to ask the host', async () => {
    const labels = await resolver.resolve('site-1', null, wanted({ accountIds: [ADA], issueIds: ['10001'], projectIds: ['10000'] }));
    expect(labels.displayName(ADA)).to.equal(null);
    expect(labels.issueKey('10001')).to.equal(null);
    expect(labels.projectKey('10000')).to.equal(null);
  });

  it('keeps no more answers than its bound, and still names the page past it', async () => {
    const small = new NameResolver({ ttlSeconds: 300, maxEntries: 1, timeoutMs: 1_500, wait: timeout.wait });
    try {
      const labels = await small.resolve('site-1', host, wanted({ accountIds: [ADA, BOB] }));
      expect([labels.displayName(ADA), labels.displayName(BOB)]).to.deep.equal(['Ada Admin', 'Bob']);
      await small.resolve('site-1', host, wanted({ accountIds: [ADA, BOB] }));
      expect(host.askedPeople).to.deep.equal([[ADA, BOB], [BOB]]);
    } finally {
      small.close();
    }
  });
});

describe('names through the Connect door (ACE, as the app)', () => {
  const noAddon = {} as AddOn;
  const connected = { hasCredentials: async () => true };

  function recording(answer: (request: Parameters<Ask>[0]) => { status: number; body: unknown }): { ask: Ask; asked: Array<Parameters<Ask>[0]> } {
    const asked: Array<Parameters<Ask>[0]> = [];
    const ask: Ask = async (request) => {
      asked.push(request);
      return answer(request);
    };
    return { asked, ask };
  }

  it('asks the bulk user API for a page of users in one call, and reads their display names', async () => {
    const { ask, asked } = recording(() => ({
      status: 200,
      body: { startAt: 0, isLast: true, values: [{ accountId: ADA, displayName: 'Ada Admin', active: true }, { accountId: BOB, active: true }] },
    }));
    const names = await connectHostNames(noAddon, 'site-1', { ...connected, ask }).displayNames([ADA, BOB]);
    expect(asked).to.deep.equal([{ method: 'get', url: `/rest/api/3/user/bulk?accountId=${encodeURIComponent(ADA)}&accountId=${encodeURIComponent(BOB)}&maxResults=2`, json: true }]);
    // a user without a display name stays an id
    expect([...names]).to.deep.equal([[ADA, 'Ada Admin']]);
  });

  it('asks bulk issue fetch for the keys only, in runs of 100', async () => {
    const ids = Array.from({ length: 101 }, (_, i) => String(10_000 + i));
    const { ask, asked } = recording((request) => {
      const { issueIdsOrKeys } = request.json as { issueIdsOrKeys: string[] };
      return { status: 200, body: { issues: issueIdsOrKeys.map((id) => ({ id, key: `DEMO-${id}` })), issueErrors: [] } };
    });
    const keys = await connectHostNames(noAddon, 'site-1', { ...connected, ask }).issueKeys(ids);
    expect(asked.map(({ method, url }) => `${method} ${url}`)).to.deep.equal(['post /rest/api/3/issue/bulkfetch', 'post /rest/api/3/issue/bulkfetch']);
    expect(asked.map(({ json }) => (json as { issueIdsOrKeys: string[] }).issueIdsOrKeys.length)).to.deep.equal([100, 1]);
    expect((asked[0].json as { fields: string[] }).fields).to.deep.equal(['issuekey']);
    expect(keys.size).to.equal(101);
    expect(keys.get('10100')).to.equal('DEMO-10100');
  });

  it('asks project search for the keys of a page of projects, in runs of 50, one page each', async () => {
    const ids = Array.from({ length: 51 }, (_, i) => String(10_000 + i));
    const { ask, asked } = recording((request) => {
      const asking = new URL(request.url, 'https://site.example').searchParams.getAll('id');
      return { status: 200, body: { startAt: 0, isLast: true, values: asking.map((id) => ({ id, key: `P${id}`, name: `Project ${id}` })) } };
    });
    const keys = await connectHostNames(noAddon, 'site-1', { ...connected, ask }).projectKeys(ids);
    expect(asked.map(({ method }) => method)).to.deep.equal(['get', 'get']);
    expect(asked[1].url).to.equal('/rest/api/3/project/search?id=10050&maxResults=1');
    const first = new URL(asked[0].url, 'https://site.example');
    expect(first.pathname).to.equal('/rest/api/3/project/search');
    expect(first.searchParams.getAll('id')).to.deep.equal(ids.slice(0, 50));
    expect(first.searchParams.get('maxResults')).to.equal('50');
    expect(keys.size).to.equal(51);
    expect(keys.get('10050')).to.equal('P10050');
  });

  it('rejects an answer that is not a 200 of the documented shape', async () => {
    const refused = connectHostNames(noAddon, 'site-1', { ...connected, ask: async () => ({ status: 429, body: null }) });
    expect(await refused.displayNames([ADA]).catch((error: unknown) => error)).to.be.instanceOf(NamesUnavailable);
    const odd = connectHostNames(noAddon, 'site-1', { ...connected, ask: async () => ({ status: 200, body: { issues: 'no' } }) });
    expect(await odd.issueKeys(['10001']).catch((error: unknown) => error)).to.be.instanceOf(NamesUnavailable);
    const keyless = connectHostNames(noAddon, 'site-1', { ...connected, ask: async () => ({ status: 200, body: { values: [{ id: '10000' }] } }) });
    expect(await keyless.projectKeys(['10000']).catch((error: unknown) => error)).to.be.instanceOf(NamesUnavailable);
    const gone = connectHostNames(noAddon, 'site-1', { ...connected, ask: async () => ({ status: 404, body: null }) });
    expect(await gone.projectKeys(['10000']).catch((error: unknown) => error)).to.be.instanceOf(NamesUnavailable);
  });

  it('asks nothing for a site without Connect credentials (a Forge-only installation), and says it could not', async () => {
    const { ask, asked } = recording(() => ({ status: 200, body: { values: [] } }));
    const names = connectHostNames(noAddon, 'site-1', { hasCredentials: async () => false, ask });
    expect(await names.displayNames([ADA]).catch((error: unknown) => error)).to.be.instanceOf(NoWayToAsk);
    expect(await names.issueKeys(['10001']).catch((error: unknown) => error)).to.be.instanceOf(NoWayToAsk);
    expect(await names.projectKeys(['10000']).catch((error: unknown) => error)).to.be.instanceOf(NoWayToAsk);
    expect(asked).to.deep.equal([]);
  });
});

describe('names through the Forge door (product API, app system token)', () => {
  let site: HostSimulator;
  let forge: ForgeSimulator;
  let remote: StandInRemote;

  before(async () => {
    site = await startHostSimulator({ users: [{ accountId: ADA, displayName: 'Ada Admin', siteAdmin: true }, { accountId: BOB }] });
    forge = await startForgeSimulator(site, { layout: CONTRACT_LAYOUT, sleep: async () => undefined });
    remote = await startStandInRemote({ jwksUrl: forge.jwksUrl, appId: forge.appId });
    await forge.install(remote.baseUrl);
    site.issues.put({ issueId: '10001', issueKey: 'DEMO-1', projectId: '10000', projectKey: 'DEMO' });
  });
  after(async () => {
    await remote?.close();
    await forge?.close();
    await site?.close();
  });

  it("names users from the site's directory at the FIT's apiBaseUrl, a user given no name by one made up from the id", async () => {
    const names = await forgeHostNames({ apiBaseUrl: forge.apiBaseUrl, systemToken: forge.systemToken() }).displayNames([ADA, BOB, '557058:nobody']);
    expect([...names]).to.deep.equal([
      [ADA, 'Ada Admin'],
      [BOB, 'Bob'],
    ]);
    expect(site.userLookups.received.at(-1)).to.deep.equal([ADA, BOB, '557058:nobody']);
  });

  it('reads issue keys through bulk fetch, leaving out an issue the site does not have', async () => {
    const keys = await forgeHostNames({ apiBaseUrl: forge.apiBaseUrl, systemToken: forge.systemToken() }).issueKeys(['10001', '10009']);
    expect([...keys]).to.deep.equal([['10001', 'DEMO-1']]);
  });

  it('reads project keys through project search, leaving out a project the site does not have', async () => {
    const keys = await forgeHostNames({ apiBaseUrl: forge.apiBaseUrl, systemToken: forge.systemToken() }).projectKeys(['10000', '90000']);
    expect([...keys]).to.deep.equal([['10000', 'DEMO']]);
    expect(site.projectLookups.received.at(-1)).to.deep.equal(['10000', '90000']);
  });

  it('is refused without a live system token, and says so by rejecting', async () => {
    const names = forgeHostNames({ apiBaseUrl: forge.apiBaseUrl, systemToken: 'forge-system.not-one' });
    const refused = await names.displayNames([ADA]).catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(NamesUnavailable);
    expect((refused as NamesUnavailable).status).to.equal(401);
  });

  it('passes on a fault the site answers with', async () => {
    site.issueLookups.fail({ status: 503 });
    const failed = await forgeHostNames({ apiBaseUrl: forge.apiBaseUrl, systemToken: forge.systemToken() }).issueKeys(['10001']).catch((error: unknown) => error);
    expect((failed as NamesUnavailable).status).to.equal(503);
    site.projectLookups.fail({ status: 429, retryAfterSeconds: 5 });
    const limited = await forgeHostNames({ apiBaseUrl: forge.apiBaseUrl, systemToken: forge.systemToken() }).projectKeys(['10000']).catch((error: unknown) => error);
    expect((limited as NamesUnavailable).status).to.equal(429);
  });
});
