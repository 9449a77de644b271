/**
 * The ports test/support/ports.ts hands to servers in other processes: below the kernel's ephemeral range,
 * where no outgoing connection or listen(0) can take one between the test letting go and the server binding
 * (the Forge suites once lost their CDN's port that way, one run in several).
 */
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { expect } from 'chai';
import { freePort } from '../support/ports';

function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32_768;
  }
}

describe('test support: free ports for other processes', () => {
  it('hands out ports below the ephemeral range, never the same one twice, each free to bind', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 50; i++) ports.push(await freePort());
    expect(new Set(ports).size).to.equal(ports.length);
    for (const port of ports) expect(port).to.be.within(20_000, ephemeralStart() - 1);
    const server = createServer().listen(ports[0], '127.0.0.1');
    await once(server, 'listening');
    server.close();
    await once(server, 'close');
  });
});
