/** ACE's settings store (tenants' clientInfo and sharedSecret), kept in PanelGuard's own store. */
import type { Store } from '../allowlist/types';

/** The subset of ACE's store adapter contract that ACE calls for Connect (not Forge) apps. */
export class AceSettingsAdapter {
  constructor(private readonly store: Store) {}

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
}
