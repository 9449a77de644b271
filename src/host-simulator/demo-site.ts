/** The demo site's people and issues, shared by `npm run demo` and `npm run cluster`, and how the guides list them. */
import type { NewUser } from './directory';
import type { IssueContext } from './issues';
import type { HostSimulator } from './simulator';
import type { ForgeSimulator } from './forge';

export const DEMO_USERS: NewUser[] = [
  { accountId: '557058:alice', displayName: 'Alice', siteAdmin: true },
  { accountId: '557058:bob', displayName: 'Bob' },
  { accountId: '557058:carol', displayName: 'Carol' },
];

export const DEMO_ISSUES: IssueContext[] = [
  { issueId: '10001', issueKey: 'DEMO-1', projectId: '10000', projectKey: 'DEMO' },
  { issueId: '10002', issueKey: 'DEMO-2', projectId: '10000', projectKey: 'DEMO' },
];

function userLinks(pageOf: (accountId: string) => string): string[] {
  const label = (user: NewUser) => `${user.displayName ?? user.accountId}${user.siteAdmin ? ' (site admin)' : ''}`;
  const width = Math.max(...DEMO_USERS.map((user) => label(user).length));
  return DEMO_USERS.map((user) => `    ${label(user).padEnd(width)}  ${pageOf(user.accountId)}`);
}

/** One line per demo user: their name and the host page that shows them `issue`. */
export function hostPageLinks(sim: HostSimulator, issue: IssueContext): string[] {
  return userLinks((accountId) => sim.hostPageUrl(accountId, issue));
}

/** The same for the Forge issue panel: the issue view that embeds it for each user. */
export function forgeIssueLinks(forge: ForgeSimulator, issue: IssueContext): string[] {
  return userLinks((accountId) => forge.hostPageUrl(accountId, 'panelguard-issue-panel', issue));
}

/** Where the demo's admin (Alice) manages sessions, and where Bob sees his own. */
export function sessionPageLinks(sim: HostSimulator): string[] {
  const [alice, bob] = [DEMO_USERS[0]!, DEMO_USERS[1]!];
  return [
    `    Admin page (${alice.displayName})     ${sim.appPageUrl(alice.accountId, 'admin')}`,
    `    My sessions (${bob.displayName})      ${sim.appPageUrl(bob.accountId, 'my-sessions')}`,
  ];
}

/** The Forge admin page (Alice) and global page (Bob). */
export function forgeSessionPageLinks(forge: ForgeSimulator): string[] {
  const [alice, bob] = [DEMO_USERS[0]!, DEMO_USERS[1]!];
  return [
    `    Admin page (${alice.displayName})     ${forge.hostPageUrl(alice.accountId, 'panelguard-admin-page')}`,
    `    My sessions (${bob.displayName})      ${forge.hostPageUrl(bob.accountId, 'panelguard-my-sessions')}`,
  ];
}
