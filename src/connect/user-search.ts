/**
 * Who a site's user is by email, as the host says: Jira's user search (`GET /rest/api/3/user/search?query=`),
 * asked as the app through ACE's HTTP client, with only an exact, visible email match taken as the answer.
 */
import { z } from 'zod';
import type { UserLookup } from '../signals/ssf-receiver/receiver';
import type { AddOn } from './addon';
import { HostUnavailable } from './site-admins';

/** Jira's answer: users, each with an email only when the user's privacy settings show it to the app. */
export const userSearchAnswer = z.array(
  z
    .object({
      accountId: z.string().min(1),
      accountType: z.string().optional(),
      emailAddress: z.string().optional(),
    })
    .passthrough(),
);

/** How many users one search may answer: the query matches prefixes of names and emails, so a few may come back. */
const MAX_RESULTS = 50;

/** The search's path, as Jira takes it (the query matches prefixes of display names and emails). */
export function userSearchPath(email: string): string {
  return `/rest/api/3/user/search?query=${encodeURIComponent(email)}&maxResults=${MAX_RESULTS}`;
}

/**
 * Reads the host's answer: the account id of the one Atlassian account whose visible email is exactly `email`
 * (case aside), null for none or for several. A user whose email is hidden is never matched: a prefix match on a
 * name is no proof. Anything but 200 with the documented shape rejects.
 */
export function accountIdOfEmail(status: number, body: unknown, email: string): string | null {
  if (status !== 200) throw new HostUnavailable(status);
  const parsed = userSearchAnswer.safeParse(body);
  if (!parsed.success) throw new HostUnavailable(200);
  const wanted = email.toLowerCase();
  const matches = parsed.data.filter(
    (user) => (user.accountType === undefined || user.accountType === 'atlassian') && user.emailAddress?.toLowerCase() === wanted,
  );
  return matches.length === 1 ? matches[0].accountId : null;
}

export function hostUserLookup(addon: AddOn): UserLookup {
  return {
    accountIdByEmail: (clientKey, email) =>
      new Promise<string | null>((resolve, reject) => {
        void addon
          .httpClient({ clientKey })
          .get({ url: userSearchPath(email), json: true }, (error: unknown, response: { statusCode: number }, payload: unknown) => {
            if (error) return reject(new HostUnavailable(null));
            try {
              resolve(accountIdOfEmail(response.statusCode, payload, email));
            } catch (failure) {
              reject(failure);
            }
          })
          .catch(() => reject(new HostUnavailable(null)));
      }),
  };
}
