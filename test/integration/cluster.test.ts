/**
 * Guarantee 2 across processes: three real nodes on the machine's PostgreSQL, for each bus.
 * A revocation sent to one node is refused by every node on the very next call after the
 * revoking answer, which says all three confirmed.
 */
import { expect } from 'chai';
import type { AuditRecord } from '../../src/allowlist/types';
import type { NodeProcess } from '../../src/cluster/node-process';
import Redis from 'ioredis';
import pg from 'pg';
import { openSequelizeStore } from '../../src/store/sequelize-store';
import { redisUrl, servicesOrSkip } from '../support/services';
import { metric, startCluster, type BusKind, type ClusterStack } from './cluster-harness';
import { ALICE, BOB, ISSUE, OTHER_ISSUE } from './harness';

for (const bus of ['postgres', 'redis'] as BusKind[]) {
  describe(`a cluster of three nodes on the ${bus} bus`, function () {
    this.timeout(60_000);
    let cluster: ClusterStack;
    let node1: NodeProcess;
    let node2: NodeProcess;
    let node3: NodeProcess;

    before(async function () {
      await servicesOrSkip(this, ...(bus === 'redis' ? (['postgres', 'redis'] as const) : (['postgres'] as const)));
      cluster = await startCluster({ bus });
      [node1, node2, node3] = cluster.nodes as [NodeProcess, NodeProcess, NodeProcess];
    });
    after(async () => {
      await cluster?.close();
    });
    afterEach(() => cluster?.via(null));

    /** The audit's newest revocation of the user, read from the shared store (audit writes land just after the answer). */
    async function auditedRevocation(clientKey: string, accountId: string): Promise<AuditRecord | undefined> {
      const store = await openSequelizeStore(cluster.databaseUrl);
      try {
        for (let attempt = 0; attempt < 40; attempt += 1) {
          const found = (await store.listAudit({ clientKey, kind: 'revoke', limit: 50 })).records.find((r) => r.kind === 'revoke' && r.accountId === accountId);
          if (found !== undefined) return found;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return undefined;
      } finally {
        await store.close();
      }
    }

    /** Every node answers the token with `status`; called first to fill each node's cache. */
    async function statusesOn(token: string, ctx = ISSUE): Promise<number[]> {
      return Promise.all(cluster.nodes.map(async (node) => (await cluster.api(node, token, ctx)).status));
    }

    it('knows all three nodes on every node', async () => {
      for (const node of cluster.nodes) {
        expect(await node.readiness()).to.include({ status: 'ready', bus: 'ok', cache: 'trusted', nodes: 3 });
        expect(await metric(node, 'panelguard_cluster_nodes'), node.name).to.equal(3);
        expect(await metric(node, 'panelguard_bus_connected'), node.name).to.equal(1);
      }
    });

    it('serves on nodes 2 and 3 the tokens minted on node 1', async () => {
      const token = await cluster.mintOn(node1, BOB);
      expect(await statusesOn(token)).to.deep.equal([200, 200, 200]);
    });

    it('refuses a deleted user on all three nodes on the very next call after the webhook to node 2 returns 3/3', async () => {
      const token = await cluster.mintOn(node1, ALICE);
      const bob = await cluster.mintOn(node3, BOB);
      expect(await statusesOn(token)).to.deep.equal([200, 200, 200]);
      cluster.via(node2);
      const webhook = await cluster.sim.removeUser(ALICE);
      expect(webhook?.status).to.equal(200);
      expect(webhook?.headers.get('revocation-confirmed')).to.equal('3/3');
      expect(await webhook?.json()).to.deep.include({ applied: true, revoked: 1 });
      const audited = await auditedRevocation(cluster.sim.clientKey, ALICE);
      expect(audited).to.deep.include({ actor: 'webhook:user_deleted', count: 1, confirmation: { confirmed: 3, expected: 3 } });
      for (const node of cluster.nodes) {
        const refused = await cluster.api(node, token);
        expect(refused.status, node.name).to.equal(401);
        expect(refused.body.error?.code, node.name).to.equal('token_revoked');
      }
      expect(await statusesOn(bob)).to.deep.equal([200, 200, 200]);
    });

    it('refuses the tokens of a deleted issue on all three nodes once the webhook to node 3 returns 3/3', async () => {
      const token = await cluster.mintOn(node2, BOB, OTHER_ISSUE);
      expect(await statusesOn(token, OTHER_ISSUE)).to.deep.equal([200, 200, 200]);
      cluster.via(node3);
      const webhook = await cluster.sim.deleteIssue(OTHER_ISSUE);
      expect(webhook?.status).to.equal(200);
      expect(webhook?.headers.get('revocation-confirmed')).to.equal('3/3');
      expect(await statusesOn(token, OTHER_ISSUE)).to.deep.equal([401, 401, 401]);
    });

    /** Publishes `raw` on the cluster's channel as anyone with access to the Redis server or the database could. */
    async function publishAsOutsider(raw: string): Promise<void> {
      if (bus === 'redis') {
        const client = new Redis(redisUrl);
        try {
          await client.publish(cluster.busChannel, raw);
        } finally {
          client.disconnect();
        }
        return;
      }
      const client = new pg.Client({ connectionString: cluster.databaseUrl });
      await client.connect();
      try {
        await client.query('SELECT pg_notify($1, $2)', [cluster.busChannel, raw]);
      } finally {
        await client.end();
      }
    }

    it('drops and counts what an outsider publishes on the channel: no forged heartbeat, ack or invalidation is taken', async () => {
      const token = await cluster.mintOn(node1, '557058:carol');
      expect(await statusesOn(token)).to.deep.equal([200, 200, 200]);
      const before = await Promise.all(cluster.nodes.map((node) => metric(node, 'panelguard_bus_messages_rejected_total{reason="malformed"}')));
      await publishAsOutsider(JSON.stringify({ type: 'heartbeat', node: 'intruder' }));
      await publishAsOutsider(JSON.stringify({ type: 'ack', node: 'intruder', id: 'x', to: 'y' }));
      await publishAsOutsider(JSON.stringify({ type: 'invalidate', node: 'intruder', id: 'z', scope: { kind: 'tenant', clientKey: cluster.sim.clientKey } }));
      for (const [i, node] of cluster.nodes.entries()) {
        const rejected = () => metric(node, 'panelguard_bus_messages_rejected_total{reason="malformed"}');
        for (let attempt = 0; attempt < 50 && (await rejected()) < (before[i] ?? 0) + 3; attempt += 1) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect((await rejected()) - (before[i] ?? 0), node.name).to.equal(3);
        expect(await metric(node, 'panelguard_cluster_nodes'), node.name).to.equal(3);
      }
      expect(await statusesOn(token)).to.deep.equal([200, 200, 200]);
    });

    it('refuses every token of the site on all three nodes once the uninstall sent to node 1 returns 3/3', async () => {
      const token = await cluster.mintOn(node3, BOB);
      expect(await statusesOn(token)).to.deep.equal([200, 200, 200]);
      cluster.via(node1);
      const uninstalled = await cluster.sim.uninstall();
      expect(uninstalled?.status).to.equal(204);
      expect(uninstalled?.headers.get('revocation-confirmed')).to.equal('3/3');
      for (const node of cluster.nodes) {
        const refused = await cluster.api(node, token);
        expect(refused.status, node.name).to.equal(401);
        expect(refused.body.error?.code, node.name).to.equal('token_revoked');
      }
    });
  });
}
