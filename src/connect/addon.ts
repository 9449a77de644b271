/** ACE, wired to PanelGuard's store and logger: descriptor, signed installs, Connect JWTs with qsh. */
import path from 'node:path';
import ace from 'atlassian-connect-express';
import type express from 'express';
import type { Logger } from '../observability/logger';
import { aceLogger } from './ace-logger';
import { AceSettingsAdapter, type SettingsStore } from './ace-store';

export type AddOn = ace.AddOn;

export interface AddonOptions {
  /** An express app ACE may register its routes on; it is never mounted. */
  aceApp: express.Application;
  baseUrl: string;
  production: boolean;
  store: SettingsStore;
  logger: Logger;
  projectRoot: string;
}

interface StoreRegistry {
  store: { register(name: string, factory: () => AceSettingsAdapter): void };
}

let adapters = 0;

export function createAddon(options: AddonOptions): AddOn {
  // ACE's store registry is global; a name per app keeps two apps in one process (tests) apart.
  const adapterName = `panelguard-${++adapters}`;
  const settings = new AceSettingsAdapter(options.store);
  (ace as unknown as StoreRegistry).store.register(adapterName, () => settings);

  const mode = options.production ? 'production' : 'development';
  options.aceApp.set('env', mode);
  const modeConfig = {
    localBaseUrl: options.baseUrl,
    store: { adapter: adapterName },
    // PanelGuard declares its own /installed route so it can record the tenant; see routes/lifecycle.ts.
    setupInstallRoute: false,
    watch: false,
    validateDescriptor: false,
    product: 'jira',
    // Failures go to PanelGuard's error handler, which answers in the API's JSON error format.
    expressErrorHandling: true,
  };
  const config = { development: modeConfig, production: modeConfig } as unknown as ace.Options['config'];
  const before = new Set(process.listeners('unhandledRejection'));
  const addon = ace(options.aceApp, { config }, aceLogger(options.logger) as unknown as Console, {
    descriptorFilename: path.join(options.projectRoot, 'atlassian-connect.json'),
    configFileName: path.join(options.projectRoot, 'config.json'),
  });
  // ACE adds a process-wide unhandledRejection logger per instance and never removes it; the
  // server installs one of its own (src/launch/server.ts), so ACE's would only pile up.
  for (const listener of process.listeners('unhandledRejection')) {
    if (!before.has(listener)) process.off('unhandledRejection', listener);
  }
  const verifyInstallation = addon.verifyInstallation.bind(addon);
  const authenticateInstall = addon.authenticateInstall.bind(addon);
  addon.verifyInstallation = () => unverifiedOnThrow(verifyInstallation());
  addon.authenticateInstall = () => unverifiedOnThrow(authenticateInstall());
  return addon;
}

/**
 * ACE's install verification reads the body before it checks anything, and throws on what it did not expect
 * there: a `jwt` member that is not a JWT (ACE prefers it to the Authorization header), a `baseUrl` that is
 * not a string. Anyone can send such a body; it means the install cannot be verified, so it is answered as
 * ACE answers any install it cannot verify (401), never as a server failure.
 */
function unverifiedOnThrow(middleware: express.RequestHandler): express.RequestHandler {
  return (req, res, next) => {
    let passedOn = false;
    try {
      middleware(req, res, (error?: unknown) => {
        passedOn = true;
        next(error);
      });
    } catch (error) {
      // Thrown by what ran after ACE, not by ACE: not ours to answer.
      if (passedOn) throw error;
      next({ code: 401, message: 'The install could not be verified.' });
    }
  };
}

/** What ACE's `authenticate()` and `authenticateInstall()` put on a request they verified. */
export interface ConnectContext {
  clientKey: string;
  userAccountId?: string;
  hostBaseUrl?: string;
}

/** Undefined until one of ACE's checks has passed. */
export function connectContext(req: express.Request): ConnectContext | undefined {
  return (req as express.Request & { context?: ConnectContext }).context;
}
