import { expect } from 'chai';
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

  function rowOn({ frame }: HostPage, ctx: IssueContext) {
    return frame.locator(`#sessions tr[data-resource="jira:issue:${ctx.issueId}"]`);
  }

  /** The page goes dark without a click: its live channel tells it. */
  async function expectRevoked({ frame }: HostPage): Promise<void> {
    await frame.locator('#status.denied').waitFor(WAIT);
    const status = frame.locator('#status');
    expect(await status.innerText()).to.match(/access revoked/i);
    expect(await status.getAttribute('data-code')).to.equal('token_revoked');
  }

  it("lists the issue panel's session and marks this one; ending the panel's session shows access revoked in that tab", async () => {
    const tabA = await browser.openIssue(alice, issue);
    const mine = await openMySessions();

    const sessionA = rowOn(mine, issue);
    expect(await sessionA.count()).to.equal(1);
    expect(await sessionA.locator('.where').innerText()).to.equal(`Issue ${issue.issueId}`);
    const current = mine.frame.locator('#sessions tr[data-current="true"]');
    expect(await current.count()).to.equal(1);
    expect(await current.locator('.where').innerText()).to.match(/this session/i);
    expect(await current.locator('button.end').count()).to.equal(0);

    await sessionA.locator('button.end').click();
    await mine.frame.locator('#status.done').waitFor(WAIT);
    expect(await mine.frame.locator('#status').innerText()).to.equal(`Ended the session on Issue ${issue.issueId}.`);
    expect(await rowOn(mine, issue).count()).to.equal(0);
    expect(await current.count()).to.equal(1);

    await expectRevoked(tabA);

    await saveScreenshot(mine.page, 'my-sessions-ended.png');
  });

  it('ends every other session at once and keeps this page working', async () => {
    const tabA = await browser.openIssue(alice, issue);
    const tabB = await browser.openIssue(alice, otherIssue);
    const mine = await openMySessions();
    expect(await mine.frame.locator('#sessions tr[data-current="false"]').count()).to.equal(2);

    await mine.frame.locator('#end-others').click();
    await mine.frame.locator('#status.done').waitFor(WAIT);
    expect(await mine.frame.locator('#status').innerText()).to.match(/^Ended 2 other sessions; 1\/1 nodes confirmed\.$/);
    expect(await mine.frame.locator('#sessions tbody tr').count()).to.equal(1);
    expect(await mine.frame.locator('#end-others').isDisabled()).to.equal(true);

    await mine.frame.locator('#refresh').click();
    await mine.frame.locator('#status:not(.denied)').waitFor(WAIT);
    await expectRevoked(tabA);
    await expectRevoked(tabB);
  });

  it('shows access revoked and disables its buttons when its own session is ended from another tab', async () => {
    const first = await openMySessions();
    const second = await openMySessions();

    // in the second tab, the first tab's page is the other "My sessions page"
    await second.frame.locator('#sessions tr[data-current="false"] button.end').click();
    await second.frame.locator('#status.done').waitFor(WAIT);

    await expectRevoked(first);
    expect(await first.frame.locator('#end-others').isDisabled()).to.equal(true);
    expect(await first.frame.locator('#sessions tbody tr').count()).to.equal(0);
  });
});
