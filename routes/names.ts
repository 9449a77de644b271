/**
 * Names for the rows a page lists: which way this call may ask the host (the Forge door's product API when Forge put
 * the app system token on the call, else the site's Connect credentials), then the resolver. Never fails a page.
 */
import type { Request, Response } from 'express';
import type { ForgeProductApi } from '../src/forge/host-names';
import type { HostNames, Labels, NameResolver, Wanted } from '../src/names/names';
import { forgeHolderOf } from './guard';

/** The app system token Forge puts on a call whose endpoint asks for one; used for this call's questions only. */
const SYSTEM_TOKEN_HEADER = 'x-forge-oauth-system';

/** How to ask the host through each door. */
export interface NameSources {
  connect(clientKey: string): HostNames;
  forge(api: ForgeProductApi): HostNames;
}

/** The names the rows of one answer need. */
export type PageNames = (req: Request, res: Response, clientKey: string, wanted: Wanted) => Promise<Labels>;

export function pageNames(resolver: NameResolver, sources: NameSources): PageNames {
  return (req, res, clientKey, wanted) => {
    const holder = forgeHolderOf(res);
    const systemToken = req.get(SYSTEM_TOKEN_HEADER);
    const host =
      holder !== null && systemToken !== undefined && systemToken !== ''
        ? sources.forge({ apiBaseUrl: holder.apiBaseUrl, systemToken })
        : sources.connect(clientKey);
    return resolver.resolve(clientKey, host, wanted);
  };
}

/** The issue id a resource names (`jira:issue:10001`), or null for any other resource. */
export function issueIdOf(resource: string | null): string | null {
  const match = resource === null ? null : /^jira:issue:([0-9]+)$/.exec(resource);
  return match === null ? null : match[1];
}

/** The project id a resource names (`jira:project:10000`), or null for any other resource. */
export function projectIdOf(resource: string | null): string | null {
  const match = resource === null ? null : /^jira:project:([0-9]+)$/.exec(resource);
  return match === null ? null : match[1];
}

/** The account id an audit actor names (`admin:<id>`, `user:<id>`), or null for `operator` and the system's own causes. */
export function actorAccountOf(actor: string | null): string | null {
  const match = actor === null ? null : /^(?:admin|user):(.+)$/.exec(actor);
  return match === null ? null : match[1];
}
