/** The site's issues: the context Jira passes to issue modules, and the issues the host page can show. */

export interface IssueContext {
  issueId: string;
  issueKey: string;
  projectId: string;
  projectKey?: string;
}

/** `PG-12` belongs to project `PG`. */
export function projectKeyOf(ctx: IssueContext): string {
  return ctx.projectKey ?? ctx.issueKey.replace(/-\d+$/, '');
}

/** The context variables Jira substitutes into an issue module's URL. */
export function issueContextValues(ctx: IssueContext): Record<string, string> {
  return {
    'issue.id': ctx.issueId,
    'issue.key': ctx.issueKey,
    'project.id': ctx.projectId,
    'project.key': projectKeyOf(ctx),
  };
}

/** A project as the site's REST API shows it. */
export interface SimulatedProject {
  projectId: string;
  projectKey: string;
}

export class IssueRegistry {
  private readonly byKey = new Map<string, IssueContext>();

  put(ctx: IssueContext): void {
    this.byKey.set(ctx.issueKey, { ...ctx });
  }

  get(issueKey: string): IssueContext | undefined {
    const ctx = this.byKey.get(issueKey);
    return ctx === undefined ? undefined : { ...ctx };
  }

  /** The issue with this id, as Jira finds one by id (the registry is keyed by key). */
  byId(issueId: string): IssueContext | undefined {
    for (const ctx of this.byKey.values()) if (ctx.issueId === issueId) return { ...ctx };
    return undefined;
  }

  remove(issueKey: string): void {
    this.byKey.delete(issueKey);
  }

  removeProject(projectId: string): void {
    for (const [key, ctx] of this.byKey) if (ctx.projectId === projectId) this.byKey.delete(key);
  }

  /**
   * The site's projects: a project exists here while one of its issues does, as deleting a project removes its
   * issues (removeProject). In ascending id order.
   */
  projects(): SimulatedProject[] {
    const byId = new Map<string, SimulatedProject>();
    for (const ctx of this.byKey.values()) if (!byId.has(ctx.projectId)) byId.set(ctx.projectId, { projectId: ctx.projectId, projectKey: projectKeyOf(ctx) });
    return [...byId.values()].sort((a, b) => Number(a.projectId) - Number(b.projectId));
  }

  list(): IssueContext[] {
    return [...this.byKey.values()].map((ctx) => ({ ...ctx }));
  }
}
