import { expect } from 'chai';
import { storeAuditLog, type AuditLog } from '../../src/allowlist/audit';
import type { AuditRecord } from '../../src/allowlist/types';
import { MemoryStore } from '../../src/store/memory-store';

const SITE = 'site-a';

function aRecord(fields: Partial<AuditRecord> = {}): AuditRecord {
  return {
    at: 1_000,
    kind: 'deny',
    clientKey: SITE,
    accountId: 'alice',
    actor: null,
    reason: 'token_revoked',
    resource: 'jira:issue:10001',
    count: null,
    confirmation: null,
    ...fields,
  };
}

/** A store whose writes wait until the test lets them through, counting each write and its size. */
function heldStore() {
  const store = new MemoryStore();
  const writes: number[] = [];
  let release: () => void = () => undefined;
  let gate = Promise.resolve();
  const hold = () => {
    gate = new Promise<void>((resolve) => {
      release = resolve;
    });
  };
  const append = store.appendAudit.bind(store);
  store.appendAudit = async (records) => {
    writes.push(records.length);
    await gate;
    await append(records);
  };
  return { store, writes, hold, release: () => release() };
}

async function listed(store: MemoryStore): Promise<AuditRecord[]> {
  return (await store.listAudit({ clientKey: SITE, limit: 100 })).records;
}

describe('audit log', () => {
  let logs: AuditLog[] = [];
  const open = (store: MemoryStore, onError: (error: unknown) => void = () => undefined) => {
    const log = storeAuditLog(store, { onError, denialWindowMs: 60_000 });
    logs.push(log);
    return log;
  };
  afterEach(async () => {
    await Promise.all(logs.map((log) => log.drain()));
    logs = [];
  });

  it('folds repeated denials of one user, reason and resource into one record that counts them', async () => {
    const store = new MemoryStore();
    const log = open(store);
    for (let i = 0; i < 1000; i += 1) void log.record(aRecord({ at: 1_000 + i }));
    await log.drain();
    const records = await listed(store);
    expect(records).to.have.length(1);
    expect(records[0]).to.include({ kind: 'deny', reason: 'token_revoked', count: 1000, at: 1_000 });
  });

  it('keeps denials of other users, reasons or resources apart', async () => {
    const store = new MemoryStore();
    const log = open(store);
    void log.record(aRecord());
    void log.record(aRecord({ accountId: 'bob' }));
    void log.record(aRecord({ reason: 'token_idle' }));
    void log.record(aRecord({ resource: 'jira:issue:10002' }));
    void log.record(aRecord());
    await log.drain();
    const counts = (await listed(store)).map((r) => `${r.accountId} ${r.reason} ${r.resource} ${r.count}`);
    expect(counts).to.have.members([
      'alice token_revoked jira:issue:10001 2',
      'bob token_revoked jira:issue:10001 1',
      'alice token_idle jira:issue:10001 1',
      'alice token_revoked jira:issue:10002 1',
    ]);
  });

  it('writes a folded denial when its window ends, without a drain', async () => {
    const store = new MemoryStore();
    const log = storeAuditLog(store, { onError: () => undefined, denialWindowMs: 1 });
    await log.record(aRecord());
    expect(await listed(store)).to.have.length(1);
  });

  it('never folds mints or revocations: each is its own record, in order', async () => {
    const store = new MemoryStore();
    const log = open(store);
    await Promise.all([
      log.record(aRecord({ kind: 'mint', reason: null, count: 1 })),
      log.record(aRecord({ kind: 'mint', reason: null, count: 1 })),
      log.record(aRecord({ kind: 'revoke', reason: 'user_removed', count: 3 })),
    ]);
    expect((await listed(store)).map((r) => r.kind)).to.deep.equal(['revoke', 'mint', 'mint']);
  });

  it('writes the records that arrive during a write together, in one next write', async () => {
    const { store, writes, hold, release } = heldStore();
    const log = open(store);
    hold();
    const first = log.record(aRecord({ kind: 'mint' }));
    const later = Array.from({ length: 50 }, () => log.record(aRecord({ kind: 'mint' })));
    release();
    await Promise.all([first, ...later]);
    expect(writes).to.deep.equal([1, 50]);
    expect(await listed(store)).to.have.length(51);
  });

  it('resolves a record only once it is written', async () => {
    const { store, hold, release } = heldStore();
    const log = open(store);
    hold();
    let written = false;
    const recording = log.record(aRecord({ kind: 'revoke' })).then(() => {
      written = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).to.equal(false);
    release();
    await recording;
    expect(written).to.equal(true);
  });

  it('reports a failed write and still resolves, so no request waits forever on its trace', async () => {
    const store = new MemoryStore();
    const errors: unknown[] = [];
    const log = open(store, (error) => errors.push(error));
    await store.close();
    await log.record(aRecord({ kind: 'revoke' }));
    expect(errors).to.have.length(1);
  });
});
