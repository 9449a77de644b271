/**
 * Reconciliation over real HTTP: the app asks the simulated Jira's bulk user API and Atlassian's personal data
 * reporting API on short intervals, while the simulator loses the webhooks that would have said the same.
 */
import { expect } from 'chai';
import { ALICE, BOB, startStack, type Stack } from './harness';

/** The reconciliation interval here, in seconds: each cycle's run starts within a quarter of it. */
const INTERVAL_S = 1;
/** How long a removal may take to be noticed: one interval, the tick that starts it, and the run itself. */
const NOTICED_WITHIN_MS = INTERVAL_S * 1000 * 2 + 1_000;

/** Polls `probe` until it answers true or `deadlineMs` passes; resolves how long it took, or null. */
async function within(deadlineMs: number, probe: () => Promise<boolean>): Promise<number | null> {
  const started = Date.now();
  while (Date.now() - started < deadlineMs) {
    if (await probe()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return null;
}

async function metric(stack: Stack, sample: string): Promise<number> {
  const text = await (await fetch(`${stack.app.baseUrl}/metrics`)).text();
  const found = text.split('\n').find((line) => line.startsWith(`${sample} `));
  return found === undefined ? 0 : Number(found.slice(sample.length + 1));
}

async function revocationsOf(stack: Stack, accountId: string): Promise<Array<{ actor: string | null; reason: string | null }>> {
  await stack.app.audit.drain();
  const { records } = await stack.app.store.listAudit({ clientKey: stack.sim.clientKey, kind: 'revoke', accountId, limit: 20 });
  return records.map(({ actor, reason }) => ({ actor, reason }));
}

describe('reconciliation with the host (HTTP)', function () {
  this.timeout(30_000);

  describe('the bulk user API, while webhooks are lost', () => {
    let stack: Stack;

    beforeEach(async () => {
      stack = await startStack({ env: { RECONCILE_INTERVAL_SECONDS: String(INTERVAL_S), PERSONAL_DATA_REPORT_INTERVAL_SECONDS: '0' } });
    });

    afterEach(async () => {
      await stack.stop();
    });

    it('ends the sessions of a user deactivated without a webhook within one interval, keeps the others, and minting comes back with a reactivation', async () => {
      const alice = await stack.loadPanel(ALICE);
      const bob = await stack.loadPanel(BOB);
      stack.sim.dropWebhooks(true);
      expect(await stack.sim.deactivateUser(ALICE)).to.equal(null);
      expect((await stack.api(alice.token, 'GET', '10001')).status).to.equal(200);

      const took = await within(NOTICED_WITHIN_MS, async () => (await stack.api(alice.token, 'GET', '10001')).status === 401);
      expect(took, 'deactivated user still served').not.to.equal(null);
      const refused = await stack.api(alice.token, 'GET', '10001');
      expect(refused.body.error?.code).to.equal('token_revoked');
      expect((await stack.api(bob.token, 'GET', '10001')).status).to.equal(200);
      expect((await stack.loadPanel(ALICE)).token, 'a removed user mints nothing').to.equal(null);
      expect(await revocationsOf(stack, ALICE)).to.deep.equal([{ actor: 'reconcile', reason: 'reconciled' }]);
      expect(await metric(stack, 'panelguard_reconcile_users_ended_total{status="inactive"}')).to.equal(1);
      expect(await metric(stack, 'panelguard_revocations_total{reason="reconciled"}')).to.equal(1);
      // Only users holding live sessions were asked about, in one question per cycle.
      expect(new Set(stack.sim.userLookups.received.flat())).to.deep.equal(new Set([ALICE, BOB]));

      stack.sim.dropWebhooks(false);
      const reactivated = await stack.sim.reactivateUser(ALICE);
      expect(((await reactivated?.json()) as { applied: boolean }).applied).to.equal(true);
      const again = await stack.loadPanel(ALICE);
      expect(again.status).to.equal(200);
      expect((await stack.api(again.token, 'GET', '10001')).status).to.equal(200);
      // The next cycles find her active and leave her new session alone.
      const asked = stack.sim.userLookups.received.length;
      expect(await within(NOTICED_WITHIN_MS, async () => stack.sim.userLookups.received.length >= asked + 2)).not.to.equal(null);
      expect((await stack.api(again.token, 'GET', '10001')).status).to.equal(200);
    });

    it('ends nothing while the host fails, and catches up once it answers', async () => {
      const alice = await stack.loadPanel(ALICE);
      stack.sim.userLookups.fail({ status: 503 }, 2);
      stack.sim.dropWebhooks(true);
      await stack.sim.deactivateUser(ALICE);
      expect(await within(NOTICED_WITHIN_MS * 2, async () => (await metric(stack, 'panelguard_reconcile_host_errors_total{api="users",reason="unavailable"}')) === 2)).not.to.equal(null);
      expect((await stack.api(alice.token, 'GET', '10001')).status).to.equal(200);
      expect(await within(NOTICED_WITHIN_MS, async () => (await stack.api(alice.token, 'GET', '10001')).status === 401)).not.to.equal(null);
      expect(await metric(stack, 'panelguard_reconcile_runs_total{outcome="host_error"}')).to.equal(2);
    });

    it('asks nothing more of a host that answered 429 until its Retry-After has passed', async () => {
      const alice = await stack.loadPanel(ALICE);
      stack.sim.userLookups.fail({ status: 429, retryAfterSeconds: 2 });
      stack.sim.dropWebhooks(true);
      await stack.sim.deactivateUser(ALICE);
      expect(await within(NOTICED_WITHIN_MS, async () => stack.sim.userLookups.received.length >= 1)).not.to.equal(null);
      const limitedAt = Date.now();
      const revokedAfter = await within(5_000, async () => (await stack.api(alice.token, 'GET', '10001')).status === 401);
      expect(revokedAfter).not.to.equal(null);
      expect(Date.now() - limitedAt).to.be.at.least(1_900);
      expect(stack.sim.userLookups.received).to.have.length(2);
      expect(await metric(stack, 'panelguard_reconcile_host_errors_total{api="users",reason="rate_limited"}')).to.equal(1);
    });
  });

  describe('the personal data reporting API', () => {
    let stack: Stack;

    beforeEach(async () => {
      stack = await startStack({
        env: (sim) => ({ RECONCILE_INTERVAL_SECONDS: '0', PERSONAL_DATA_REPORT_INTERVAL_SECONDS: String(INTERVAL_S), PERSONAL_DATA_REPORT_URL: sim.reportAccountsUrl }),
      });
    });

    afterEach(async () => {
      await stack.stop();
    });

    it('reports the accounts the app holds data for, and ends the sessions of one Atlassian reports closed', async () => {
      const alice = await stack.loadPanel(ALICE);
      const bob = await stack.loadPanel(BOB);
      expect((await stack.api(bob.token, 'POST', '10001', { text: 'a note' })).status).to.equal(201);
      expect(await within(NOTICED_WITHIN_MS, async () => stack.sim.personalDataReports.received.length > 0)).not.to.equal(null);
      const first = stack.sim.personalDataReports.received[0] ?? [];
      expect(first.map((account) => account.accountId)).to.deep.equal([ALICE, BOB]);
      expect(first.every((account) => Math.abs(Date.parse(account.updatedAt) - Date.now()) < 10_000)).to.equal(true);

      stack.sim.dropWebhooks(true);
      await stack.sim.closeAccount(ALICE);
      expect(await within(NOTICED_WITHIN_MS * 2, async () => (await stack.api(alice.token, 'GET', '10001')).status === 401)).not.to.equal(null);
      expect((await stack.api(bob.token, 'GET', '10001')).status).to.equal(200);
      expect(await revocationsOf(stack, ALICE)).to.deep.equal([{ actor: 'reconcile', reason: 'account_closed' }]);
      expect(await metric(stack, 'panelguard_reconcile_users_ended_total{status="closed"}')).to.equal(1);
    });
  });
});
