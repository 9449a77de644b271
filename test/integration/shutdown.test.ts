/** A stopping node finishes what it is doing: a revocation in flight is answered, not cut, and the store closes after it. */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RemovalWritten, RevocationNotice, RevokeScope, Tombstone } from '../../src/allowlist/types';
import { startApp } from '../../src/app/app';
import { loadConfig } from '../../src/app/config';
import { startHostSimulator } from '../../src/host-simulator';
import { createLogger } from '../../src/observability/logger';
import { MemoryStore } from '../../src/store/memory-store';
import { ALICE } from './harness';

/** A store whose removals (tombstone and revocation, one write) wait until the test lets them go, so a request is surely in flight. */
class HeldStore extends MemoryStore {
  release!: () => void;
  // Declared before the promises that set them: a field declared later would be reset to undefined.
  private entered!: () => void;
  readonly revoking = new Promise<void>((resolve) => {
    this.entered = resolve;
  });
  private readonly held = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  override async putTombstoneAndRevoke(tombstone: Tombstone, scope: RevokeScope, reason: string, notice?: RevocationNotice): Promise<RemovalWritten> {
    this.entered();
    await this.held;
    return super.putTombstoneAndRevoke(tombstone, scope, reason, notice);
  }
}

describe('stopping a node', function () {
  this.timeout(30_000);

  it('answers a revocation in flight before it closes, instead of cutting it', async () => {
    const sim = await startHostSimulator({ users: [{ accountId: ALICE, displayName: 'Alice' }] });
    const dataDir = mkdtempSync(path.join(tmpdir(), 'panelguard-stop-'));
    const store = new HeldStore();
    const config = loadConfig({ NODE_ENV: 'test', PORT: '0', DATA_DIR: dataDir, CONNECT_KEYS_CDN_URL: sim.keysUrl, LOG_LEVEL: 'silent' });
    const app = await startApp(config, { store, logger: createLogger('silent') });
    try {
      expect((await sim.install(app.baseUrl)).status).to.equal(204);
      const webhook = sim.removeUser(ALICE);
      await store.revoking;
      const closing = app.close();
      store.release();
      const answer = await webhook;
      expect(answer?.status).to.equal(200);
      expect(await answer?.json()).to.include({ applied: true });
      await closing;
    } finally {
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
