/** The ordered list of schema migrations, written out by hand so the same list runs under tsx and from dist/. */
import type { QueryInterface } from 'sequelize';
import type { RunnableMigration } from 'umzug';
import * as initial from './0001-initial';
import * as auditConfirmation from './0002-audit-confirmation';
import * as policiesAndPaging from './0003-policies-and-paging';
import * as entriesFillfactor from './0004-entries-fillfactor';
import * as replayLedger from './0005-replay-ledger';
import * as forgeInstallations from './0006-forge-installations';
import * as theftDetection from './0007-theft-detection';
import * as leakedTokenLookup from './0008-leaked-token-lookup';
import * as ssfStreams from './0009-ssf-streams';
import * as ssfTransmitter from './0010-ssf-transmitter';
import * as reconciliation from './0011-reconciliation';

// Append only: a name, once shipped, is recorded in every database that ran it.
export const migrations: RunnableMigration<QueryInterface>[] = [
  { name: '0001-initial', up: initial.up, down: initial.down },
  { name: '0002-audit-confirmation', up: auditConfirmation.up, down: auditConfirmation.down },
  { name: '0003-policies-and-paging', up: policiesAndPaging.up, down: policiesAndPaging.down },
  { name: '0004-entries-fillfactor', up: entriesFillfactor.up, down: entriesFillfactor.down },
  { name: '0005-replay-ledger', up: replayLedger.up, down: replayLedger.down },
  { name: '0006-forge-installations', up: forgeInstallations.up, down: forgeInstallations.down },
  { name: '0007-theft-detection', up: theftDetection.up, down: theftDetection.down },
  { name: '0008-leaked-token-lookup', up: leakedTokenLookup.up, down: leakedTokenLookup.down },
  { name: '0009-ssf-streams', up: ssfStreams.up, down: ssfStreams.down },
  { name: '0010-ssf-transmitter', up: ssfTransmitter.up, down: ssfTransmitter.down },
  { name: '0011-reconciliation', up: reconciliation.up, down: reconciliation.down },
];

/**
 * Every table the migrations above create, in one list for whoever must empty PanelGuard's data (the cluster
 * demo's reset, the contract tests). A test checks it against the schema, so a new table cannot be left out.
 */
export const PANELGUARD_TABLES = [
  'allowlist_entries',
  'tombstones',
  'tenants',
  'policies',
  'settings',
  'notes',
  'audit_log',
  'replay_ledger',
  'forge_installations',
  'ssf_streams',
  'ssf_receivers',
  'ssf_outbox',
] as const;
