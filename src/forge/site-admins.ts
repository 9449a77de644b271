/**
 * Who is a site admin, for a Forge installation: the same Jira permission check the Connect side asks,
 * sent to the FIT's `app.apiBaseUrl` with the app system token Forge puts on the call
 * (`x-forge-oauth-system`). The token is used for this one request and never logged or kept.
 */
import { adminAnswer, adminQuestion, HostUnavailable, rememberedAnswers } from '../connect/site-admins';

/** How long the host may take to answer before the page answers 503. */
const TIMEOUT_MS = 5_000;

export interface ForgeSiteAdmins {
  /** Rejects when Jira cannot be asked or answers oddly: the caller must then refuse (fail closed). */
  isSiteAdmin(installationId: string, accountId: string, ask: { apiBaseUrl: string; systemToken: string }): Promise<boolean>;
}

export function forgeSiteAdmins(options: { ttlSeconds: number }): ForgeSiteAdmins {
  const remembered = rememberedAnswers(options.ttlSeconds);
  return {
    isSiteAdmin: (installationId, accountId, ask) =>
      remembered(installationId, accountId, () => askJira(ask.apiBaseUrl, ask.systemToken, accountId)),
  };
}

async function askJira(apiBaseUrl: string, systemToken: string, accountId: string): Promise<boolean> {
  let response: Response;
  try {
    response = await fetch(`${apiBaseUrl.replace(/\/+$/, '')}/rest/api/3/permissions/check`, {
      method: 'POST',
      headers: { authorization: `Bearer ${systemToken}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(adminQuestion(accountId)),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'error',
    });
  } catch {
    throw new HostUnavailable(null);
  }
  const body: unknown = response.status === 200 ? await response.json().catch(() => null) : null;
  return adminAnswer(response.status, body);
}
