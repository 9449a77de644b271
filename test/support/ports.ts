/**
 * Free TCP ports for servers a test starts in another process, where listening on port 0 cannot tell the test
 * which one it got.
 *
 * A port is only known free while something holds it, and the test must let go before the other process binds.
 * A port from the kernel's ephemeral range can be taken in that gap by any outgoing connection or `listen(0)`
 * on the machine, and a busy suite makes thousands of them. So the ports handed out here lie below that range,
 * where nothing is assigned automatically, and none is handed out twice by this process.
 */
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** The lowest port handed out: above the well-known and common service ports. */
const LOWEST = 20_000;
const ATTEMPTS = 200;

const handedOut = new Set<number>();

/** The first port of the kernel's ephemeral range (Linux's default 32768 when it cannot be read). */
function ephemeralStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low !== undefined && Number.isInteger(low) && low > LOWEST + 1_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

async function listensOn(port: number): Promise<number | null> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  try {
    // once() rejects when the server emits 'error' instead (EADDRINUSE, EACCES).
    await once(server, 'listening');
  } catch {
    return null;
  }
  const bound = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return bound;
}

export async function freePort(): Promise<number> {
  const highest = ephemeralStart() - 1;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (highest - LOWEST + 1));
    if (handedOut.has(port)) continue;
    if ((await listensOn(port)) === port) {
      handedOut.add(port);
      return port;
    }
  }
  // Every try was taken: let the kernel choose, as before.
  const port = await listensOn(0);
  if (port === null) throw new Error('no free TCP port on 127.0.0.1');
  handedOut.add(port);
  return port;
}
