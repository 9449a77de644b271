/**
 * Reconciliation across three real nodes on PostgreSQL (redis bus), every node ticking four times per one-second
 * cycle: the tenant's lease in the replay ledger lets one of them ask the host per cycle, and a user deactivated
 * without a webhook is removed once, for every node.
 */
import { expect } from 'chai';
import type { NodeProcess } from '../../src/cluster/node-process';
import { servicesOrSkip } from '../support/services';
import { metric, startCluster, type ClusterStack } from './cluster-harness';
import { ALICE, BOB } from './harness';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconciliation across three nodes', function () {
  this.timeout(60_000);
  let cluster: ClusterStack;

  before(async function () {
    await servicesOrSkip(this, 'postgres', 'redis');
    cluster = await startCluster({
      bus: 'redis',
      nodeEnv: (_index, env) => ({ ...env, RECONCILE_INTERVAL_SECONDS: '1', PERSONAL_DATA_REPORT_INTERVAL_SECONDS: '0' }),
    });
  });

  after(async () => {
    await cluster?.close();
  });

  it('asks the host once per cycle for the tenant, whichever node does it, and removes a user once for every node', async () => {
    const [first, second, third] = cluster.nodes as [NodeProcess, NodeProcess, NodeProcess];
    const alice = await cluster.mintOn(first, ALICE);
    const bob = await cluster.mintOn(second, BOB);
    const runs = async () => {
      let total = 0;
      for (const node of cluster.nodes) total += await metric(node, 'panelguard_reconcile_runs_total{outcome="completed"}');
      return total;
    };

    // Whole cycles only: from just after one starts to just after the fourth next one starts.
    await sleep(1_000 - (Date.now() % 1_000) + 500);
    const [lookupsBefore, runsBefore, cycleBefore] = [cluster.sim.userLookups.received.length, await runs(), Math.floor(Date.now() / 1_000)];
    await sleep(4_000 - (Date.now() % 1_000) + 500);
    const [lookupsAfter, runsAfter, cycleAfter] = [cluster.sim.userLookups.received.length, await runs(), Math.floor(Date.now() / 1_000)];
    const cycles = cycleAfter - cycleBefore;
    expect(lookupsAfter - lookupsBefore, `${cycles} cycles`).to.be.within(cycles - 1, cycles + 1);
    expect(runsAfter - runsBefore).to.equal(lookupsAfter - lookupsBefore);

    cluster.sim.dropWebhooks(true);
    await cluster.sim.deactivateUser(ALICE);
    const deadline = Date.now() + 5_000;
    while ((await cluster.api(third, alice)).status !== 401) {
      expect(Date.now(), 'deactivated user still served').to.be.below(deadline);
      await sleep(50);
    }
    for (const node of cluster.nodes) {
      expect((await cluster.api(node, alice)).body.error?.code, node.name).to.equal('token_revoked');
      expect((await cluster.api(node, bob)).status, node.name).to.equal(200);
    }
    let ended = 0;
    for (const node of cluster.nodes) ended += await metric(node, 'panelguard_reconcile_users_ended_total{status="inactive"}');
    expect(ended).to.equal(1);
  });
});
