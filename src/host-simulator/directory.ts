/** The site's user directory: who exists, who is active, who is a site admin. */
import { HostSimulatorError } from './errors';

export interface SimulatedUser {
  accountId: string;
  displayName: string;
  active: boolean;
  siteAdmin: boolean;
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

  private update(accountId: string, change: Partial<SimulatedUser>): SimulatedUser {
    const user = this.users.get(accountId);
    if (user === undefined) throw new HostSimulatorError('user_unknown', `no user ${accountId} in the directory`);
    Object.assign(user, change);
    return { ...user };
  }
}
