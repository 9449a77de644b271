/**
 * A simulated identity provider that transmits Shared Signals (Okta, Google... in the demo and the tests): its own
 * issuer URL, a signing key (ES256 or RS256) it can rotate, its configuration at `/.well-known/ssf-configuration`
 * and its JWKS, and Security Event Tokens it signs and pushes to a receiver (RFC 8935), as a real transmitter would.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Handlebars from 'handlebars';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type KeyLike } from 'jose';
import { randomHex, randomUuid } from '../tokens/random';
import type { SimulatedUser } from './directory';
import { closeServer } from './simulator';

export type SetAlgorithm = 'ES256' | 'RS256';

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';

/** The event types the transmitter sends by short name; any other type URI is sent as given. */
export const EVENT_TYPES = {
  'session-revoked': `${CAEP}session-revoked`,
  'credential-change': `${CAEP}credential-change`,
  'token-claims-change': `${CAEP}token-claims-change`,
  'account-disabled': `${RISC}account-disabled`,
  'account-purged': `${RISC}account-purged`,
  'account-enabled': `${RISC}account-enabled`,
  'sessions-revoked': `${RISC}sessions-revoked`,
  'credential-compromise': `${RISC}credential-compromise`,
  verification: 'https://schemas.openid.net/secevent/ssf/event-type/verification',
} as const;

export type EventName = keyof typeof EVENT_TYPES;

/** How a SET names its user (RFC 9493 formats, and SSF 1.0's complex subject with a user member). */
export type SubjectFormat = 'email' | 'opaque' | 'iss_sub' | 'complex';

export interface SsfTransmitterOptions {
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The issuer's path (`/idp` by default), so that discovery must insert `.well-known` before it (SSF 1.0 7.2). */
  path?: string;
  algorithm?: SetAlgorithm;
  /** Epoch milliseconds; defaults to Date.now. Drives `iat`. */
  now?: () => number;
}

export interface SetOptions {
  /** The receiver's audience for the stream (or several). */
  audience: string | string[];
  /** A short name, or any event type URI. */
  event: EventName | string;
  /** The event's own claims (`event_timestamp`, `reason_admin`, `credential_type`...). */
  eventClaims?: Record<string, unknown>;
  /** `sub_id`; none for a SET that names no subject. */
  subject?: Record<string, unknown>;
  /** Claims to add or replace; `undefined` drops one. */
  claims?: Record<string, unknown>;
}

export interface PushAnswer {
  status: number;
  /** The receiver's JSON body (RFC 8935 `{"err", "description"}` on a 400), or null when it sent none. */
  body: { err?: string; description?: string } | null;
  headers: Headers;
}

/** Where the demo's console pushes: one receiver stream, and the users it lists. */
export interface ConsoleTarget {
  /** The receiver's push endpoint (`delivery.endpoint_url`). */
  endpoint: string;
  audience: string;
  users(): SimulatedUser[];
}

/** What the console lets a demo user make the identity provider say about a user. */
const CONSOLE_EVENTS: readonly { event: EventName; label: string }[] = [
  { event: 'session-revoked', label: 'Revoke sessions' },
  { event: 'credential-change', label: 'Change password' },
  { event: 'account-disabled', label: 'Disable account' },
  { event: 'account-enabled', label: 'Enable account' },
];

const consolePage = Handlebars.compile<{ issuer: string; base: string; status?: string; users: SimulatedUser[]; events: typeof CONSOLE_EVENTS; target: boolean }>(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Identity provider (SSF transmitter simulator)</title>
<style>body { font-family: -apple-system, "Segoe UI", Roboto, sans-serif; margin: 16px; color: #172b4d; } td { padding: 4px 8px; } form { display: inline; }</style></head>
<body>
<h1>Identity provider</h1>
<p>Issuer <code id="issuer">{{issuer}}</code>. Each button signs a Security Event Token about the user and pushes it to PanelGuard.</p>
{{#if status}}<p id="status">{{status}}</p>{{/if}}
{{#if target}}
<table id="users">
{{#each users}}<tr data-account-id="{{accountId}}"><td>{{displayName}}</td><td>{{email}}</td><td>{{#each ../events}}<form method="post" action="{{../../base}}/console/users/{{../accountId}}/{{event}}"><button type="submit">{{label}}</button></form> {{/each}}</td></tr>
{{/each}}
</table>
<form method="post" action="{{base}}/console/verify"><button id="verify" type="submit">Send a verification event</button></form>
{{else}}<p>No receiver stream is set up.</p>{{/if}}
</body>
</html>`);

interface SigningKey {
  kid: string;
  privateKey: KeyLike;
  jwk: JWK;
}

async function signingKey(algorithm: SetAlgorithm): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(algorithm, { modulusLength: 2048 });
  const kid = randomHex(8);
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: algorithm, use: 'sig' } };
}

export class SsfTransmitter {
  readonly issuer: string;
  readonly jwksUri: string;
  /** The demo's page: a button per user and event, each pushing a SET to the console's target. */
  readonly consoleUrl: string;
  /** How often each document was fetched: the tests' view of a receiver's caching. */
  readonly fetches = { configuration: 0, jwks: 0 };
  /** While false, the configuration and JWKS answer 503, as a transmitter that is down would. */
  available = true;
  /** Where the console pushes; null until a stream is set up. */
  consoleTarget: ConsoleTarget | null = null;
  /** Complex-subject members the configuration marks critical (SSF 1.0 critical_subject_members). */
  criticalMembers: string[] = [];
  /** Keys the JWKS publishes: the current one, and those a rotation kept. */
  private published: SigningKey[];

  /** Use startSsfTransmitter. */
  constructor(
    private readonly server: Server,
    origin: string,
    path: string,
    readonly algorithm: SetAlgorithm,
    private key: SigningKey,
    private readonly clock: () => number,
  ) {
    this.issuer = `${origin}${path}`;
    this.consoleUrl = `${this.issuer}/console`;
    this.jwksUri = `${this.issuer}/jwks.json`;
    this.published = [key];
  }

  /** The kid of the key that signs now. */
  get kid(): string {
    return this.key.kid;
  }

  /** The configuration document (SSF 1.0 7.1). */
  configuration(): Record<string, unknown> {
    return {
      spec_version: '1_0',
      issuer: this.issuer,
      jwks_uri: this.jwksUri,
      delivery_methods_supported: ['urn:ietf:rfc:8935'],
      ...(this.criticalMembers.length > 0 ? { critical_subject_members: this.criticalMembers } : {}),
    };
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.published.map((key) => key.jwk) };
  }

  /** Signs with a new key (a new kid) from now on; the old one stays published unless `retire`. Answers the new kid. */
  async rotateKey(options: { retire?: boolean } = {}): Promise<string> {
    this.key = await signingKey(this.algorithm);
    this.published = options.retire === true ? [this.key] : [...this.published, this.key];
    return this.key.kid;
  }

  /** How a SET from this transmitter names `user`. */
  subjectOf(user: Pick<SimulatedUser, 'accountId' | 'email'>, format: SubjectFormat = 'email'): Record<string, unknown> {
    switch (format) {
      case 'email':
        return { format: 'email', email: user.email };
      case 'opaque':
        return { format: 'opaque', id: user.accountId };
      case 'iss_sub':
        return { format: 'iss_sub', iss: this.issuer, sub: user.accountId };
      case 'complex':
        return { format: 'complex', user: { format: 'email', email: user.email }, session: { format: 'opaque', id: randomHex(8) } };
    }
  }

  /** The SET's claims: iss, aud, iat (to the millisecond: RFC 7519 times may be fractional), a fresh jti, sub_id, one event. */
  payload(options: SetOptions): Record<string, unknown> {
    const type = (EVENT_TYPES as Record<string, string>)[options.event] ?? options.event;
    const payload: Record<string, unknown> = {
      iss: this.issuer,
      aud: options.audience,
      iat: this.clock() / 1000,
      jti: randomUuid(),
      ...(options.subject === undefined ? {} : { sub_id: options.subject }),
      events: { [type]: options.eventClaims ?? {} },
      ...options.claims,
    };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
    return payload;
  }

  /** A SET signed with the current key, typed `secevent+jwt`. */
  sign(options: SetOptions): Promise<string> {
    return this.signPayload(this.payload(options), this.key);
  }

  /** A SET an attacker made: signed by a key the JWKS does not publish, under the current kid. */
  async forge(options: SetOptions): Promise<string> {
    const forger = await signingKey(this.algorithm);
    return this.signPayload(this.payload(options), { ...forger, kid: this.key.kid });
  }

  /** A SET with `alg: none` and no signature. */
  unsigned(options: SetOptions): string {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${part({ alg: 'none', typ: 'secevent+jwt' })}.${part(this.payload(options))}.`;
  }

  /** POSTs one SET to a receiver's endpoint as RFC 8935 says (or with another content type, to test the receiver). */
  async push(endpoint: string, set: string, contentType = 'application/secevent+jwt'): Promise<PushAnswer> {
    const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/json' }, body: set });
    const text = await response.text();
    let body: PushAnswer['body'] = null;
    try {
      body = text === '' ? null : (JSON.parse(text) as PushAnswer['body']);
    } catch {
      body = null;
    }
    return { status: response.status, body, headers: response.headers };
  }

  /** Signs a SET and pushes it. */
  async send(endpoint: string, options: SetOptions): Promise<PushAnswer> {
    return this.push(endpoint, await this.sign(options));
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private signPayload(payload: Record<string, unknown>, key: SigningKey): Promise<string> {
    return new SignJWT(payload as JWTPayload).setProtectedHeader({ alg: this.algorithm, typ: 'secevent+jwt', kid: key.kid }).sign(key.privateKey);
  }
}

export async function startSsfTransmitter(options: SsfTransmitterOptions = {}): Promise<SsfTransmitter> {
  const app = express();
  app.disable('x-powered-by');
  const server = createServer(app);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const path = (options.path ?? '/idp').replace(/\/+$/, '');
  const algorithm = options.algorithm ?? 'ES256';
  const transmitter = new SsfTransmitter(server, `http://${host.includes(':') ? `[${host}]` : host}:${port}`, path, algorithm, await signingKey(algorithm), options.now ?? Date.now);
  const unavailable = (res: express.Response) => res.status(503).json({ error: 'temporarily unavailable' });
  const showConsole = (res: express.Response, status?: string) => {
    const target = transmitter.consoleTarget;
    res.type('html').send(consolePage({ issuer: transmitter.issuer, base: path, status, users: target?.users() ?? [], events: CONSOLE_EVENTS, target: target !== null }));
  };
  app.get(`${path}/console`, (_req, res) => showConsole(res));
  app.post(`${path}/console/users/:accountId/:event`, async (req, res) => {
    const target = transmitter.consoleTarget;
    const user = target?.users().find((candidate) => candidate.accountId === req.params.accountId);
    const event = CONSOLE_EVENTS.find((candidate) => candidate.event === req.params.event);
    if (target === null || user === undefined || event === undefined) return res.status(404).type('text').send('Nothing here.');
    const answer = await transmitter.send(target.endpoint, { audience: target.audience, event: event.event, subject: transmitter.subjectOf(user, 'email') }).catch(() => null);
    showConsole(res, `${event.event} about ${user.displayName}: PanelGuard answered ${answer === null ? 'nothing' : `${answer.status}${answer.body?.err === undefined ? '' : ` ${answer.body.err}`}`}`);
  });
  app.post(`${path}/console/verify`, async (_req, res) => {
    const target = transmitter.consoleTarget;
    if (target === null) return res.status(404).type('text').send('Nothing here.');
    const answer = await transmitter.send(target.endpoint, { audience: target.audience, event: 'verification', subject: { format: 'opaque', id: 'demo-stream' } }).catch(() => null);
    showConsole(res, `verification: PanelGuard answered ${answer === null ? 'nothing' : answer.status}`);
  });
  app.get(`/.well-known/ssf-configuration${path}`, (_req, res) => {
    transmitter.fetches.configuration += 1;
    if (!transmitter.available) return unavailable(res);
    res.json(transmitter.configuration());
  });
  app.get(`${path}/jwks.json`, (_req, res) => {
    transmitter.fetches.jwks += 1;
    if (!transmitter.available) return unavailable(res);
    res.json(transmitter.jwks());
  });
  return transmitter;
}
