/** Resource names: what a page token is bound to, and which request resources it covers. */

export interface ResourceRef {
  resource: string;
  parent: string | null;
}

/** Jira's ids are decimal numbers; anything else in a URL is refused before it reaches the core. */
export const JIRA_ID = /^[0-9]{1,18}$/;

export function issueResource(issueId: string, projectId: string | null): ResourceRef {
  return { resource: `jira:issue:${issueId}`, parent: projectId === null ? null : projectResource(projectId).resource };
}

export function projectResource(projectId: string): ResourceRef {
  return { resource: `jira:project:${projectId}`, parent: null };
}

/** The admin page and the API behind it. */
export const ADMIN_RESOURCE: ResourceRef = { resource: 'app:admin', parent: null };
/** A user's own page ("my sessions") and the API behind it. */
export const SELF_RESOURCE: ResourceRef = { resource: 'app:self', parent: null };

/** A token serves exactly the resource it was minted for; nothing is inherited. */
export function covers(entryResource: string, requested: string): boolean {
  return entryResource === requested;
}
