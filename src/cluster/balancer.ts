/** A round-robin load balancer in front of a cluster's nodes, as a deployment would have one (for the cluster demo and tests). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import httpProxy from 'http-proxy';

export interface Balancer {
  url: string;
  port: number;
  /** Sends every request to one target until unpinned (null): "the load balancer sent this webhook to node 2". */
  pin(target: string | null): void;
  close(): Promise<void>;
}

export interface BalancerOptions {
  /** Adds `X-Balancer-Target: <target URL>` to every answer a node gave, so a client can tell which node served it. */
  nameTarget?: boolean;
}

export const TARGET_HEADER = 'x-balancer-target';

export async function startBalancer(port: number, targets: string[], options: BalancerOptions = {}): Promise<Balancer> {
  if (targets.length === 0) throw new Error('a balancer needs at least one target');
  const proxy = httpProxy.createProxyServer({ xfwd: true });
  const targetOf = new WeakMap<http.IncomingMessage, string>();
  if (options.nameTarget === true) {
    proxy.on('proxyRes', (proxyRes, req) => {
      proxyRes.headers[TARGET_HEADER] = targetOf.get(req) ?? 'unknown';
    });
  }
  let next = 0;
  let pinned: string | null = null;
  proxy.on('error', (_error, _req, res) => {
    // A node that is down answers 502 here, as a real balancer without health checks would.
    if (res instanceof http.ServerResponse && !res.headersSent) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'bad_gateway', message: 'The node behind the balancer did not answer.' } }));
    }
  });
  const server = http.createServer((req, res) => {
    const target = pinned ?? targets[next++ % targets.length]!;
    if (options.nameTarget === true) targetOf.set(req, target);
    proxy.web(req, res, { target });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    pin(target) {
      pinned = target;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      proxy.close();
    },
  };
}
