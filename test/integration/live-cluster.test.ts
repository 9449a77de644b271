/**
 * The live channel across processes: a page's channel held by one node hears of a removal another node applied,
 * within a second of the revoking answer, on each bus.
 */
import { expect } from 'chai';
import type { NodeProcess } from '../../src/cluster/node-process';
import { servicesOrSkip } from '../support/services';
import { startCluster, type BusKind, type ClusterStack } from './cluster-harness';
import { ALICE, BOB, ISSUE } from './harness';
import { openChannel, type Channel } from './live-client';

for (const bus of ['postgres', 'redis'] as BusKind[]) {
  describe(`live channel on three nodes over the ${bus} bus`, function () {
    this.timeout(60_000);
    let cluster: ClusterStack;
    let nodeA: NodeProcess;
    let nodeB: NodeProcess;
    const channels: Channel[] = [];

    before(async function () {
      await servicesOrSkip(this, ...(bus === 'redis' ? (['postgres', 'redis'] as const) : (['postgres'] as const)));
      cluster = await startCluster({ bus });
      [nodeA, nodeB] = cluster.nodes as [NodeProcess, NodeProcess];
    });
    after(async () => {
      for (const channel of channels) channel.close();
      await cluster?.close();
    });

    it('ends the channel on node A within a second of node B answering the removal, and leaves other users\' open', async () => {
      const alices = await openChannel(nodeA.url, await cluster.mintOn(nodeA, ALICE), `jira:issue:${ISSUE.issueId}`);
      const bobs = await openChannel(nodeA.url, await cluster.mintOn(nodeA, BOB), `jira:issue:${ISSUE.issueId}`);
      channels.push(alices, bobs);
      expect(await alices.next('ready', 1_000)).to.not.equal(null);
      expect(await bobs.next('ready', 1_000)).to.not.equal(null);

      cluster.via(nodeB);
      const webhook = await cluster.sim.removeUser(ALICE);
      const answered = performance.now();
      expect(webhook?.status).to.equal(200);
      expect(webhook?.headers.get('revocation-confirmed')).to.equal('3/3');

      const ended = await alices.next('ended', 1_000);
      expect(ended?.data).to.include({ code: 'token_revoked' });
      expect(ended!.at - answered).to.be.below(1_000);
      expect(await bobs.next('ended', 300)).to.equal(null);
      cluster.via(null);
    });
  });
}
