/** What /metrics counts, asserted against the work done: checks by outcome, mints, revocations by cause, live sessions, cache hits, latency. */
import { expect } from 'chai';
import { ALICE, BOB, ISSUE, startStack, type Stack } from './harness';

describe('metrics', function () {
  this.timeout(30_000);
  let stack: Stack;

  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  async function samples(): Promise<Map<string, number>> {
    const response = await fetch(`${stack.app.baseUrl}/metrics`);
    expect(response.headers.get('content-type')).to.match(/^text\/plain/);
    const found = new Map<string, number>();
    for (const line of (await response.text()).split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const at = line.lastIndexOf(' ');
      found.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
    return found;
  }

  it('counts mints, checks by outcome, revocations by cause, live sessions, cache hits and check latency', async () => {
    const alice = (await stack.loadPanel(ALICE)).token!;
    const bob = (await stack.loadPanel(BOB)).token!;
    for (let i = 0; i < 3; i += 1) expect((await stack.api(alice, 'GET', ISSUE.issueId)).status).to.equal(200);
    expect((await stack.api(bob, 'GET', ISSUE.issueId)).status).to.equal(200);
    await stack.sim.removeUser(BOB);
    expect((await stack.api(bob, 'GET', ISSUE.issueId)).status).to.equal(401);
    expect((await stack.api('not.a.token', 'GET', ISSUE.issueId)).status).to.equal(401);

    const m = await samples();
    expect(m.get('panelguard_mints_total')).to.equal(2);
    expect(m.get('panelguard_checks_total{outcome="ok"}')).to.equal(4);
    expect(m.get('panelguard_checks_total{outcome="token_revoked"}')).to.equal(1);
    expect(m.get('panelguard_checks_total{outcome="token_malformed"}')).to.equal(1);
    expect(m.get('panelguard_revocations_total{reason="user_removed"}')).to.equal(1);
    expect(m.get('panelguard_live_sessions')).to.equal(1);
    expect(m.get('panelguard_check_duration_seconds_count')).to.equal(6);
    // Alice: a miss then two hits; Bob: a miss, then a miss after his revocation made the cached state stale.
    expect(m.get('panelguard_entry_cache_lookups_total{outcome="hit"}')).to.equal(2);
    expect(m.get('panelguard_entry_cache_lookups_total{outcome="miss"}')).to.equal(3);
    expect(m.get('panelguard_entry_cache_hit_ratio')).to.be.closeTo(2 / 5, 1e-9);
    expect(m.get('panelguard_bus_connected')).to.equal(1);
  });
});
