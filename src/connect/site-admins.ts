/**
 * Who is a site admin, as the host says: Jira's bulk permission check (ADMINISTER), asked as the
 * app, answers cached briefly so a page load costs no round trip. Connect asks through ACE's HTTP
 * client; Forge (src/forge/site-admins.ts) with the app system token Forge hands its remote.
 */
import NodeCache from 'node-cache';
import { z } from 'zod';
import type { AddOn } from './addon';

export interface SiteAdmins {
  /** Rejects when the host cannot be asked or answers oddly: the caller must then refuse (fail closed). */
  isSiteAdmin(tenant: string, accountId: string): Promise<boolean>;
}

/** Jira's answer to `POST /rest/api/3/permissions/check`. */
export const permissionCheck = z.object({ globalPermissions: z.array(z.string()) }).passthrough();

/** What to send to `POST /rest/api/3/permissions/check` to ask whether `accountId` is a site admin. */
export function adminQuestion(accountId: string): { accountId: string; globalPermissions: string[] } {
  return { accountId, globalPermissions: ['ADMINISTER'] };
}

export class HostUnavailable extends Error {
  constructor(readonly status: number | null) {
    super(status === null ? 'the host could not be reached' : `the host answered ${status}`);
    this.name = 'HostUnavailable';
  }
}

/** Reads the host's answer: a 404 (no such user) is "no"; anything but 200 with the documented shape rejects. */
export function adminAnswer(status: number, body: unknown): boolean {
  if (status === 404) return false;
  if (status !== 200) throw new HostUnavailable(status);
  const parsed = permissionCheck.safeParse(body);
  if (!parsed.success) throw new HostUnavailable(200);
  return parsed.data.globalPermissions.includes('ADMINISTER');
}

/**
 * Keeps each yes and no for `ttlSeconds`, by site and user: a demoted admin keeps the page for at most this
 * long (and their token is revocable). `ask` runs only when no answer is kept.
 */
export function rememberedAnswers(ttlSeconds: number): (tenant: string, accountId: string, ask: () => Promise<boolean>) => Promise<boolean> {
  const answers = new NodeCache({ stdTTL: ttlSeconds, checkperiod: ttlSeconds, useClones: false });
  return async (tenant, accountId, ask) => {
    const key = `${tenant}\u0000${accountId}`;
    const known = answers.get<boolean>(key);
    if (known !== undefined) return known;
    const admin = await ask();
    answers.set(key, admin);
    return admin;
  };
}

export function hostSiteAdmins(addon: AddOn, options: { ttlSeconds: number }): SiteAdmins {
  const remembered = rememberedAnswers(options.ttlSeconds);
  const ask = (clientKey: string, accountId: string) =>
    new Promise<boolean>((resolve, reject) => {
      void addon
        .httpClient({ clientKey })
        .post({ url: '/rest/api/3/permissions/check', json: adminQuestion(accountId) }, (error: unknown, response: { statusCode: number }, payload: unknown) => {
          if (error) return reject(new HostUnavailable(null));
          try {
            resolve(adminAnswer(response.statusCode, payload));
          } catch (failure) {
            reject(failure);
          }
        })
        .catch(() => reject(new HostUnavailable(null)));
    });
  return { isSiteAdmin: (clientKey, accountId) => remembered(clientKey, accountId, () => ask(clientKey, accountId)) };
}
