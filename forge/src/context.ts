/** What the Forge pages read from the view's context, which the bridge hands over loosely typed. */
import type { FullContext } from '@forge/bridge';

/** The issue a jira:issuePanel is on. */
export interface IssueRef {
  id: string;
  key: string;
}

function idOf(value: unknown): string | null {
  if (typeof value === 'string' && value !== '') return value;
  return typeof value === 'number' ? String(value) : null;
}

/** `context.extension.issue` of an issue panel; null when the context names no issue. */
export function issueOf(context: FullContext): IssueRef | null {
  const issue: unknown = context.extension?.issue;
  if (typeof issue !== 'object' || issue === null) return null;
  const id = 'id' in issue ? idOf(issue.id) : null;
  const key = 'key' in issue && typeof issue.key === 'string' ? issue.key : null;
  return id === null || key === null ? null : { id, key };
}
