/**
 * The Connect issue panel over three nodes: the host frames the panel through the cluster's balancer, which sent
 * the panel (and so its live channel) to one node; the user is removed through another node, and the open panel
 * hides its notes and says why within a second, without a click.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext } from 'playwright-core';
import type { NodeProcess } from '../../src/cluster/node-process';
import { metric, startCluster, type ClusterStack } from '../integration/cluster-harness';
import { ALICE, BOB, ISSUE } from '../integration/harness';
import { servicesOrSkip } from '../support/services';
import { chromiumOrSkip, launchChromium } from './chromium';
import { statusOf, WAIT, type HostPage } from './host-browser';

describe('browser: the issue panel on three nodes behind a balancer', function () {
  // Three nodes compile the app as they start, which a busy machine can stretch to minutes.
  this.timeout(240_000);
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let cluster: ClusterStack | undefined;
  let nodeA: NodeProcess;
  let nodeB: NodeProcess;

  before(async function () {
    const executablePath = chromiumOrSkip(this);
    await servicesOrSkip(this, 'postgres', 'redis');
    [browser, cluster] = await Promise.all([launchChromium(executablePath), startCluster({ bus: 'redis', startTimeoutMs: 120_000 })]);
    [nodeA, nodeB] = cluster.nodes as [NodeProcess, NodeProcess];
  });
  after(async () => {
    await browser?.close();
    await cluster?.close();
  });
  beforeEach(async () => {
    context = await browser!.newContext({ viewport: { width: 1100, height: 640 } });
  });
  afterEach(async () => {
    cluster?.via(null);
    await context?.close();
  });

  /** The issue view as `accountId`, its panel served by `node` alone: the balancer sends it everything meanwhile. */
  async function openIssueOn(node: NodeProcess, accountId: string): Promise<HostPage> {
    cluster!.via(node);
    const before = await metric(node, 'panelguard_live_channels');
    const page = await context!.newPage();
    await page.goto(cluster!.sim.hostPageUrl(accountId, ISSUE));
    const frame = page.frameLocator('#panel');
    await frame.locator('#status:not(:empty)').waitFor(WAIT);
    // The panel's channel is open on the node once the node counts it.
    for (let i = 0; i < 200 && (await metric(node, 'panelguard_live_channels')) <= before; i += 1) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(await metric(node, 'panelguard_live_channels'), `a live channel on ${node.name}`).to.be.above(before);
    return { page, frame };
  }

  async function addNote({ frame }: HostPage, text: string): Promise<void> {
    const before = await frame.locator('#notes li').count();
    await frame.locator('#note-text').fill(text);
    await frame.locator('#add-note').click();
    await frame.locator('#notes li').nth(before).waitFor(WAIT);
  }

  it('hides the notes of a panel open on one node within a second of another node answering the removal', async () => {
    const alices = await openIssueOn(nodeA, ALICE);
    const bobs = await openIssueOn(nodeA, BOB);
    await addNote(alices, 'seen until the removal');

    cluster!.via(nodeB);
    const removed = await cluster!.sim.removeUser(ALICE);
    const answered = Date.now();
    expect(removed?.status).to.equal(200);
    expect(removed?.headers.get('revocation-confirmed')).to.equal('3/3');
    await alices.frame.locator('#status.denied').waitFor({ timeout: 1_000 });
    const elapsed = Date.now() - answered;

    expect(elapsed).to.be.below(1_000);
    const status = await statusOf(alices);
    expect(status.code).to.equal('token_revoked');
    expect(status.text).to.match(/access revoked/i);
    expect(await alices.frame.locator('#notes li').count()).to.equal(0);
    expect(await alices.frame.locator('#add-note').isVisible()).to.equal(false);
    // Another user's panel on the same node hears nothing.
    expect((await statusOf(bobs)).className).to.not.include('denied');
  });
});
