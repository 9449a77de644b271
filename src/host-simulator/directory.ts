/** The site's user directory: who exists, who is active, who is a site admin. */
import { HostSimulatorError } from './errors';

export interface SimulatedUser {
  accountId: string;
  displayName: string;
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
      displayName: user.displayName ?? user.accountId,
      active: user.active ?? true,
      siteAdmin: user.siteAdmin ?? false,
      closed: user.closed ?? false,
      profileChangedAt: user.profileChangedAt ?? null,
    };
    this.users.set(stored.accountId, stored);
    return { ...stored };
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
