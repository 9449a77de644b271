/** Opens sites on demand for a sequence of properties, and closes them all at the end. */
import type { Sites } from './property';
import { FuzzSite, type SiteOptions } from './site';

export class SitePool implements Sites {
  private sharedSite: Promise<FuzzSite> | null = null;
  private readonly owned: Promise<FuzzSite>[] = [];

  shared(): Promise<FuzzSite> {
    this.sharedSite ??= FuzzSite.open();
    return this.sharedSite;
  }

  own(options: SiteOptions): Promise<FuzzSite> {
    const site = FuzzSite.open(options);
    this.owned.push(site);
    return site;
  }

  async close(): Promise<void> {
    for (const site of [this.sharedSite, ...this.owned]) await (await site?.catch(() => null))?.close();
  }
}
