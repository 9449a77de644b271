/** Requests to the app over one kept-alive connection: raw bytes in, status, headers and text out. */
import http from 'node:http';

export interface FuzzRequest {
  method: string;
  /** Path and query exactly as sent: the caller encodes what needs encoding. */
  path: string;
  /** A value given as a list is sent as that many header lines. */
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export class HttpClient {
  // One socket, kept alive: a run of 100,000 requests would otherwise spend most of its time connecting.
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(private readonly port: number) {}

  send(request: FuzzRequest, timeoutMs = 10_000): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: this.port, method: request.method, path: request.path, headers: request.headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(request.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
