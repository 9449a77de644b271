/** Page sessions in core-level tests: a page rendered for a user (a mint) and a call with its token, as outcome codes. */
import type { Allowlist } from '../../src/allowlist/allowlist';
import type { ManualClock } from '../../src/base/clock';
import type { ResourceRef } from '../../src/allowlist/resource';

export interface PageSessions {
  /** Mints a page token for `accountId` on `target`, as a page render would, and moves the clock on by 1 ms. */
  mint(accountId: string, clientKey?: string): Promise<string>;
  /** 'ok', or the code a call with `token` is refused with. */
  codeOf(token: string): Promise<string>;
}

export function pageSessions(allowlist: Allowlist, clock: ManualClock, target: ResourceRef, defaultSite: string): PageSessions {
  return {
    async mint(accountId, clientKey = defaultSite) {
      const minted = await allowlist.mint({ clientKey, accountId, target, connectIssuedAt: clock.now(), ip: '127.0.0.1', userAgent: 'test' });
      if (!minted.ok) throw new Error(`mint failed: ${minted.code}`);
      clock.advance(1);
      return minted.value.token;
    },
    async codeOf(token) {
      const result = await allowlist.check(token, target.resource);
      return result.ok ? 'ok' : result.code;
    },
  };
}
