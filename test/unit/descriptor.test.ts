/**
 * The descriptor passes atlassian-connect-validator, run the way ACE runs it: `addon.validateDescriptor()`.
 *
 * ACE downloads Atlassian's Jira global schema from developer.atlassian.com unless the environment
 * variable SCHEMA_HOST gives another URL pattern (`util.format(SCHEMA_HOST, 'jira')`). Tests run
 * offline, so these serve test/descriptor/jira-connect-descriptor.schema.json, a stand-in written
 * from Atlassian's public documentation, from a local HTTP server.
 *
 * To check against the official schema instead, download it once
 *   curl -o /tmp/jira-global-schema.json https://developer.atlassian.com/static/connect/docs/latest/schema/jira-global-schema.json
 * and run this file with CONNECT_SCHEMA_FILE=/tmp/jira-global-schema.json: the local server then
 * serves that file. (The negative tests marked "stand-in" always use the stand-in: they prove its rules.)
 *
 * ACE keeps the schema it fetched in a module-level variable for the life of the process, so the
 * first `validateDescriptor()` of a process decides the schema; nothing else in this project calls it.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import express, { type Router } from 'express';
import { lifecycleRoutes } from '../../routes/lifecycle';
import { panelRoutes } from '../../routes/panels';
import { webhookRoutes } from '../../routes/webhooks';
import type { PageMinter } from '../../routes/page-mint';
import type { Removals } from '../../src/allowlist/removals';
import type { Replays } from '../../src/allowlist/replays';
import type { TenantLifecycle } from '../../src/allowlist/tenants';
import type { Installations } from '../../src/forge/installations';
import { createAddon, type AddOn } from '../../src/connect/addon';
import { createLogger } from '../../src/observability/logger';
import { PROJECT_ROOT } from '../../src/app/paths';
import { MemoryStore } from '../../src/store/memory-store';
import type { Views } from '../../views/views';

const BASE_URL = 'https://panelguard.example.com';
const STAND_IN_SCHEMA = path.join(PROJECT_ROOT, 'test', 'descriptor', 'jira-connect-descriptor.schema.json');

type Json = Record<string, unknown>;

/** One finding of atlassian-connect-validator, as it reports them. */
interface Finding {
  module: string;
  description: string;
  validValues?: string[];
}

/** What ACE's validateDescriptor() resolves to (its type declaration says it returns the array itself). */
interface AceResult {
  type: 'error' | 'warning';
  message: string;
  validationResults: Finding[];
}

// atlassian-connect-validator (ACE's dependency, the validator ACE runs) ships no types.
const validator = require('atlassian-connect-validator') as {
  validateDescriptor(descriptor: unknown, schema: unknown, done: (errors: Finding[] | null, warnings: Finding[] | null) => void): void;
};

function validate(descriptor: unknown, schema: unknown): { errors: Finding[]; warnings: Finding[] } {
  let found: { errors: Finding[]; warnings: Finding[] } | null = null;
  validator.validateDescriptor(descriptor, schema, (errors, warnings) => {
    found = { errors: errors ?? [], warnings: warnings ?? [] };
  });
  if (found === null) throw new Error('atlassian-connect-validator did not answer');
  return found;
}

function readJson(file: string): Json {
  return JSON.parse(readFileSync(file, 'utf8')) as Json;
}

/** The project's atlassian-connect.json with {{localBaseUrl}} substituted, as ACE serves it. */
function projectDescriptor(baseUrl: string = BASE_URL): Json {
  const text = readFileSync(path.join(PROJECT_ROOT, 'atlassian-connect.json'), 'utf8');
  return JSON.parse(text.replace(/\{\{localBaseUrl\}\}/g, baseUrl)) as Json;
}

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function modulesOf(descriptor: Json): Record<string, Json[]> {
  return descriptor.modules as Record<string, Json[]>;
}

async function aceValidate(addon: AddOn): Promise<AceResult[]> {
  return (addon as unknown as { validateDescriptor(): Promise<AceResult[]> }).validateDescriptor();
}

/** "METHOD path" of every route a router declares (each handler of a route carries the route's method). */
function routesOf(router: Router): string[] {
  const routes = router.stack.flatMap((layer) =>
    layer.route === undefined ? [] : layer.route.stack.map((handler) => `${handler.method.toUpperCase()} ${layer.route!.path}`),
  );
  return [...new Set(routes)];
}

function pathOf(url: string): string {
  return new URL(url, BASE_URL).pathname;
}

describe('app descriptor', () => {
  const schemaFile = process.env.CONNECT_SCHEMA_FILE ?? STAND_IN_SCHEMA;
  const standIn = readJson(STAND_IN_SCHEMA);
  const schemaRequests: string[] = [];
  const savedEnv = { SCHEMA_HOST: process.env.SCHEMA_HOST, NO_PROXY: process.env.NO_PROXY };
  let server: Server;
  let addon: AddOn;

  before(async () => {
    const schemaBody = readFileSync(schemaFile);
    JSON.parse(schemaBody.toString('utf8')); // a broken file fails here, not as "could not download"
    server = createServer((req, res) => {
      schemaRequests.push(req.url ?? '');
      if (req.method === 'GET' && req.url === '/jira-global-schema.json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(schemaBody);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    process.env.SCHEMA_HOST = `http://127.0.0.1:${port}/%s-global-schema.json`;
    // ACE fetches with `request`, which honours HTTP(S)_PROXY: a developer's proxy must not see this.
    process.env.NO_PROXY = [process.env.NO_PROXY ?? process.env.no_proxy, '127.0.0.1'].filter(Boolean).join(',');

    addon = createAddon({
      aceApp: express(),
      baseUrl: BASE_URL,
      production: false,
      store: new MemoryStore(),
      logger: createLogger('silent'),
      projectRoot: PROJECT_ROOT,
    });
  });

  after(async () => {
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  describe('validated by ACE (atlassian-connect-validator)', () => {
    it('is valid: validateDescriptor() resolves to no errors and no warnings', async () => {
      const results = await aceValidate(addon);
      expect(results, JSON.stringify(results, null, 2)).to.deep.equal([]);
      // The schema came from the local server, not from developer.atlassian.com.
      expect(schemaRequests).to.deep.equal(['/jira-global-schema.json']);
    });

    it('is the project atlassian-connect.json with the base URL substituted, and that file is valid', async () => {
      const fromFile = projectDescriptor();
      expect(JSON.stringify(fromFile)).not.to.include('{{');
      expect(addon.descriptor).to.deep.equal(fromFile);

      const original = addon.descriptor;
      try {
        addon.descriptor = fromFile as unknown as AddOn['descriptor'];
        expect(await aceValidate(addon)).to.deep.equal([]);
      } finally {
        addon.descriptor = original;
      }
    });

    it('is valid with the base URL a development server uses', () => {
      const found = validate(projectDescriptor('http://localhost:3000'), readJson(schemaFile));
      expect(found).to.deep.equal({ errors: [], warnings: [] });
    });

    it('reports a broken descriptor (an unknown scope)', async () => {
      const original = addon.descriptor;
      try {
        const broken = copy(original) as unknown as Json;
        broken.scopes = ['READ', 'READ_EVERYTHING'];
        addon.descriptor = broken as unknown as AddOn['descriptor'];
        const results = await aceValidate(addon);
        const findings = results.flatMap((result) => result.validationResults);
        expect(findings.map((finding) => finding.description).join('\n')).to.include('READ_EVERYTHING');
      } finally {
        addon.descriptor = original;
      }
    });
  });

  describe('the stand-in schema has teeth', () => {
    const valid = (): Json => projectDescriptor();

    function errorsOf(descriptor: Json): Finding[] {
      const { errors } = validate(descriptor, standIn);
      expect(errors, 'expected validation errors').not.to.be.empty;
      return errors;
    }

    it('says where it comes from', () => {
      expect(standIn.$schema).to.equal('http://json-schema.org/draft-04/schema#');
      expect(standIn.description).to.be.a('string').and.include('https://developer.atlassian.com/cloud/jira/platform/');
    });

    it('rejects a scope the docs do not list', () => {
      const descriptor = valid();
      descriptor.scopes = ['READ', 'READ_EVERYTHING'];
      const [error] = errorsOf(descriptor);
      expect(error.module).to.equal('scopes[1]');
      expect(error.description).to.equal("'READ_EVERYTHING' is not a valid enum value");
      expect(error.validValues).to.include.members(['READ', 'WRITE', 'DELETE', 'PROJECT_ADMIN', 'ADMIN', 'ACT_AS_USER', 'ACCESS_EMAIL_ADDRESSES']);
    });

    it('accepts every documented scope, upper or lower case', () => {
      const descriptor = valid();
      descriptor.scopes = ['READ', 'WRITE', 'DELETE', 'PROJECT_ADMIN', 'ADMIN', 'ACT_AS_USER', 'ACCESS_EMAIL_ADDRESSES'];
      expect(validate(descriptor, standIn).errors).to.deep.equal([]);
      descriptor.scopes = ['read', 'write'];
      expect(validate(descriptor, standIn).errors).to.deep.equal([]);
    });

    it('rejects a misspelled top-level field as an error, not only a warning', () => {
      const descriptor = valid();
      descriptor.scope = descriptor.scopes;
      delete descriptor.scopes;
      const errors = errorsOf(descriptor);
      expect(errors.map((error) => [error.module, error.description])).to.deep.equal([
        ['Root', 'additionalProperty "scope" exists in instance when not allowed'],
      ]);
    });

    it('rejects a misspelled field inside lifecycle, apiMigrations and a module', () => {
      const descriptor = valid();
      (descriptor.lifecycle as Json).install = '/installed';
      (descriptor.apiMigrations as Json).signedInstall = true;
      modulesOf(descriptor).webPanels[0].conditon = { condition: 'user_is_logged_in' };
      const described = errorsOf(descriptor).map((error) => error.description);
      expect(described).to.include('additionalProperty "install" exists in instance when not allowed');
      expect(described).to.include('additionalProperty "signedInstall" exists in instance when not allowed');
      expect(described).to.include('additionalProperty "conditon" exists in instance when not allowed');
    });

    it('rejects a module type it does not describe (a misspelled module name)', () => {
      const descriptor = valid();
      modulesOf(descriptor).webPanel = modulesOf(descriptor).webPanels;
      delete modulesOf(descriptor).webPanels;
      const [error] = errorsOf(descriptor);
      expect(error.description).to.equal('additionalProperty "webPanel" exists in instance when not allowed');
    });

    it('rejects a webhook without a url', () => {
      const descriptor = valid();
      delete modulesOf(descriptor).webhooks[0].url;
      const [error] = errorsOf(descriptor);
      expect(error.module).to.equal('modules.webhooks[0]');
      expect(error.description).to.equal('requires property "url"');
    });

    it('rejects a webhook for an event the docs do not list', () => {
      const descriptor = valid();
      modulesOf(descriptor).webhooks[0].event = 'user_removed';
      const [error] = errorsOf(descriptor);
      expect(error.module).to.equal('modules.webhooks[0].event');
      expect(error.validValues).to.include.members(['user_created', 'user_updated', 'user_deleted', 'jira:issue_deleted', 'project_deleted']);
    });

    it('rejects a web panel without a location', () => {
      const descriptor = valid();
      delete modulesOf(descriptor).webPanels[0].location;
      const [error] = errorsOf(descriptor);
      expect(error.module).to.equal('modules.webPanels[0]');
      expect(error.description).to.equal('requires property "location"');
    });

    it('rejects a web panel whose name is a plain string', () => {
      const descriptor = valid();
      modulesOf(descriptor).webPanels[0].name = 'PanelGuard notes';
      expect(errorsOf(descriptor)[0].module).to.equal('modules.webPanels[0].name');
    });

    it('rejects keys the docs forbid', () => {
      const badAppKey = valid();
      badAppKey.key = 'panel guard';
      expect(errorsOf(badAppKey)[0].module).to.equal('key');

      const longAppKey = valid();
      longAppKey.key = 'p'.repeat(65);
      expect(errorsOf(longAppKey)[0].module).to.equal('key');

      const badModuleKey = valid();
      modulesOf(badModuleKey).webPanels[0].key = 'issue_notes';
      expect(errorsOf(badModuleKey)[0].module).to.equal('modules.webPanels[0].key');
    });

    it('rejects a descriptor without key, baseUrl or authentication', () => {
      for (const field of ['key', 'baseUrl', 'authentication']) {
        const descriptor = valid();
        delete descriptor[field];
        expect(errorsOf(descriptor).map((error) => error.description)).to.include(`requires property "${field}"`);
      }
    });

    it('rejects an authentication type other than jwt or none', () => {
      const descriptor = valid();
      descriptor.authentication = { type: 'oauth2' };
      expect(errorsOf(descriptor)[0].module).to.equal('authentication.type');
    });
  });

  describe('URLs the app routes', () => {
    const descriptor = projectDescriptor();

    it('declares the lifecycle callbacks at /installed, /uninstalled, /enabled and /disabled', () => {
      expect(descriptor.lifecycle).to.deep.equal({
        installed: '/installed',
        uninstalled: '/uninstalled',
        enabled: '/enabled',
        disabled: '/disabled',
      });
    });

    it('declares each webhook PanelGuard handles at its /webhooks/ URL', () => {
      expect(modulesOf(descriptor).webhooks).to.deep.equal([
        { event: 'user_deleted', url: '/webhooks/user-deleted' },
        { event: 'user_updated', url: '/webhooks/user-updated' },
        { event: 'user_created', url: '/webhooks/user-created' },
        { event: 'jira:issue_deleted', url: '/webhooks/issue-deleted' },
        { event: 'project_deleted', url: '/webhooks/project-deleted' },
      ]);
    });

    it('points every lifecycle and webhook URL at a POST route the app declares, and nothing more', () => {
      const log = createLogger('silent');
      const declared = [
        ...routesOf(lifecycleRoutes({ addon, tenants: {} as TenantLifecycle, replays: {} as Replays, installations: {} as Installations, log })),
        ...routesOf(webhookRoutes({ addon, removals: {} as Removals, replays: {} as Replays, log })),
      ];
      const described = [
        ...Object.values(descriptor.lifecycle as Record<string, string>),
        ...modulesOf(descriptor).webhooks.map((webhook) => webhook.url as string),
      ].map((url) => `POST ${pathOf(url)}`);
      expect(described).to.have.members(declared);
    });

    it('points the web panel at a GET route the app declares', () => {
      const declared = routesOf(panelRoutes(addon, (async () => null) as PageMinter, {} as Views));
      for (const panel of modulesOf(descriptor).webPanels) {
        expect(declared).to.include(`GET ${pathOf(panel.url as string)}`);
      }
    });
  });
});
