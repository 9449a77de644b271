/** Every role PanelGuard's one database plays, gathered: what both stores implement and only the composition root holds whole. */
import type { StoreHealth } from '../../routes/health';
import type { AuditStore, EntryStore, ReplayLedger, SessionListing, TenantStore, TokenChains, TombstoneStore } from '../allowlist/types';
import type { SettingsStore } from '../connect/ace-store';
import type { InstallationLinks } from '../forge/installations';
import type { NoteStore } from '../notes/notes';
import type { DataHolders } from '../signals/personal-data';
import type { LiveUsers } from '../signals/reconcile';
import type { SsfStreamStore } from '../signals/ssf-receiver/streams';
import type { LeakLookup } from '../signals/leaks';
import type { SignalOutbox, SignalReceivers } from '../signals/ssf-transmitter/outbox';

/** What the composition root alone does with the store itself: close it once everything built on it has stopped. */
export interface StoreLifecycle {
  close(): Promise<void>;
}

/**
 * Each role is owned by the code that uses it (the core's in src/allowlist/types.ts, the others beside their users)
 * and handed to it alone. Only the composition root (src/app/app.ts, which exports this as its own) asks for them all
 * at once, with the operator CLI that opens a store the same way, and the store contract that tests every role.
 */
export type AppStore = EntryStore &
  TokenChains &
  SessionListing &
  TombstoneStore &
  TenantStore &
  AuditStore &
  ReplayLedger &
  InstallationLinks &
  SettingsStore &
  NoteStore &
  LiveUsers &
  DataHolders &
  SsfStreamStore &
  LeakLookup &
  SignalReceivers &
  SignalOutbox &
  StoreHealth &
  StoreLifecycle;
