/**
 * forge/manifest.yml passes Forge's own manifest validation offline (see test/support/forge-lint.ts
 * for which validators run and what stays online), and declares exactly the modules, routes and
 * events of the remote contract in docs/FORGE.md, read from that file, so the two cannot drift.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { errors as forgeText } from '@forge/manifest';
import { expect } from 'chai';
import { z } from 'zod';
import { PROJECT_ROOT } from '../../src/app/paths';
import { forgeScratch, lintManifest, MANIFEST_FILE, type ForgeScratch, type ManifestLint } from '../support/forge-lint';

const BASE_URL = 'https://panelguard.example.com';
const PLACEHOLDER_APP_ID = 'ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000';
const REMOTE = 'panelguard';

// ---- The contract, as docs/FORGE.md states it ----

interface Contract {
  uiModules: Array<{ key: string; type: string }>;
  /** Event name to the route Forge POSTs it to. */
  eventRoutes: Map<string, string>;
  uninstallRoute: string;
}

function tableUnder(doc: string, heading: string): string[][] {
  const lines = doc.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`docs/FORGE.md has no "${heading}" section`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('#')) break;
    if (!line.startsWith('|')) continue;
    rows.push(line.split('|').slice(1, -1).map((cell) => cell.trim()));
  }
  return rows.slice(2); // header and separator
}

function quoted(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]);
}

/** Route cells read "`POST /forge/events/user-deleted`, `user-updated`, ...": later names share the first's directory. */
function routesIn(cell: string): string[] {
  const [first, ...siblings] = quoted(cell).map((route) => route.replace(/^POST /, ''));
  if (first === undefined || !first.startsWith('/forge/')) return [];
  return [first, ...siblings.map((name) => path.posix.join(path.posix.dirname(first), name))];
}

function readContract(): Contract {
  const doc = readFileSync(path.join(PROJECT_ROOT, 'docs', 'FORGE.md'), 'utf8');
  const uiModules = tableUnder(doc, '### UI modules and their resources').map(([key, type]) => ({
    key: quoted(key)[0],
    type: quoted(type)[0],
  }));
  const eventRoutes = new Map<string, string>();
  let uninstallRoute = '';
  for (const [routeCell, , what] of tableUnder(doc, '### Routes')) {
    const routes = routesIn(routeCell);
    const events = quoted(what).filter((name) => name.startsWith('avi:'));
    if (events.length > 0) {
      if (events.length !== routes.length) throw new Error(`docs/FORGE.md pairs ${routes.length} routes with ${events.length} events`);
      events.forEach((event, i) => eventRoutes.set(event, routes[i]));
    }
    if (quoted(what).includes('core:preUninstall')) uninstallRoute = routes[0];
  }
  return { uiModules, eventRoutes, uninstallRoute };
}

// ---- The manifest, as the validator parsed it, narrowed to what the contract speaks of ----

const UiModule = z.object({
  key: z.string(),
  resource: z.string(),
  resolver: z.object({ endpoint: z.string() }).optional(),
});
const Token = z.object({ enabled: z.boolean() }).optional();
const ForgeApp = z.object({
  app: z.object({ id: z.string() }),
  modules: z
    .object({
      endpoint: z.array(
        z.object({
          key: z.string(),
          remote: z.string(),
          route: z.object({ path: z.string() }).optional(),
          auth: z.object({ appSystemToken: Token, appUserToken: Token }).optional(),
        }),
      ),
      trigger: z.array(z.object({ key: z.string(), endpoint: z.string(), events: z.array(z.string()) })),
      preUninstall: z.array(z.object({ key: z.string(), endpoint: z.string() })),
    })
    .catchall(z.array(z.object({ key: z.string() }).passthrough())),
  resources: z.array(z.object({ key: z.string(), path: z.string() })),
  remotes: z.array(z.object({ key: z.string(), baseUrl: z.string() })),
  permissions: z.object({ scopes: z.array(z.string()) }),
});
type ForgeApp = z.infer<typeof ForgeApp>;
type Endpoint = ForgeApp['modules']['endpoint'][number];

function endpointNamed(app: ForgeApp, key: string): Endpoint {
  const found = app.modules.endpoint.find((endpoint) => endpoint.key === key);
  if (!found) throw new Error(`no endpoint '${key}'`);
  return found;
}

// The Forge CLI reads these from the process environment (the manifest's `environment.variables`).
function withEnvironment<T>(values: Record<string, string | undefined>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const set = (entries: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(entries)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  set(values);
  return run().finally(() => set(saved));
}

const DEPLOY_ENV = { APP_BASE_URL: BASE_URL, FORGE_APP_ID: undefined };

describe('forge/manifest.yml', () => {
  const committed = readFileSync(MANIFEST_FILE, 'utf8');
  let contract: Contract;
  let scratch: ForgeScratch;
  let lint: ManifestLint;

  /** The committed manifest as Forge read it, narrowed; only there once it passed the schema. */
  function app(): ForgeApp {
    if (!lint.manifest) throw new Error(`Forge could not read the manifest: ${lint.errors.map((error) => error.message).join('; ')}`);
    return ForgeApp.parse(lint.manifest);
  }

  /** Lints the committed manifest with `from` replaced by `to`, in the scratch copy of forge/. */
  function lintVariant(name: string, from: string, to: string): Promise<ManifestLint> {
    if (!committed.includes(from)) throw new Error(`the manifest no longer contains ${JSON.stringify(from)}`);
    return withEnvironment(DEPLOY_ENV, () => lintManifest(scratch.manifest(name, committed.replace(from, to))));
  }

  before(async () => {
    contract = readContract();
    // Reading the committed file in place yields its resource paths (an unbuilt UI is only an error here).
    const inPlace = await withEnvironment(DEPLOY_ENV, () => lintManifest(MANIFEST_FILE));
    scratch = forgeScratch((inPlace.manifest?.resources ?? []).map((resource) => resource.path));
    lint = await withEnvironment(DEPLOY_ENV, () => lintManifest(scratch.manifest('manifest', committed)));
  });

  after(() => scratch?.remove());

  describe('as the Forge CLI reads it', () => {
    it('passes @forge/manifest validation without an error or a warning', () => {
      expect(lint.errors).to.deep.equal([]);
      expect(lint.warnings).to.deep.equal([]);
    });

    it('takes the app id from FORGE_APP_ID, and falls back to a placeholder that names no app', async () => {
      expect(app().app.id).to.equal(PLACEHOLDER_APP_ID);
      const real = 'ari:cloud:ecosystem::app/406d303d-0393-4ec4-ad7c-1435be94583a';
      const configured = await withEnvironment({ ...DEPLOY_ENV, FORGE_APP_ID: real }, () => lintManifest(scratch.manifest('manifest', committed)));
      expect(ForgeApp.parse(configured.manifest).app.id).to.equal(real);
    });

    it('sends everything to the one remote, at APP_BASE_URL', () => {
      const { remotes, modules } = app();
      expect(remotes).to.deep.equal([{ ...remotes[0], key: REMOTE, baseUrl: BASE_URL }]);
      for (const endpoint of modules.endpoint) expect(endpoint.remote, endpoint.key).to.equal(REMOTE);
    });

    it('cannot be read without APP_BASE_URL, so nothing deploys towards a placeholder host', async () => {
      const unset = await withEnvironment({ ...DEPLOY_ENV, APP_BASE_URL: undefined }, () => lintManifest(scratch.manifest('manifest', committed)));
      expect(unset.errors.map((error) => error.message)).to.deep.equal([
        forgeText.invalidManifest(forgeText.schema.missingEnvironmentVariable('APP_BASE_URL')),
      ]);
    });
  });

  describe('broken copies, reported by the validator in its own words', () => {
    it('a misspelt property name', async () => {
      const result = await lintVariant('typo', '    baseUrl: ${APP_BASE_URL}', '    baseURL: ${APP_BASE_URL}');
      expect(result.errors.map((error) => error.message)).to.include(
        forgeText.schemaError(undefined, ['remotes'], forgeText.schema.additionalProperties('baseURL')),
      );
    });

    it('an unknown module type', async () => {
      const result = await lintVariant('unknown-module', '  jira:issuePanel:', '  jira:issuePanle:');
      expect(result.errors.map((error) => error.message)).to.include(forgeText.modules.invalidModule('jira:issuePanle'));
    });

    it('a missing required field', async () => {
      const result = await lintVariant('no-title', '      title: PanelGuard notes\n', '');
      expect(result.errors.map((error) => error.message)).to.include(
        forgeText.schemaError(undefined, ['jira:issuePanel'], forgeText.schema.oneOf(requiredPropertiesOf('jira:issuePanel'))),
      );
    });

    it('an event endpoint without a route', async () => {
      const result = await lintVariant('no-route', '      route:\n        path: /forge/events/user-deleted\n', '');
      expect(result.errors.map((error) => error.message)).to.include(
        forgeText.modules.trigger.endpointNeedsRoute('on-user-deleted', 'events-user-deleted'),
      );
    });
  });

  describe('against the remote contract in docs/FORGE.md', () => {
    it('declares each UI module under its key and type, resolving to the remote', () => {
      const manifest = app();
      expect(contract.uiModules).to.have.length.above(0);
      for (const { key, type } of contract.uiModules) {
        const matching = (manifest.modules[type] ?? []).filter((module) => module.key === key);
        expect(matching, `${type} ${key}`).to.have.length(1);
        const module = UiModule.parse(matching[0]);
        expect(module.resolver, `${key} resolver`).to.not.equal(undefined);
        expect(endpointNamed(manifest, module.resolver?.endpoint ?? '').remote).to.equal(REMOTE);
      }
    });

    it('has no UI module the contract does not name', () => {
      const contracted = new Set(contract.uiModules.map(({ key }) => key));
      const uiKeys = Object.entries(app().modules)
        .filter(([type]) => type.includes(':'))
        .flatMap(([, modules]) => modules.map(({ key }) => key));
      expect(uiKeys.filter((key) => !contracted.has(key))).to.deep.equal([]);
    });

    it('subscribes to exactly the contract events, each posted to its route', () => {
      const manifest = app();
      const posted = new Map<string, string | undefined>();
      for (const trigger of manifest.modules.trigger) {
        for (const event of trigger.events) posted.set(event, endpointNamed(manifest, trigger.endpoint).route?.path);
      }
      expect(Object.fromEntries(posted)).to.deep.equal(Object.fromEntries(contract.eventRoutes));
    });

    it('sends the uninstall hook to the uninstall route', () => {
      const manifest = app();
      expect(manifest.modules.preUninstall).to.have.length(1);
      expect(endpointNamed(manifest, manifest.modules.preUninstall[0].endpoint).route?.path).to.equal(contract.uninstallRoute);
    });
  });

  describe('permissions', () => {
    it('asks only for read:jira-user, read:jira-work and read:app-system-token', () => {
      expect([...app().permissions.scopes].sort()).to.deep.equal(['read:app-system-token', 'read:jira-user', 'read:jira-work']);
    });

    it('needs read:jira-user for the user events', async () => {
      const result = await lintVariant('no-jira-user', '    - read:jira-user\n', '');
      expect(result.errors.map((error) => error.message)).to.have.members(
        ['avi:jira:deleted:user', 'avi:jira:updated:user', 'avi:jira:created:user'].map((event) =>
          forgeText.permissions.missingPermissionFromScope('read:jira-user', event),
        ),
      );
    });

    it('needs read:jira-work for the issue and project events', async () => {
      const result = await lintVariant('no-jira-work', '    - read:jira-work\n', '');
      expect(result.errors.map((error) => error.message)).to.have.members(
        ['avi:jira:deleted:issue', 'avi:jira:deleted:project'].map((event) =>
          forgeText.permissions.missingPermissionFromScope('read:jira-work', event),
        ),
      );
    });

    // Every page's server calls ask Jira for names (display names, issue keys); the admin page's also for the site-admin check.
    it('carries the app system token on every UI endpoint and on no event endpoint, and no user token anywhere', () => {
      const manifest = app();
      const uiEndpoints = contract.uiModules.map(
        ({ type, key }) => z.array(UiModule).parse(manifest.modules[type] ?? []).find((module) => module.key === key)?.resolver?.endpoint,
      );
      expect(uiEndpoints).to.not.include(undefined);
      const withSystemToken = manifest.modules.endpoint.filter((endpoint) => endpoint.auth?.appSystemToken?.enabled).map(({ key }) => key);
      expect(withSystemToken.sort()).to.deep.equal([...new Set(uiEndpoints)].sort());
      expect(manifest.modules.endpoint.filter((endpoint) => endpoint.auth?.appUserToken?.enabled)).to.deep.equal([]);
    });
  });
});

/** The alternatives Forge's schema requires of a module type, as its validator words them. */
function requiredPropertiesOf(type: string): string[][] {
  const schema = z
    .object({ definitions: z.object({ ModuleSchema: z.object({ properties: z.record(z.unknown()) }) }) })
    .parse(JSON.parse(readFileSync(require.resolve('@forge/manifest/schema.json'), 'utf8')));
  const moduleType = z
    .object({ items: z.object({ oneOf: z.array(z.object({ required: z.array(z.string()) })) }) })
    .parse(schema.definitions.ModuleSchema.properties[type]);
  return moduleType.items.oneOf.map((branch) => branch.required);
}
