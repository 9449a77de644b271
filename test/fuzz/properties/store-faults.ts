/** Requests while the store fails: the one server failure allowed is 503 store_unavailable, and nothing is left broken. */
import fc from 'fast-check';
import type { AppStore } from '../../../src/app/app';
import { MemoryStore } from '../../../src/store/memory-store';
import { ALICE } from '../../integration/harness';
import { checkAnswer, outcomeOf, violated } from '../oracle';
import { Tally, type FuzzProperty } from '../property';
import type { FuzzRequest } from '../http-client';
import { FuzzSite } from '../site';

const STORE_METHODS = [
  'insertEntry', 'loadEntryState', 'loadMintState', 'revokeEntries', 'getTombstone', 'putTombstone', 'putTombstoneAndRevoke', 'touchEntries', 'listEntries',
  'countLiveEntries', 'isKnownUser', 'getPolicy', 'putPolicy', 'getTenant', 'putTenant', 'getSetting', 'setSetting', 'listNotes',
  'addNote', 'appendAudit', 'listAudit',
] as const satisfies readonly (keyof AppStore)[];
type StoreMethod = (typeof STORE_METHODS)[number];

/** A MemoryStore whose chosen methods reject, as a store whose database went away does. */
class FailingStore extends MemoryStore {
  failing = new Set<StoreMethod>();
}

function failing(store: FailingStore): FailingStore {
  for (const method of STORE_METHODS) {
    const real = (store[method] as (...args: unknown[]) => Promise<unknown>).bind(store);
    Object.defineProperty(store, method, {
      value: (...args: unknown[]) => (store.failing.has(method) ? Promise.reject(new Error(`store down (${method})`)) : real(...args)),
    });
  }
  return store;
}

export const storeFaults: FuzzProperty = {
  name: 'store faults',
  claim:
    'while any part of the store fails, every API answer is a 2xx, a 4xx in the error format or 503 store_unavailable, never another server failure or a fault in the process; once it answers again, a live token is served again',
  async open(sites) {
    const store = failing(new FailingStore());
    // Every failed store call is logged at error level, with a stack: a long run would keep them all.
    const site: FuzzSite = await sites.own({ store, logLevel: 'fatal' });
    const home = site.stack.sim;
    const alice = site.liveToken(home.clientKey, ALICE, 'jira:issue:10001');
    const self = site.liveToken(home.clientKey, ALICE, 'app:self');
    const operator = site.operatorTokens.get('home') as string;
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const json = { 'content-type': 'application/json' };
    const requests: (() => FuzzRequest)[] = [
      () => ({ method: 'GET', path: '/api/issues/10001/notes', headers: bearer(alice) }),
      () => ({ method: 'POST', path: '/api/issues/10001/notes', headers: { ...bearer(alice), ...json }, body: '{"text":"while the store fails"}' }),
      () => ({ method: 'GET', path: '/api/me/sessions', headers: bearer(self) }),
      () => ({ method: 'GET', path: '/api/admin/sessions?limit=2', headers: bearer(operator) }),
      () => ({ method: 'GET', path: '/api/admin/audit?limit=2', headers: bearer(operator) }),
      () => ({ method: 'GET', path: '/api/admin/policy', headers: bearer(operator) }),
      () => ({ method: 'PUT', path: '/api/admin/policy', headers: { ...bearer(operator), ...json }, body: '{"idleTimeoutSeconds":300,"absoluteLifetimeSeconds":600}' }),
      () => ({ method: 'DELETE', path: '/api/admin/users/557058%3Anobody/sessions', headers: bearer(operator) }),
      () => ({ method: 'POST', path: '/webhooks/user-created', headers: { ...json, authorization: home.serverAuthorization('POST', '/webhooks/user-created') }, body: JSON.stringify({ timestamp: Date.now(), user: { accountId: '557058:nobody' } }) }),
      () => ({ method: 'POST', path: '/enabled', headers: { ...json, authorization: home.serverAuthorization('POST', '/enabled') }, body: JSON.stringify({ key: site.appKey, clientKey: home.clientKey, baseUrl: home.baseUrl }) }),
    ];
    const faults = fc.oneof(fc.subarray([...STORE_METHODS], { minLength: 1, maxLength: 4 }), fc.constant([...STORE_METHODS]));
    const tally = new Tally();
    const property = fc.asyncProperty(fc.nat({ max: requests.length - 1 }), faults, async (i, methods) => {
      site.faults.check();
      const request = requests[i]();
      store.failing = new Set(methods);
      let answer;
      try {
        answer = await site.http.send(request);
      } finally {
        store.failing = new Set();
      }
      tally.add(outcomeOf(answer));
      checkAnswer(answer, { storeMayFail: true });
      const after = await site.http.send(requests[0]());
      if (after.status !== 200) violated(`after ${request.method} ${request.path} with ${methods.join(', ')} failing, alice's token gets ${after.status} ${after.text}`);
      site.faults.check();
    });
    return { property, tally, finish: async () => site.faults.check() };
  },
};
