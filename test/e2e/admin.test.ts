import { expect } from 'chai';
import { projectResource } from '../../src/allowlist/resource';
import type { IssueContext } from '../../src/host-simulator';
import { saveScreenshot, setUpHostBrowser, statusOf, WAIT, type HostPage } from './host-browser';

describe('browser: the admin page inside the host page', function () {
  const browser = setUpHostBrowser('admin', { width: 1280, height: 900 });
  // One stack for the suite; each test gets its own admin, user and issue, so revocations never leak between tests.
  let issue: IssueContext;
  let admin: string;
  let bob: string;
  let run = 0;

  beforeEach(() => {
    run += 1;
    issue = { issueId: String(40000 + run), issueKey: `ADM-${run}`, projectId: '40000', projectKey: 'ADM' };
    admin = browser.stack.sim.directory.add({ accountId: `557058:ada-${run}`, displayName: 'Ada Admin', siteAdmin: true }).accountId;
    bob = browser.stack.sim.directory.add({ accountId: `557058:bob-${run}`, displayName: 'Bob' }).accountId;
  });

  function openAdminPage(accountId: string): Promise<HostPage> {
    // the page's script has answered once both tables are filled the first time
    return browser.openAppPage(accountId, 'admin', '#sessions[data-loaded]', '#audit[data-loaded]');
  }

  /** Audit records are written behind the request; wait for them, then ask the page to show the newest. */
  async function refreshAudit({ frame }: HostPage): Promise<void> {
    await browser.stack.app.audit.drain();
    await frame.locator('#audit-refresh').click();
    await frame.locator('#audit[data-loaded]:not([aria-busy])').waitFor(WAIT);
  }

  it("lists a user's session, revokes the user, records who did it, and the user's open panel shows access revoked", async () => {
    const bobsIssue = await browser.openIssue(bob, issue);
    const adminPage = await openAdminPage(admin);

    const bobsRows = adminPage.frame.locator(`#sessions tr[data-account-id="${bob}"]`);
    expect(await bobsRows.count()).to.equal(1);
    // Bob by name, his account id as the tooltip; his issue by its key, the resource as the tooltip
    expect(await bobsRows.locator('.user').innerText()).to.equal('Bob');
    expect(await bobsRows.locator('.user').getAttribute('title')).to.equal(bob);
    const place = bobsRows.locator('.places .place');
    expect(await place.innerText()).to.equal(issue.issueKey);
    expect(await place.getAttribute('title')).to.equal(`jira:issue:${issue.issueId}`);
    expect(await bobsRows.first().locator('button.revoke').isVisible()).to.equal(true);

    await adminPage.frame.locator('#revoke-account').fill(bob);
    await adminPage.frame.locator('#revoke-user').click();
    // said beside the form that asked for it
    await adminPage.frame.locator('#revoke-user-form + #revoke-message.done').waitFor(WAIT);
    expect(await adminPage.frame.locator('#revoke-message').innerText()).to.match(/^Revoked .+; 1\/1 nodes confirmed\.$/);
    await bobsRows.first().waitFor({ state: 'detached', ...WAIT });

    await adminPage.frame.locator('#audit-kind').selectOption('revoke');
    await refreshAudit(adminPage);
    const record = adminPage.frame.locator(`#audit tr[data-kind="revoke"][data-account-id="${bob}"]`);
    await record.first().waitFor(WAIT);
    expect(await record.locator('.user').innerText()).to.equal('Bob');
    expect(await record.locator('.user').getAttribute('title')).to.equal(bob);
    expect(await record.locator('.actor').innerText()).to.equal('admin: Ada Admin');
    expect(await record.locator('.actor').getAttribute('title')).to.equal(`admin:${admin}`);
    expect(Number(await record.locator('.count').innerText())).to.be.at.least(1);
    expect(await record.locator('.confirmation').innerText()).to.equal('1/1');

    // Without a click: the panel's live channel told it.
    await bobsIssue.frame.locator('#status.denied').waitFor(WAIT);
    expect(await bobsIssue.frame.locator('#status').innerText()).to.match(/access revoked/i);

    await saveScreenshot(adminPage.page, 'admin-revoked-user.png', { fullPage: true });
  });

  it("shows a project page's session and its mint by the project's key, the resource as the tooltip", async () => {
    // PanelGuard's own modules open on issues and app pages; a vendor's project page mints through the allowlist so.
    // The project is on the simulated site while one of its issues is.
    const { stack } = browser;
    stack.sim.issues.put(issue);
    const project = projectResource(issue.projectId).resource;
    const minted = await stack.app.allowlist.mint({ clientKey: stack.sim.clientKey, accountId: bob, target: projectResource(issue.projectId), connectIssuedAt: Date.now(), ip: null, userAgent: null });
    expect(minted.ok).to.equal(true);
    const adminPage = await openAdminPage(admin);

    const place = adminPage.frame.locator(`#sessions tr[data-account-id="${bob}"] .places .place[data-resource="${project}"]`);
    expect(await place.innerText()).to.equal(issue.projectKey);
    expect(await place.getAttribute('title')).to.equal(project);

    await adminPage.frame.locator('#audit-kind').selectOption('mint');
    await refreshAudit(adminPage);
    const record = adminPage.frame.locator(`#audit tr[data-kind="mint"][data-account-id="${bob}"]`);
    await record.first().waitFor(WAIT);
    expect(await record.locator('.resource').innerText()).to.equal(issue.projectKey);
    expect(await record.locator('.resource').getAttribute('title')).to.equal(project);
  });

  it('says who is signed in by display name, the account id as the tooltip', async () => {
    const adminPage = await openAdminPage(admin);
    const signedInAs = adminPage.frame.locator(`#admin-account[data-account-id="${admin}"]`);
    await signedInAs.waitFor(WAIT);
    expect(await signedInAs.innerText()).to.equal('Ada Admin');
    expect(await signedInAs.getAttribute('title')).to.equal(admin);
  });

  it('shows five visits to the admin page from one browser as one device row with five open pages', async () => {
    for (let visit = 1; visit < 5; visit += 1) await openAdminPage(admin);
    const fifth = await openAdminPage(admin);

    const rows = fifth.frame.locator(`#sessions tr[data-account-id="${admin}"]`);
    expect(await rows.count()).to.equal(1);
    expect(await rows.getAttribute('data-count')).to.equal('5');
    expect(await rows.locator('.user').innerText()).to.equal('Ada Admin');
    expect(await rows.locator('.places .count').innerText()).to.equal('5 pages');
    expect(await rows.locator('.places .place').innerText()).to.equal('Admin page \u00d75');
    expect(await rows.locator('.device').innerText()).to.match(/^Chrom.* on Linux$/);
    expect(await rows.locator('.network').innerText()).to.match(/\/(24|48)$/);
    await saveScreenshot(fifth.page, 'admin-devices.png', { fullPage: true });
  });

  it("ends every page of a user's device with one click, and leaves their other device alone", async () => {
    const here = await browser.openIssue(bob, issue);
    const alsoHere = await browser.openIssue(bob, issue);
    const elsewhere = await browser.openIssue(bob, issue, await browser.otherContext({ userAgent: FIREFOX_ON_WINDOWS }));
    const adminPage = await openAdminPage(admin);

    const bobsRows = adminPage.frame.locator(`#sessions tr[data-account-id="${bob}"]`);
    expect(await bobsRows.count()).to.equal(2);
    // this browser's two panels are one row; the other machine's is another
    const thisBrowser = adminPage.frame.locator(`#sessions tr[data-account-id="${bob}"][data-count="2"]`);
    expect(await thisBrowser.locator('.device').innerText()).to.match(/^Chrom.* on Linux$/);
    await thisBrowser.locator('button.end').click();
    await adminPage.frame.locator('#status.done').waitFor(WAIT);
    expect((await statusOf(adminPage)).text).to.match(/^Ended 2 sessions on Chrom.* on Linux\.$/);
    await bobsRows.nth(1).waitFor({ state: 'detached', ...WAIT });
    expect(await bobsRows.locator('.device').innerText()).to.equal('Firefox on Windows');

    // Without a click: each of the device's panels heard it on its live channel, and the other device's did not.
    await here.frame.locator('#status.denied').waitFor(WAIT);
    await alsoHere.frame.locator('#status.denied').waitFor(WAIT);
    expect((await statusOf(elsewhere)).className).not.to.include('denied');
  });

  it('says "no such user" for an account the site never saw, and revokes nothing', async () => {
    const bobsIssue = await browser.openIssue(bob, issue);
    const adminPage = await openAdminPage(admin);

    await adminPage.frame.locator('#revoke-account').fill('557058:nobody-at-all');
    await adminPage.frame.locator('#revoke-user').click();
    await adminPage.frame.locator('#revoke-user-form + #revoke-message.invalid').waitFor(WAIT);

    expect(await adminPage.frame.locator('#revoke-message').innerText()).to.match(/no such user/i);
    expect(await adminPage.frame.locator('#revoke-account').inputValue()).to.equal('557058:nobody-at-all');
    const answered = bobsIssue.page.waitForResponse((response) => response.url().endsWith(`/api/issues/${issue.issueId}/notes`), WAIT);
    await bobsIssue.frame.locator('#refresh').click();
    expect((await answered).status()).to.equal(200);
    expect((await statusOf(bobsIssue)).className).not.to.include('denied');
  });

  it("shows the server's refusal of a policy inline, keeps the values, then saves a valid one", async () => {
    const adminPage = await openAdminPage(admin);
    const { frame } = adminPage;
    await frame.locator('#policy-form[data-loaded]').waitFor(WAIT);

    await frame.locator('#idle').fill('30');
    await frame.locator('#absolute').fill('100000');
    await frame.locator('#policy-save').click();
    await frame.locator('#policy-error.invalid').waitFor(WAIT);
    // Every bad setting, each named by the label the admin reads beside it, and each input marked.
    expect(await frame.locator('#policy-error .field-problem').allInnerTexts()).to.deep.equal([
      'Idle timeout (seconds): must be a whole number of seconds from 60 to 86400',
      'Absolute lifetime (seconds): must be a whole number of seconds from 60 to 86400',
    ]);
    expect(await frame.locator('#idle').getAttribute('aria-invalid')).to.equal('true');
    expect(await frame.locator('#absolute').getAttribute('aria-invalid')).to.equal('true');
    expect(await frame.locator('#idle').inputValue()).to.equal('30');

    await frame.locator('#absolute').fill('3600');

    await frame.locator('#idle').fill('900');
    await frame.locator('#policy-save').click();
    await frame.locator('#status.done').waitFor(WAIT);
    expect(await frame.locator('#policy-error').isVisible()).to.equal(false);
    expect(await frame.locator('#policy-form [aria-invalid]').count()).to.equal(0);
    expect((await statusOf(adminPage)).text).to.match(/idle timeout 900 s, absolute lifetime 3600 s/);

    await frame.locator('#audit-kind').selectOption('policy');
    await refreshAudit(adminPage);
    expect(await frame.locator('#audit tr[data-kind="policy"]').count()).to.be.at.least(1);
  });

  it('saves the theft responses and key binding with the timeouts, and a new page shows them and works under them', async () => {
    const first = await openAdminPage(admin);
    await first.frame.locator('#policy-form[data-loaded]').waitFor(WAIT);
    expect(await first.frame.locator('#theft-response').inputValue()).to.equal('revoke');
    expect(await first.frame.locator('#agent-change-response').inputValue()).to.equal('report');
    expect(await first.frame.locator('#key-binding').isChecked()).to.equal(false);

    await first.frame.locator('#theft-response').selectOption('report');
    await first.frame.locator('#agent-change-response').selectOption('revoke');
    await first.frame.locator('#key-binding').check();
    await first.frame.locator('#policy-save').click();
    await first.frame.locator('#status.done').waitFor(WAIT);
    expect((await statusOf(first)).text).to.match(/a copy used elsewhere: only record it; another browser: end the session; key binding on\.$/);

    // Key binding applies at once: the new page proves its key on every call, so it loads as any other.
    const second = await openAdminPage(admin);
    const { frame } = second;
    await frame.locator('#policy-form[data-loaded]').waitFor(WAIT);
    expect(await frame.locator('#theft-response').inputValue()).to.equal('report');
    expect(await frame.locator('#agent-change-response').inputValue()).to.equal('revoke');
    expect(await frame.locator('#key-binding').isChecked()).to.equal(true);
    expect((await statusOf(second)).className).to.not.include('denied');

    // The suite shares one site: later tests start from the default theft policy.
    await frame.locator('#theft-response').selectOption('revoke');
    await frame.locator('#agent-change-response').selectOption('report');
    await frame.locator('#key-binding').uncheck();
    await frame.locator('#policy-save').click();
    await frame.locator('#status.done').waitFor(WAIT);
  });

  it("resets the site after a confirm step that counts the sessions, ending the user's panel and the page's own session", async () => {
    const bobsIssue = await browser.openIssue(bob, issue);
    const adminPage = await openAdminPage(admin);
    const { frame } = adminPage;

    await frame.locator('#reset-site').click();
    await frame.locator('#reset-confirm:not(.hidden)').waitFor(WAIT);
    // at least Bob's panel and this page
    expect(Number(await frame.locator('#reset-question').getAttribute('data-count'))).to.be.at.least(2);
    expect(await frame.locator('#reset-question').innerText()).to.match(/^End all \d+ .*live sessions/);

    await frame.locator('#reset-site-confirm').click();
    await frame.locator('#status.denied').waitFor(WAIT);
    const status = await statusOf(adminPage);
    expect(status.text).to.match(/^Site reset: Ended \d+ sessions; 1\/1 nodes confirmed\..*reload/);
    expect(status.code).to.equal('token_revoked');
    expect(await frame.locator('#revoke-user').isDisabled()).to.equal(true);
    expect(await frame.locator('#sessions tbody tr').count()).to.equal(0);

    // Without a click: the panel's live channel told it.
    await bobsIssue.frame.locator('#status.denied').waitFor(WAIT);
    expect(await bobsIssue.frame.locator('#status').innerText()).to.match(/access revoked/i);
  });

  it('shows access revoked and disables every control once the admin revokes their own sessions', async () => {
    const adminPage = await openAdminPage(admin);
    const { frame } = adminPage;

    await frame.locator('#revoke-account').fill(admin);
    await frame.locator('#revoke-user').click();
    await frame.locator('#status.denied').waitFor(WAIT);

    const status = await statusOf(adminPage);
    expect(status.text).to.match(/access revoked/i);
    expect(status.code).to.equal('token_revoked');
    for (const id of ['#revoke-user', '#reset-site', '#policy-save', '#audit-kind', '#sessions-refresh']) {
      expect(await frame.locator(id).isDisabled(), id).to.equal(true);
    }
    expect(await frame.locator('#audit tbody tr').count()).to.equal(0);
  });
});

/** A browser on another machine, as a user agent tells it. */
const FIREFOX_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
