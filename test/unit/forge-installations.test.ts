/** Which tenant a Forge installation is: its linked Connect tenant, else itself; asked of the store sparingly. */
import { expect } from 'chai';
import { ManualClock } from '../../src/base/clock';
import { createInstallations, UNLINKED_MEMORY_MS } from '../../src/forge/installations';
import { MemoryStore } from '../../src/store/memory-store';

const INSTALLATION = 'ari:cloud:ecosystem::installation/0a3a7799-53ae-4a5b-9e7e-03338980abb5';

class CountingLinks extends MemoryStore {
  asked = 0;
  override async linkedTenant(installationId: string): Promise<string | null> {
    this.asked += 1;
    return super.linkedTenant(installationId);
  }
}

describe('Forge installations', () => {
  let clock: ManualClock;
  let links: CountingLinks;

  beforeEach(() => {
    clock = new ManualClock(Date.UTC(2026, 11, 1, 12));
    links = new CountingLinks();
  });

  it('is its own tenant when no Connect install linked it, asking the store once per window', async () => {
    const installations = createInstallations(links, clock);
    expect(await installations.tenantOf(INSTALLATION)).to.equal(INSTALLATION);
    expect(await installations.tenantOf(INSTALLATION)).to.equal(INSTALLATION);
    expect(links.asked).to.equal(1);
    clock.advance(UNLINKED_MEMORY_MS);
    await installations.tenantOf(INSTALLATION);
    expect(links.asked).to.equal(2);
  });

  it('is the Connect tenant a Connect install linked it to, on the linking node at once and elsewhere within the window', async () => {
    const here = createInstallations(links, clock);
    const elsewhere = createInstallations(links, clock);
    expect(await elsewhere.tenantOf(INSTALLATION)).to.equal(INSTALLATION);
    await here.link(INSTALLATION, 'connect-client-key');
    expect(await here.tenantOf(INSTALLATION)).to.equal('connect-client-key');
    clock.advance(UNLINKED_MEMORY_MS);
    expect(await elsewhere.tenantOf(INSTALLATION)).to.equal('connect-client-key');
    const asked = links.asked;
    expect(await elsewhere.tenantOf(INSTALLATION)).to.equal('connect-client-key');
    expect(links.asked, 'a link, once found, is kept').to.equal(asked);
  });
});
