/**
 * A TCP relay a test can cut: put it between one node and a real service (Redis,
 * PostgreSQL) and that node's connection can be broken and restored, while the
 * service and every other node carry on. It can also cut only the connections
 * that said a given thing, e.g. PostgreSQL's LISTEN connection (the bus) while the
 * store's connections, through the same relay, keep flowing.
 */
import { once } from 'node:events';
import net from 'node:net';

export interface TcpProxyOptions {
  /**
   * Bytes that mark a connection once its client has sent them, e.g. `LISTEN ` for the
   * connection the PostgreSQL bus listens on; `cutMarked` then cuts those connections only.
   */
  markWhenClientSends?: string;
}

export interface TcpProxy {
  port: number;
  /** Drops every open connection and refuses new ones, as a network partition would. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  /** Drops the marked connections, and each connection that becomes marked, until `restoreMarked`; the others flow. */
  cutMarked(): void;
  restoreMarked(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number, options: TcpProxyOptions = {}): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const marked = new Set<net.Socket>();
  const mark = options.markWhenClientSends === undefined ? null : Buffer.from(options.markWhenClientSends, 'latin1');
  let markedCut = false;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      marked.delete(socket);
    });
  };
  const relay = (client: net.Socket) => {
    const upstream = net.connect(targetPort, targetHost);
    track(client);
    track(upstream);
    if (mark !== null) watchFor(mark, client, () => {
      marked.add(client);
      if (markedCut) client.destroy();
    });
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };

  let server = net.createServer(relay);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  let listening = true;

  async function stopListening(): Promise<void> {
    if (!listening) return;
    listening = false;
    const closed = once(server, 'close');
    server.close();
    for (const socket of sockets) socket.destroy();
    await closed;
  }

  return {
    port,
    cut: stopListening,
    async restore() {
      if (listening) return;
      server = net.createServer(relay);
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      listening = true;
    },
    cutMarked() {
      markedCut = true;
      for (const socket of marked) socket.destroy();
    },
    restoreMarked() {
      markedCut = false;
    },
    close: stopListening,
  };
}

/** The same URL (a service's, e.g. DATABASE_URL or REDIS_URL), reaching its server through a relay on `port`. */
export function through(url: string, port: number): string {
  const relayed = new URL(url);
  relayed.hostname = '127.0.0.1';
  relayed.port = String(port);
  return relayed.toString();
}

/** Calls `found` once `pattern` has gone through `socket`, also when it arrives split across chunks. */
function watchFor(pattern: Buffer, socket: net.Socket, found: () => void): void {
  let tail: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    const window: Buffer = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
    if (window.includes(pattern)) {
      socket.off('data', onData);
      found();
      return;
    }
    tail = window.subarray(Math.max(0, window.length - pattern.length + 1));
  };
  // Registered before the pipe: a connection cut on sight is destroyed before its chunk is relayed.
  socket.on('data', onData);
}
