/**
 * A stand-in for Atlassian's FIT signing, for tests of the server's Forge door: an RSA key served as a
 * JWKS on loopback, and FITs shaped as Atlassian documents them, with overrides for the forgeries.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';

export interface FitOptions {
  principal?: string | null;
  installationId?: string;
  moduleKey?: string;
  extension?: Record<string, unknown> | null;
  aud?: string;
  iss?: string;
  /** Seconds from now; negative for an expired FIT. */
  expiresIn?: number;
  kid?: string;
  /** Signs with another key under the JWKS's kid. */
  foreignKey?: boolean;
  siteUrl?: string;
}

export interface FitSigner {
  appId: string;
  installationId: string;
  jwksUrl: string;
  apiBaseUrl: string;
  sign(options?: FitOptions): Promise<string>;
  /** Who Jira (at apiBaseUrl) reports as site admins. */
  siteAdmins: Set<string>;
  /** The app system token Jira accepts at apiBaseUrl. */
  systemToken: string;
  /** Display names Jira's bulk user API (at apiBaseUrl) answers, by account id. */
  displayNames: Map<string, string>;
  close(): Promise<void>;
}

export async function startFitSigner(): Promise<FitSigner> {
  const kid = randomUUID();
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const foreign: KeyLike = (await generateKeyPair('RS256')).privateKey;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const siteAdmins = new Set<string>();
  const displayNames = new Map<string, string>();
  const systemToken = `system-${randomUUID()}`;
  const cloudId = randomUUID();
  const server = http.createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    }
    // Jira's permission check, as the app asks it with its system token.
    if (req.method === 'POST' && req.url === `/ex/jira/${cloudId}/rest/api/3/permissions/check`) {
      if (req.headers.authorization !== `Bearer ${systemToken}`) return void res.writeHead(401).end();
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const { accountId } = JSON.parse(body) as { accountId: string };
        const globalPermissions = siteAdmins.has(accountId) ? ['ADMINISTER'] : [];
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ globalPermissions }));
      });
      return;
    }
    // Jira's bulk user API, as far as names: the accounts asked that it knows, with their display names.
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (req.method === 'GET' && url.pathname === `/ex/jira/${cloudId}/rest/api/3/user/bulk`) {
      if (req.headers.authorization !== `Bearer ${systemToken}`) return void res.writeHead(401).end();
      const values = url.searchParams
        .getAll('accountId')
        .filter((accountId) => displayNames.has(accountId))
        .map((accountId) => ({ accountId, displayName: displayNames.get(accountId) }));
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ values, isLast: true }));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const appId = `ari:cloud:ecosystem::app/${randomUUID()}`;
  const installationId = `ari:cloud:ecosystem::installation/${randomUUID()}`;
  const apiBaseUrl = `http://127.0.0.1:${port}/ex/jira/${cloudId}`;
  return {
    siteAdmins,
    displayNames,
    systemToken,
    appId,
    installationId,
    apiBaseUrl,
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    async sign(options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const moduleKey = options.moduleKey ?? 'panelguard-issue-panel';
      const claims: Record<string, unknown> = {
        app: {
          id: appId,
          version: '1',
          appVersion: '1.0.0',
          installationId: options.installationId ?? installationId,
          apiBaseUrl,
          environment: { type: 'PRODUCTION', id: `ari:cloud:ecosystem::environment/${randomUUID()}` },
          module: { type: options.principal === null ? 'core:endpoint' : 'jira:issuePanel', key: moduleKey },
          installation: { id: options.installationId ?? installationId, contexts: [] },
        },
        ...(options.extension === null
          ? {}
          : {
              context: {
                cloudId,
                moduleKey,
                siteUrl: options.siteUrl ?? 'https://acme.atlassian.net',
                localId: randomUUID(),
                extension: options.extension ?? {
                  type: 'jira:issuePanel',
                  issue: { id: '10001', key: 'DEMO-1', type: 'Task', typeId: '10002' },
                  project: { id: '10000', key: 'DEMO', type: 'software' },
                },
              },
            }),
        ...(options.principal === null ? {} : { principal: options.principal ?? '557058:alice' }),
      };
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? kid })
        .setIssuer(options.iss ?? 'forge/invocation-token')
        .setAudience(options.aud ?? appId)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + (options.expiresIn ?? 25))
        .setJti(randomUUID())
        .sign(options.foreignKey === true ? foreign : privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
