import { expect } from 'chai';
import type { AllowlistEntry, StoredAuditRecord } from '../../src/allowlist/types';
import { auditTable, sessionsTable } from '../../src/cli/format';

const ENTRY: AllowlistEntry = {
  idHash: 'a'.repeat(64),
  clientKey: 'site',
  accountId: 'alice',
  resource: 'jira:issue:10001',
  parent: 'jira:project:10000',
  createdAt: Date.UTC(2026, 11, 1, 12),
  expiresAt: Date.UTC(2026, 11, 1, 13),
  lastSeenAt: Date.UTC(2026, 11, 1, 12, 5),
  ip: '203.0.113.10',
  userAgent: 'minted-here',
  revokedAt: null,
  revokeReason: null,
  chain: null,
  boundKey: null,
};

describe('the operator CLI tables', () => {
  it('lists a rotated session where its current token was first used', () => {
    const rotated = { ...ENTRY, chain: { seq: 2, tokenHash: 'b'.repeat(64), previousHash: 'c'.repeat(64), rotatedAt: ENTRY.lastSeenAt, ip: '192.0.2.7', userAgent: 'moved-here' } };
    const [, row] = sessionsTable([rotated]).split('\n');
    expect(row).to.include('192.0.2.7').and.include('moved-here').and.not.include('203.0.113.10');
  });

  it('prints both sides of a theft signal, and a dash for records without one', () => {
    const signal: StoredAuditRecord = {
      id: 2,
      at: ENTRY.lastSeenAt,
      kind: 'signal',
      clientKey: 'site',
      accountId: 'alice',
      actor: 'theft-detection',
      reason: 'theft_suspected',
      resource: ENTRY.resource,
      count: 1,
      confirmation: null,
      detail: {
        kind: 'fork',
        session: ENTRY.idHash,
        action: 'revoked',
        presented: { ip: '198.51.100.66', userAgent: 'x', network: '198.51.100.0/24', agent: 'Firefox on Windows', at: ENTRY.lastSeenAt },
        holder: { ip: '203.0.113.10', userAgent: 'y', network: '203.0.113.0/24', agent: 'Chrome on Linux', at: ENTRY.createdAt },
      },
    };
    const mint: StoredAuditRecord = { ...signal, id: 1, kind: 'mint', reason: null, detail: undefined };
    const [, signalRow, mintRow] = auditTable([signal, mint]).split('\n');
    expect(signalRow).to.match(/revoked: 198\.51\.100\.0\/24 Firefox on Windows, holder 203\.0\.113\.0\/24 Chrome on Linux$/);
    expect(mintRow).to.match(/ -$/);
  });
});
