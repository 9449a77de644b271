/** ACE's settings store (tenants' clientInfo and sharedSecret), kept in PanelGuard's own store. */

/** ACE's per-tenant key/value settings as PanelGuard's store keeps them (clientInfo holds the sharedSecret). */
export interface SettingsStore {
  getSetting(clientKey: string, key: string): Promise<unknown | null>;
  setSetting(clientKey: string, key: string, value: unknown): Promise<void>;
  deleteSetting(clientKey: string, key: string): Promise<void>;
  /** The value under `key` of every tenant that has one, in clientKey order. */
  listSettings(key: string): Promise<unknown[]>;
}

/** The subset of ACE's store adapter contract that ACE calls for Connect (not Forge) apps. */
export class AceSettingsAdapter {
  constructor(private readonly store: SettingsStore) {}

  get(key: string, clientKey: string): Promise<unknown | null> {
    return this.store.getSetting(clientKey, key);
  }

  async set(key: string, value: unknown, clientKey: string): Promise<unknown> {
    await this.store.setSetting(clientKey, key, value);
    return value;
  }

  async del(key: string, clientKey: string): Promise<void> {
    await this.store.deleteSetting(clientKey, key);
  }

  saveInstallation(value: unknown, clientKey: string): Promise<unknown> {
    return this.set('clientInfo', value, clientKey);
  }

  getAllClientInfos(): Promise<unknown[]> {
    return this.store.listSettings('clientInfo');
  }

  isMemoryStore(): boolean {
    return false;
  }

  /**
   * ACE's per-installation Forge settings: its authenticateForge() caches each call's app token here. PanelGuard's
   * own Forge door (routes/forge.ts) keeps no token; this is for vendors who mount ACE's middleware themselves.
   */
  forForgeInstallation(installationId: string): { get(key: string): Promise<unknown | null>; set(key: string, value: unknown): Promise<unknown>; del(key: string): Promise<void> } {
    const scope = `forge-installation:${installationId}`;
    return {
      get: (key) => this.get(key, scope),
      set: (key, value) => this.set(key, value, scope),
      del: (key) => this.del(key, scope),
    };
  }
}
