/**
 * Which revocations other services are told about, and whom each names: a user's sessions, one session, or a
 * whole site. The notice is written with the revocation itself (EntryStore.revokeEntries), so one that ended
 * something is never lost between the two.
 */
import { randomId } from '../tokens/random';
import type { RevokeCause } from './allowlist';
import type { RevocationNotice, RevokeScope } from './types';

/**
 * The notice for a revocation, or undefined when it is not told: a deleted issue or project ends the page tokens
 * opened on it, but says nothing about the people who held them, who stay signed in everywhere else; a receiver
 * told "this user's session ended" would act on the wrong thing. A single token is ended only inside the core
 * (a mint undone before its token was handed out).
 */
export function noticeOf(scope: RevokeScope, cause: RevokeCause): RevocationNotice | undefined {
  switch (scope.kind) {
    case 'user':
      return { id: randomId(), accountId: scope.accountId, session: null, actor: cause.actor };
    case 'session':
      return { id: randomId(), accountId: scope.accountId, session: scope.idHash, actor: cause.actor };
    case 'tenant':
      return { id: randomId(), accountId: null, session: null, actor: cause.actor };
    case 'resource':
    case 'token':
      return undefined;
  }
}
