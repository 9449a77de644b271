/**
 * Who is a site admin, as the host says: Jira's bulk permission check (ADMINISTER), asked
 * as the app through ACE's HTTP client, answers cached briefly so a page load costs no round trip.
 */
import NodeCache from 'node-cache';
import { z } from 'zod';
import type { AddOn } from './addon';

export interface SiteAdmins {
  /** Rejects when the host cannot be asked or answers oddly: the caller must then refuse (fail closed). */
  isSiteAdmin(clientKey: string, accountId: string): Promise<boolean>;
}

const permissionCheck = z.object({ globalPermissions: z.array(z.string()) }).passthrough();

export class HostUnavailable extends Error {
  constructor(readonly status: number | null) {
    super(status === null ? 'the host could not be reached' : `the host answered ${status}`);
    this.name = 'HostUnavailable';
  }
}

export function hostSiteAdmins(addon: AddOn, options: { ttlSeconds: number }): SiteAdmins {
  // Yes and no alike are kept briefly: a demoted admin keeps the page for at most this long (and their token is revocable).
  const answers = new NodeCache({ stdTTL: options.ttlSeconds, checkperiod: options.ttlSeconds, useClones: false });
  return {
    async isSiteAdmin(clientKey, accountId) {
      const key = `${clientKey}\u0000${accountId}`;
      const known = answers.get<boolean>(key);
      if (known !== undefined) return known;
      const body = await new Promise<unknown>((resolve, reject) => {
        void addon
          .httpClient({ clientKey })
          .post({ url: '/rest/api/3/permissions/check', json: { accountId, globalPermissions: ['ADMINISTER'] } }, (error: unknown, response: { statusCode: number }, payload: unknown) => {
            if (error) return reject(new HostUnavailable(null));
            if (response.statusCode === 404) return resolve({ globalPermissions: [] });
            if (response.statusCode !== 200) return reject(new HostUnavailable(response.statusCode));
            resolve(payload);
          })
          .catch(() => reject(new HostUnavailable(null)));
      });
      const parsed = permissionCheck.safeParse(body);
      if (!parsed.success) throw new HostUnavailable(200);
      const admin = parsed.data.globalPermissions.includes('ADMINISTER');
      answers.set(key, admin);
      return admin;
    },
  };
}
