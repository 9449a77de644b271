import { expect } from 'chai';
import { projectResource } from '../../src/allowlist/resource';
import type { IssueContext } from '../../src/host-simulator';
import { saveScreenshot, setUpHostBrowser, WAIT, type HostPage } from './host-browser';

describe('browser: the "my sessions" page inside the host page', function () {
  const browser = setUpHostBrowser('my-sessions', { width: 1100, height: 640 });
  // One stack for the suite; each test gets its own user and issues, so ended sessions never leak between tests.
  let issue: IssueContext;
  let otherIssue: IssueContext;
  let alice: string;
  let run = 0;

  beforeEach(() => {
    run += 1;
    issue = { issueId: String(50000 + 2 * run), issueKey: `MINE-${2 * run}`, projectId: '50000', projectKey: 'MINE' };
    otherIssue = { issueId: String(50001 + 2 * run), issueKey: `MINE-${2 * run + 1}`, projectId: '50000', projectKey: 'MINE' };
    alice = browser.stack.sim.directory.add({ accountId: `557058:alice-${run}`, displayName: 'Alice' }).accountId;
  });

  function openMySessions(): Promise<HostPage> {
    // the page's script has answered once the status line says something
    return browser.openAppPage(alice, 'my-sessions', '#status:not(:empty)');
  }

  /** The place an issue's session shows as in its device's row. */
  function placeOf({ frame }: HostPage, ctx: IssueContext) {
    return frame.locator(`#sessions .places .place[data-resource="jira:issue:${ctx.issueId}"]`);
  }

  /** The page goes dark without a click: its live channel tells it. */
  async function expectRevoked({ frame }: HostPage): Promise<void> {
    await frame.locator('#status.denied').waitFor(WAIT);
    const status = frame.locator('#status');
    expect(await status.innerText()).to.match(/access revoked/i);
    expect(await status.getAttribute('data-code')).to.equal('token_revoked');
  }

  it("shows this browser's pages as one device row that includes this page; ending the others there ends the panel", async () => {
    const tabA = await browser.openIssue(alice, issue);
    const mine = await openMySessions();

    const rows = mine.frame.locator('#sessions tbody tr');
    expect(await rows.count()).to.equal(1);
    const here = mine.frame.locator('#sessions tr[data-current="true"]');
    expect(await here.getAttribute('data-count')).to.equal('2');
    expect(await here.locator('.device').innerText()).to.match(/this device, with this page/i);
    // the issue by its key, the resource as the tooltip
    expect(await placeOf(mine, issue).innerText()).to.equal(issue.issueKey);
    expect(await placeOf(mine, issue).getAttribute('title')).to.equal(`jira:issue:${issue.issueId}`);
    expect(await here.locator('.place.this-page').innerText()).to.equal('My sessions page');

    await here.locator('button.end').click();
    await mine.frame.locator('#status.done').waitFor(WAIT);
    expect(await mine.frame.locator('#status').innerText()).to.match(/^Ended 1 session on .+\.$/);
    expect(await here.getAttribute('data-count')).to.equal('1');
    expect(await placeOf(mine, issue).count()).to.equal(0);
    // this page's own row never offers to end this page
    expect(await here.locator('button.end').count()).to.equal(0);

    await expectRevoked(tabA);

    await saveScreenshot(mine.page, 'my-sessions-ended.png');
  });

  it("shows a page on another device as that device's own row, and ends it alone", async () => {
    const tabHere = await browser.openIssue(alice, issue);
    const tabThere = await browser.openIssue(alice, otherIssue, await browser.otherContext({ userAgent: FIREFOX_ON_WINDOWS }));
    const mine = await openMySessions();

    expect(await mine.frame.locator('#sessions tbody tr').count()).to.equal(2);
    const there = mine.frame.locator('#sessions tr[data-current="false"]');
    expect(await there.locator('.device').innerText()).to.equal('Firefox on Windows');
    expect(await there.getAttribute('data-count')).to.equal('1');
    expect(await placeOf(mine, otherIssue).innerText()).to.equal(otherIssue.issueKey);

    await there.locator('button.end').click();
    await mine.frame.locator('#status.done').waitFor(WAIT);
    expect(await mine.frame.locator('#status').innerText()).to.equal('Ended 1 session on Firefox on Windows.');
    expect(await mine.frame.locator('#sessions tbody tr').count()).to.equal(1);

    await expectRevoked(tabThere);
    expect((await tabHere.frame.locator('#status').getAttribute('class')) ?? '').not.to.include('denied');
  });

  it("shows a project page by its project's key, the resource as the tooltip", async () => {
    // PanelGuard's own modules open on issues and app pages; a vendor's project page mints through the allowlist so.
    // The project is on the simulated site while one of its issues is.
    const { stack } = browser;
    stack.sim.issues.put(issue);
    const minted = await stack.app.allowlist.mint({ clientKey: stack.sim.clientKey, accountId: alice, target: projectResource(issue.projectId), connectIssuedAt: Date.now(), ip: null, userAgent: null });
    expect(minted.ok).to.equal(true);
    const mine = await openMySessions();

    const place = mine.frame.locator(`#sessions .places .place[data-resource="jira:project:${issue.projectId}"]`);
    expect(await place.innerText()).to.equal(issue.projectKey);
    expect(await place.getAttribute('title')).to.equal(`jira:project:${issue.projectId}`);
  });

  it('ends every other session at once and keeps this page working', async () => {
    const tabA = await browser.openIssue(alice, issue);
    const tabB = await browser.openIssue(alice, otherIssue);
    const mine = await openMySessions();
    expect(await mine.frame.locator('#sessions tr[data-current="true"]').getAttribute('data-count')).to.equal('3');

    await mine.frame.locator('#end-others').click();
    await mine.frame.locator('#status.done').waitFor(WAIT);
    expect(await mine.frame.locator('#status').innerText()).to.match(/^Ended 2 other sessions; 1\/1 nodes confirmed\.$/);
    expect(await mine.frame.locator('#sessions tbody tr').count()).to.equal(1);
    expect(await mine.frame.locator('#sessions tr[data-current="true"]').getAttribute('data-count')).to.equal('1');
    expect(await mine.frame.locator('#end-others').isDisabled()).to.equal(true);

    await mine.frame.locator('#refresh').click();
    await mine.frame.locator('#status:not(.denied)').waitFor(WAIT);
    await expectRevoked(tabA);
    await expectRevoked(tabB);
  });

  it('shows access revoked and disables its buttons when its own session is ended from another tab', async () => {
    const first = await openMySessions();
    const second = await openMySessions();

    // in the second tab, the first tab's page is the other "My sessions page" on this device
    expect(await second.frame.locator('#sessions tr[data-current="true"] .place').innerText()).to.equal('My sessions page \u00d72');
    await second.frame.locator('#sessions tr[data-current="true"] button.end').click();
    await second.frame.locator('#status.done').waitFor(WAIT);

    await expectRevoked(first);
    expect(await first.frame.locator('#end-others').isDisabled()).to.equal(true);
    expect(await first.frame.locator('#sessions tbody tr').count()).to.equal(0);
  });
});

/** A browser on another machine, as a user agent tells it. */
const FIREFOX_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
