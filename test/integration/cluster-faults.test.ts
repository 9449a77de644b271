/**
 * Guarantees 4 and 5 across processes: what a cluster does when a node loses its bus,
 * when a node is down during a revocation, and when the store is unreachable. Links
 * are cut with TCP relays between the nodes and the machine's real PostgreSQL and Redis.
 */
import { expect } from 'chai';
import type { NodeProcess } from '../../src/cluster/node-process';
import { postgresAdminUrl, redisUrl, servicesOrSkip } from '../support/services';
import { startTcpProxy, through, type TcpProxy } from '../support/tcp-proxy';
import { metric, startCluster, type ClusterStack } from './cluster-harness';
import { ALICE, BOB, ISSUE } from './harness';

const CACHE_HITS = 'panelguard_entry_cache_lookups_total{outcome="hit"}';
const BYPASSES = 'panelguard_entry_cache_lookups_total{outcome="bypass"}';
const UNCONFIRMED = 'panelguard_revocations_unconfirmed_total';

describe('a cluster on the redis bus when links fail', function () {
  this.timeout(90_000);
  let cluster: ClusterStack;
  let node1: NodeProcess;
  let node2: NodeProcess;
  let node3: NodeProcess;
  /** Between node 1 and Redis. */
  let redisLink: TcpProxy;
  /** Between every node and PostgreSQL. */
  let storeLink: TcpProxy;

  before(async function () {
    await servicesOrSkip(this, 'postgres', 'redis');
    const redis = new URL(redisUrl);
    const postgres = new URL(postgresAdminUrl);
    redisLink = await startTcpProxy(redis.hostname, Number(redis.port || 6379));
    storeLink = await startTcpProxy(postgres.hostname, Number(postgres.port || 5432));
    cluster = await startCluster({
      bus: 'redis',
      nodeEnv: (index, env) => ({
        ...env,
        DATABASE_URL: through(env.DATABASE_URL!, storeLink.port),
        ...(index === 0 ? { REDIS_URL: through(env.REDIS_URL!, redisLink.port) } : {}),
      }),
    });
    [node1, node2, node3] = cluster.nodes as [NodeProcess, NodeProcess, NodeProcess];
  });
  after(async () => {
    await cluster?.close();
    await redisLink?.close();
    await storeLink?.close();
  });
  afterEach(async () => {
    cluster?.via(null);
    await storeLink?.restore();
    await redisLink?.restore();
  });

  it('answers 503 store_unavailable on every node while the store is unreachable, and serves again once it is back', async () => {
    const token = await cluster.mintOn(node1, ALICE);
    await storeLink.cut();
    for (const node of cluster.nodes) {
      const answer = await cluster.api(node, token);
      expect(answer.status, node.name).to.equal(503);
      expect(answer.body.error?.code, node.name).to.equal('store_unavailable');
      expect(await node.readiness(), node.name).to.include({ status: 'unavailable', store: 'unavailable' });
    }
    await storeLink.restore();
    for (const node of cluster.nodes) expect((await cluster.api(node, token)).status, node.name).to.equal(200);
  });

  it('serves from the store while its bus is cut, refuses a token revoked meanwhile, and caches again once the bus is back', async () => {
    const alice = await cluster.mintOn(node2, ALICE);
    const bob = await cluster.mintOn(node2, BOB);
    for (const node of cluster.nodes) expect((await cluster.api(node, alice)).status, node.name).to.equal(200);

    await redisLink.cut();
    expect(await node1.waitFor((ready) => ready?.bus === 'down')).to.include({ status: 'degraded', cache: 'bypassed', store: 'ok' });
    expect(await metric(node1, 'panelguard_bus_connected')).to.equal(0);
    const unconfirmed = await metric(node2, UNCONFIRMED);
    cluster.via(node2);
    const webhook = await cluster.sim.removeUser(ALICE);
    expect(webhook?.status).to.equal(200);
    // Node 1 is still counted live (its heartbeats stopped less than three beats ago) and cannot confirm.
    expect(webhook?.headers.get('revocation-confirmed')).to.equal('2/3');
    expect(await metric(node2, UNCONFIRMED)).to.equal(unconfirmed + 1);
    const bypassed = await metric(node1, BYPASSES);
    const refused = await cluster.api(node1, alice);
    expect(refused.status).to.equal(401);
    expect(refused.body.error?.code).to.equal('token_revoked');
    expect(await metric(node1, BYPASSES)).to.equal(bypassed + 1);

    await redisLink.restore();
    expect(await node1.waitFor((ready) => ready?.bus === 'ok')).to.include({ status: 'ready', cache: 'trusted' });
    const hits = await metric(node1, CACHE_HITS);
    expect((await cluster.api(node1, bob)).status).to.equal(200);
    expect((await cluster.api(node1, bob)).status).to.equal(200);
    expect(await metric(node1, CACHE_HITS)).to.equal(hits + 1);
    expect((await cluster.api(node1, alice)).status).to.equal(401);
  });

  it('refuses on a node that was down during a revocation once it is back', async () => {
    await cluster.sim.reactivateUser(ALICE);
    const token = await cluster.mintOn(node1, BOB, ISSUE);
    for (const node of cluster.nodes) expect((await cluster.api(node, token)).status, node.name).to.equal(200);
    await node3.kill();
    cluster.via(node2);
    const webhook = await cluster.sim.removeUser(BOB);
    expect(webhook?.status).to.equal(200);
    // Node 3 vanished without leaving, so it is still counted until its heartbeats are missed.
    expect(webhook?.headers.get('revocation-confirmed')).to.equal('2/3');
    await node3.start();
    await cluster.waitForMembership(3);
    const refused = await cluster.api(node3, token);
    expect(refused.status).to.equal(401);
    expect(refused.body.error?.code).to.equal('token_revoked');
  });
});

describe('a cluster on the postgres bus when a node loses PostgreSQL', function () {
  this.timeout(90_000);
  let cluster: ClusterStack;
  let node1: NodeProcess;
  let node2: NodeProcess;
  /** Between node 1 and PostgreSQL: its store and its bus at once. */
  let link: TcpProxy;

  before(async function () {
    await servicesOrSkip(this, 'postgres');
    const postgres = new URL(postgresAdminUrl);
    link = await startTcpProxy(postgres.hostname, Number(postgres.port || 5432));
    cluster = await startCluster({
      bus: 'postgres',
      nodeEnv: (index, env) => (index === 0 ? { ...env, DATABASE_URL: through(env.DATABASE_URL!, link.port) } : env),
    });
    [node1, node2] = cluster.nodes as [NodeProcess, NodeProcess];
  });
  after(async () => {
    await cluster?.close();
    await link?.close();
  });

  it('answers 503 rather than from its cache while cut, then refuses what was revoked meanwhile and listens again', async () => {
    const alice = await cluster.mintOn(node2, ALICE);
    const bob = await cluster.mintOn(node2, BOB);
    for (const node of cluster.nodes) expect((await cluster.api(node, alice)).status, node.name).to.equal(200);

    await link.cut();
    expect(await node1.waitFor((ready) => ready?.bus === 'down')).to.include({ status: 'unavailable', store: 'unavailable', cache: 'bypassed' });
    expect((await cluster.api(node1, alice)).body.error?.code).to.equal('store_unavailable');
    cluster.via(node2);
    const webhook = await cluster.sim.removeUser(ALICE);
    expect(webhook?.status).to.equal(200);
    expect(webhook?.headers.get('revocation-confirmed')).to.equal('2/3');

    await link.restore();
    expect(await node1.waitFor((ready) => ready?.bus === 'ok' && ready.store === 'ok')).to.include({ status: 'ready', cache: 'trusted' });
    expect((await cluster.api(node1, alice)).body.error?.code).to.equal('token_revoked');
    const hits = await metric(node1, CACHE_HITS);
    expect((await cluster.api(node1, bob)).status).to.equal(200);
    expect((await cluster.api(node1, bob)).status).to.equal(200);
    expect(await metric(node1, CACHE_HITS)).to.equal(hits + 1);
  });
});
