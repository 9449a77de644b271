/**
 * Each site's signal receivers as its admins manage them (every change audited), what the outbox holds for them,
 * and which endpoints a receiver may have at all.
 */
import ipaddr from 'ipaddr.js';
import type { AuditLog } from '../../allowlist/audit';
import type { Clock } from '../../allowlist/types';
import { settle, type Settled, type StoreFailureReport } from '../../base/result';
import { randomId } from '../../tokens/random';
import type { QueuedSet, Receiver, SetState, SignalOutbox, SignalReceivers } from './outbox';

/** A receiver as an admin gives it. */
export interface ReceiverSettings {
  endpointUrl: string;
  audience: string;
  authorization: string | null;
}

/** Each verb answers `store_unavailable` when the store fails, reported once through `onStoreFailure`. */
export interface ReceiverAdmin {
  list(clientKey: string): Promise<Settled<Receiver[]>>;
  /** Adds a receiver, or changes the site's receiver at the same endpoint. */
  put(clientKey: string, settings: ReceiverSettings, actor: string): Promise<Settled<{ receiver: Receiver; created: boolean }>>;
  /** Deletes the site's receiver and what is queued for it; false when the site has none by that id. */
  remove(clientKey: string, id: string, actor: string): Promise<Settled<boolean>>;
  /** The site's SETs, newest revocation first, and how many are pending and failed. */
  outbox(clientKey: string, query: { state?: SetState; limit: number }): Promise<Settled<{ counts: Record<SetState, number>; sets: QueuedSet[] }>>;
}

export interface ReceiverAdminDeps {
  store: SignalReceivers & Pick<SignalOutbox, 'listSets' | 'countSets'>;
  clock: Clock;
  audit: AuditLog;
  onStoreFailure: StoreFailureReport;
}

export function createReceiverAdmin({ store, clock, audit, onStoreFailure }: ReceiverAdminDeps): ReceiverAdmin {
  // Written before the answer, as policy changes are: an admin who reads the audit next finds the change there.
  const record = (clientKey: string, actor: string, reason: string, receiver: string) =>
    audit.record({
      at: clock.now(),
      kind: 'policy',
      clientKey,
      accountId: null,
      actor,
      reason,
      resource: `ssf:receiver:${receiver}`,
      count: null,
      confirmation: null,
    });

  return {
    list: (clientKey) => settle(onStoreFailure, 'list receivers', () => store.listReceivers(clientKey)),

    put: (clientKey, settings, actor) => settle(onStoreFailure, 'put receiver', async () => {
      const now = clock.now();
      const put = await store.putReceiver({ id: randomId(), clientKey, ...settings, createdAt: now, updatedAt: now });
      await record(clientKey, actor, put.created ? 'ssf_receiver_added' : 'ssf_receiver_changed', put.receiver.id);
      return put;
    }),

    remove: (clientKey, id, actor) => settle(onStoreFailure, 'remove receiver', async () => {
      const removed = await store.deleteReceiver(clientKey, id);
      if (removed) await record(clientKey, actor, 'ssf_receiver_removed', id);
      return removed;
    }),

    outbox: (clientKey, query) => settle(onStoreFailure, 'read outbox', async () => {
      const [counts, sets] = await Promise.all([store.countSets(clientKey), store.listSets({ clientKey, ...query })]);
      return { counts, sets };
    }),
  };
}

/**
 * Why an endpoint cannot be a receiver's, or null when it can. Any http(s) URL in development; in production
 * https only, and never an address inside the host's own networks named outright (loopback, private, link-local):
 * a site admin must not aim PanelGuard's requests at its own infrastructure. A name that resolves to such an
 * address is not caught here; the network's egress policy has to.
 */
export function endpointProblem(endpoint: URL, production: boolean): string | null {
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') return 'must be an http or https URL';
  if (production && endpoint.protocol !== 'https:') return 'must be an https URL';
  if (endpoint.username !== '' || endpoint.password !== '') return 'must not carry credentials; give them as authorization';
  if (endpoint.hash !== '') return 'must not have a fragment';
  if (production && isInternal(endpoint.hostname)) return 'must not be a local or private address';
  return null;
}

function isInternal(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (!ipaddr.isValid(host)) return false;
  return ipaddr.process(host).range() !== 'unicast';
}

/** An authorization value as an admin may see it again: its scheme, never the credential. */
export function maskAuthorization(value: string | null): string | null {
  if (value === null) return null;
  const scheme = /^([A-Za-z][A-Za-z0-9._~+-]{0,31}) /.exec(value)?.[1];
  return scheme === undefined ? '…' : `${scheme} …`;
}
