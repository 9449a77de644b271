/**
 * The events Forge sends a remote, shaped as the events reference documents them: Jira user, issue
 * and project events, `avi:forge:installed:app`, and the preUninstall call.
 */
import type { SimulatedUser } from '../directory';
import { projectKeyOf, type IssueContext } from '../issues';

/** A Jira issue as Forge describes it; the type and project type default to a software Task. */
export interface ForgeIssue extends IssueContext {
  issueType?: string;
  issueTypeId?: string;
  projectType?: string;
}

export const ISSUE_DEFAULTS = { issueType: 'Task', issueTypeId: '10001', projectType: 'software' } as const;

/** Every Jira event's root: its name, whether the app caused it, and when (epoch milliseconds, as a string). */
interface JiraEventBase {
  eventType: string;
  selfGenerated: boolean;
  timestamp: string;
}

export interface JiraUserEvent extends JiraEventBase {
  user: { accountId: string; accountType: string; displayName: string; active: boolean };
}

export interface JiraIssueEvent extends JiraEventBase {
  issue: {
    id: string;
    key: string;
    fields: {
      issuetype: { id: string; name: string };
      project: { id: string; key: string; name: string; projectTypeKey: string };
    };
  };
  atlassianId?: string;
}

export interface JiraProjectEvent extends JiraEventBase {
  project: { id: string; key: string; name: string; projectTypeKey: string };
  atlassianId?: string;
}

/** `avi:forge:installed:app`, as the life-cycle reference's example spells it (bare uuids). */
export interface InstalledEvent {
  id: string;
  installerAccountId?: string;
  app: { id: string; version: string; name?: string; ownerAccountId?: string };
  environment?: { id: string };
}

/** What a preUninstall module receives. */
export interface PreUninstallEvent {
  context: { cloudId: string; moduleKey: string };
  contextToken: string;
}

function base(eventType: string, now: number): JiraEventBase {
  return { eventType, selfGenerated: false, timestamp: String(now) };
}

export function userEvent(eventType: 'avi:jira:created:user' | 'avi:jira:updated:user' | 'avi:jira:deleted:user', user: SimulatedUser, now: number): JiraUserEvent {
  return {
    ...base(eventType, now),
    user: { accountId: user.accountId, accountType: 'atlassian', displayName: user.displayName, active: user.active },
  };
}

function projectOf(issue: ForgeIssue): JiraProjectEvent['project'] {
  const key = projectKeyOf(issue);
  return { id: issue.projectId, key, name: key, projectTypeKey: issue.projectType ?? ISSUE_DEFAULTS.projectType };
}

export function issueDeletedEvent(issue: ForgeIssue, now: number, actor?: string): JiraIssueEvent {
  return {
    ...base('avi:jira:deleted:issue', now),
    issue: {
      id: issue.issueId,
      key: issue.issueKey,
      fields: {
        issuetype: { id: issue.issueTypeId ?? ISSUE_DEFAULTS.issueTypeId, name: issue.issueType ?? ISSUE_DEFAULTS.issueType },
        project: projectOf(issue),
      },
    },
    ...(actor === undefined ? {} : { atlassianId: actor }),
  };
}

export function projectDeletedEvent(project: { id: string; key: string; projectType?: string }, now: number, actor?: string): JiraProjectEvent {
  return {
    ...base('avi:jira:deleted:project', now),
    project: { id: project.id, key: project.key, name: project.key, projectTypeKey: project.projectType ?? ISSUE_DEFAULTS.projectType },
    ...(actor === undefined ? {} : { atlassianId: actor }),
  };
}
