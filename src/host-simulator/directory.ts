/** The site's user directory: who exists, who is active, who is a site admin. */
import { HostSimulatorError } from './errors';

export interface SimulatedUser {
  accountId: string;
  /** How Jira names the user to people; one is made up from the account id when none is given. */
  displayName: string;
  /** The Atlassian account's email; one is made up from the account id when none is given. */
  email: string;
  /** Whether the user's profile shows the email to apps (Atlassian's profile visibility); shown unless said. */
  emailVisible: boolean;
  active: boolean;
  siteAdmin: boolean;
  /** The Atlassian account itself was closed (not only its access to this site): the personal data API says so. */
  closed: boolean;
  /** When the profile last changed (epoch ms), as the personal data API compares it with a reported time; null: never. */
  profileChangedAt: number | null;
}

export type NewUser = Pick<SimulatedUser, 'accountId'> & Partial<Omit<SimulatedUser, 'accountId'>>;

export class UserDirectory {
  private readonly users = new Map<string, SimulatedUser>();

  /** Adds a user, or replaces the one with the same accountId. */
  add(user: NewUser): SimulatedUser {
    const stored: SimulatedUser = {
      accountId: user.accountId,
      displayName: user.displayName ?? displayNameOf(user.accountId),
      email: user.email ?? emailOf(user.accountId),
      emailVisible: user.emailVisible ?? true,
      active: user.active ?? true,
      siteAdmin: user.siteAdmin ?? false,
      closed: user.closed ?? false,
      profileChangedAt: user.profileChangedAt ?? null,
    };
    this.users.set(stored.accountId, stored);
    return { ...stored };
  }

  /** Users whose display name (a word of it) or visible email starts with `query`, case aside, as Jira's user search matches. */
  search(query: string): SimulatedUser[] {
    const wanted = query.trim().toLowerCase();
    if (wanted === '') return [];
    return this.list().filter(
      (user) =>
        user.displayName.toLowerCase().split(/\s+/).some((word) => word.startsWith(wanted)) ||
        (user.emailVisible && user.email.toLowerCase().startsWith(wanted)),
    );
  }

  get(accountId: string): SimulatedUser | undefined {
    const user = this.users.get(accountId);
    return user === undefined ? undefined : { ...user };
  }

  list(): SimulatedUser[] {
    return [...this.users.values()].map((user) => ({ ...user }));
  }

  setActive(accountId: string, active: boolean): SimulatedUser {
    return this.update(accountId, { active });
  }

  setSiteAdmin(accountId: string, siteAdmin: boolean): SimulatedUser {
    return this.update(accountId, { siteAdmin });
  }

  /** Closes the account: it is inactive everywhere, for good. */
  close(accountId: string): SimulatedUser {
    return this.update(accountId, { active: false, closed: true });
  }

  rename(accountId: string, displayName: string, at: number): SimulatedUser {
    return this.update(accountId, { displayName, profileChangedAt: at });
  }

  private update(accountId: string, change: Partial<SimulatedUser>): SimulatedUser {
    const user = this.users.get(accountId);
    if (user === undefined) throw new HostSimulatorError('user_unknown', `no user ${accountId} in the directory`);
    Object.assign(user, change);
    return { ...user };
  }
}

/** A made-up display name for a user who was given none, from the account id's last part: `557058:bob-2` is "Bob 2". */
export function displayNameOf(accountId: string): string {
  const words = (accountId.split(':').pop() ?? '').split(/[^A-Za-z0-9]+/).filter((word) => word !== '');
  return words.length === 0 ? 'Unnamed user' : words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join(' ');
}

/** A made-up email for a user who was given none: unique per account id, in a domain that is never delivered to. */
export function emailOf(accountId: string): string {
  const local = accountId.toLowerCase().replace(/[^a-z0-9]+/g, '.').replace(/^\.+|\.+$/g, '');
  return `${local || 'user'}@users.example.com`;
}
