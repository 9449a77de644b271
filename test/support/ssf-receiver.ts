/**
 * A Shared Signals receiver for tests: an RFC 8935 push endpoint that verifies each SET against the transmitter's
 * published JWKS (fetched over HTTP, as a real receiver would) and answers 202, or answers as told: 503 while down,
 * 400 to refuse, 429 to throttle. It records every push it saw and every SET it accepted.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

export type ReceiverMode = 'up' | 'down' | 'refuse' | 'throttle';

export interface AcceptedSet {
  header: { alg: string; typ?: string; kid?: string };
  payload: JWTPayload & Record<string, unknown>;
  /** When it was accepted (epoch ms). */
  at: number;
}

export interface TestReceiver {
  /** The push endpoint. */
  url: string;
  mode: ReceiverMode;
  /** Every push, whatever it was answered, in order: the SET's jti (or null when unreadable) and the status sent. */
  readonly pushes: Array<{ jti: string | null; status: number }>;
  /** Every SET that verified and was answered 202, in order. */
  readonly accepted: AcceptedSet[];
  /** How many times the receiver answered 202 for this jti. */
  acceptedCount(jti: string): number;
  /** Resolves once `predicate` holds (checked every 20 ms), or fails after `timeoutMs`. */
  waitFor(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface TestReceiverOptions {
  /** Where the transmitter publishes its keys; asked on the first push. */
  jwksUrl: () => string;
  issuer: () => string;
  audience: string;
  /** The Authorization value every push must carry; a push without it gets 401. */
  authorization?: string;
}

export async function startTestReceiver(options: TestReceiverOptions): Promise<TestReceiver> {
  let keys: ReturnType<typeof createRemoteJWKSet> | null = null;
  const app = express();
  const receiver: TestReceiver = {
    url: '',
    mode: 'up',
    pushes: [],
    accepted: [],
    acceptedCount: (jti) => receiver.accepted.filter((set) => set.payload.jti === jti).length,
    async waitFor(predicate, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`the test receiver waited ${timeoutMs} ms for ${what}; it saw ${JSON.stringify(receiver.pushes)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: async () => undefined,
  };

  app.post('/events', express.text({ type: 'application/secevent+jwt' }), async (req, res) => {
    const token = typeof req.body === 'string' ? req.body : '';
    const jti = jtiOf(token);
    const answer = (status: number, body?: object) => {
      receiver.pushes.push({ jti, status });
      if (body === undefined) res.status(status).end();
      else res.status(status).json(body);
    };
    if (options.authorization !== undefined && req.headers.authorization !== options.authorization) return answer(401);
    if (req.headers.accept !== 'application/json') return answer(400, { err: 'invalid_request', description: 'Accept must be application/json' });
    switch (receiver.mode) {
      case 'down':
        return answer(503);
      case 'throttle':
        res.set('Retry-After', '1');
        return answer(429);
      case 'refuse':
        return answer(400, { err: 'invalid_request', description: 'this receiver was told to refuse' });
      case 'up':
        break;
    }
    try {
      keys ??= createRemoteJWKSet(new URL(options.jwksUrl()));
      const verified = await jwtVerify(token, keys, { issuer: options.issuer(), audience: options.audience, typ: 'secevent+jwt', algorithms: ['RS256'] });
      receiver.accepted.push({ header: verified.protectedHeader, payload: verified.payload as AcceptedSet['payload'], at: Date.now() });
      answer(202);
    } catch (error) {
      answer(400, { err: 'invalid_key', description: error instanceof Error ? error.message : 'verification failed' });
    }
  });

  const server = http.createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  receiver.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

/** The jti of a compact JWT, read without verifying; null when it is not one. */
function jtiOf(token: string): string | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { jti?: unknown };
    return typeof payload.jti === 'string' ? payload.jti : null;
  } catch {
    return null;
  }
}
