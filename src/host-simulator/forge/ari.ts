/** The Atlassian resource identifiers (ARIs) Forge names apps, installations and environments by. */

const ECOSYSTEM = 'ari:cloud:ecosystem::';

export function appAri(appUuid: string): string {
  return `${ECOSYSTEM}app/${appUuid}`;
}

export function installationAri(installationUuid: string): string {
  return `${ECOSYSTEM}installation/${installationUuid}`;
}

/** An environment belongs to its app: `ari:cloud:ecosystem::environment/<app uuid>/<environment uuid>`. */
export function environmentAri(appUuid: string, environmentUuid: string): string {
  return `${ECOSYSTEM}environment/${appUuid}/${environmentUuid}`;
}

/** The extension a UI module is, as Forge names it in `localId`. */
export function extensionAri(appUuid: string, environmentUuid: string, moduleKey: string): string {
  return `${ECOSYSTEM}extension/${appUuid}/${environmentUuid}/static/${moduleKey}`;
}

/** `ari:cloud:ecosystem::app/<uuid>` → `<uuid>`; undefined for anything else. */
export function appUuidOf(ari: string): string | undefined {
  const match = /^ari:cloud:ecosystem::app\/([0-9a-f-]{36})$/i.exec(ari);
  return match?.[1];
}
