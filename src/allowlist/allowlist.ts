/** The allowlist: mint a page token, check one against its session's live entry, rotate it, revoke entries. */
import type { PageTokenClaims, PageTokenCodec, HolderProof, Verdict } from '../tokens/page-token';
import { hashTokenId } from '../tokens/hash';
import type { AuditLog } from './audit';
import type { CacheLookup, EntryStates, KnownState, Lookup } from './entry-states';
import type { LastSeenTracker } from './last-seen';
import { absoluteDeadline, idleDeadline } from './policy-rules';
import { covers, type ResourceRef } from './resource';
import { fail, ok, settle, type DenyCode, type Result, type Settled, type StoreFailureReport } from '../base/result';
import { isDue, Offers, standingOf, type ChainLink, type ChainStanding, type RotationPolicy } from './rotation';
import { createTheft, THEFT_CAUSE, type Origin, type TheftObserver } from './theft';
import type { NetworkPrefixes } from './network';
import { noticeOf } from './notices';
import type { AllowlistEntry, Clock, Confirmation, EntryState, EntryStore, EpochMs, MintState, Policy, RevokeScope, TokenChains } from './types';

export type { CacheLookup } from './entry-states';

/** What the allowlist reports as it works, for metrics; the core knows nothing of how they are kept. */
export interface AllowlistObserver extends TheftObserver {
  cacheLookup(outcome: CacheLookup): void;
  /** Every check's outcome ('ok' or its deny code) and how long it took. */
  checked(outcome: 'ok' | DenyCode, seconds: number): void;
  minted(): void;
  /** A successor became its session's current token. */
  rotated(): void;
  revoked(cause: RevokeCause, revocation: Revocation): void;
}

export const NO_OBSERVER: AllowlistObserver = { cacheLookup() {}, checked() {}, minted() {}, rotated() {}, revoked() {}, signalled() {} };

/** Verifies a call's proof of possession (a DPoP proof JWT) and names the key that signed it. */
export interface KeyProofs {
  verify(proof: string | null, request: { method: string; url: string; accessToken: string }): Promise<Result<{ thumbprint: string }, string>>;
}

/** What a check may need to know of the call beyond its token; each is asked only when needed. */
export interface Call {
  /** Where the call came from: asked when the session rotates or forks. */
  origin(): Origin;
  /** The call's DPoP proof, and the method and URL (no query) it must sign: asked when the site binds tokens to keys. */
  proof(): { proof: string | null; method: string; url: string };
  /**
   * The call only watches its session (a page's long poll, re-sent every few seconds while the page is open): judged
   * like any call, but it is not a use, so the session still goes idle, and it is offered no successor.
   */
  readonly watching?: boolean;
}

/** A call known only by its token (scripts, tests): from nowhere in particular, with no proof. */
export const BARE_CALL: Call = {
  origin: () => ({ ip: null, userAgent: null }),
  proof: () => ({ proof: null, method: '', url: '' }),
};

export interface AllowlistDeps {
  store: EntryStore & TokenChains;
  states: EntryStates;
  clock: Clock;
  tokens: PageTokenCodec;
  audit: AuditLog;
  /** The policy of a tenant whose admins never set one. */
  defaultPolicy: Policy;
  lastSeen: LastSeenTracker;
  rotation: RotationPolicy;
  prefixes: NetworkPrefixes;
  /** Needed only by sites that bind tokens to keys; without it their calls are refused. */
  proofs?: KeyProofs;
  observer?: AllowlistObserver;
  /** Hears each store rejection `revoke` answered as `store_unavailable`; unheard unless said. */
  onStoreFailure?: StoreFailureReport;
}

export interface MintRequest {
  clientKey: string;
  accountId: string;
  target: ResourceRef;
  /** `iat` of the host's Connect JWT that rendered the page, in ms: a JWT from before a removal cannot mint. */
  connectIssuedAt: EpochMs;
  ip: string | null;
  userAgent: string | null;
  /** What the token's holder must also show, as the front door that mints it asks (carried in the token, never judged here). */
  proof?: HolderProof;
}

export interface MintedToken {
  token: string;
  entry: AllowlistEntry;
}

export interface Grant {
  claims: PageTokenClaims;
  /** The session's entry, as it stands after this call (a rotation it made included). */
  entry: AllowlistEntry;
  /** The session's next token, to hand to the page (`Page-Token-Next`); null when none is offered with this answer. */
  next: string | null;
}

/** A check's answer: at once on the hot path, through a promise when the store or a proof must be waited for. */
export type Checked = Result<Grant> | Promise<Result<Grant>>;

export interface RevokeCause {
  /** Who asked: `webhook:user_deleted`, `lifecycle:uninstalled`, `operator`... */
  actor: string;
  /** Why, as a stable code stored on each entry: `user_removed`, `issue_deleted`... */
  reason: string;
}

export interface Revocation {
  /** Entries the revocation ended. */
  count: number;
  /** Nodes that had dropped their cached state when the call returned, out of the live nodes. */
  confirmation: Confirmation;
}

export interface Allowlist {
  mint(request: MintRequest): Promise<Result<MintedToken>>;
  /**
   * Serves `call` with `token` on `resource`, or says why not; `call` defaults to a bare one. Answers at once,
   * without a promise, when it needs nothing it must wait for (a cache hit for the session's current token).
   */
  check(token: string | null, resource: string, call?: Call): Checked;
  /**
   * Durable first, then every node forgets; resolves when the live nodes confirmed or the bound passed, or
   * `store_unavailable` when the store could not be written (then no node was told: nothing was revoked).
   */
  revoke(scope: RevokeScope, cause: RevokeCause): Promise<Settled<Revocation>>;
  /**
   * The second half of revoke, for entries the store already ended (a removal's, with its tombstone): every node
   * forgets, then the audit; `store_unavailable` when the audit could not be written.
   */
  announce(scope: RevokeScope, cause: RevokeCause, ended: EndedEntries): Promise<Settled<Revocation>>;
}

/** Entries a revocation made durable: when, and how many. */
export interface EndedEntries {
  at: EpochMs;
  count: number;
}

export function createAllowlist(deps: AllowlistDeps): Allowlist {
  const { store, states, clock, tokens, audit, lastSeen, rotation } = deps;
  const observe = deps.observer ?? NO_OBSERVER;
  const offers = new Offers(Math.max(rotation.graceMs, 1_000));

  // Only denials of a token that verified are audited: unsigned garbage names nobody, and writing a row
  // for each would let anyone fill the audit log.
  const deny = (code: DenyCode, claims: PageTokenClaims | null, resource: string): Result<Grant> => {
    if (claims === null) return fail(code);
    audit.record({ at: clock.now(), kind: 'deny', clientKey: claims.aud, accountId: claims.sub, actor: null, reason: code, resource, count: null, confirmation: null });
    return fail(code);
  };

  const onStoreFailure = deps.onStoreFailure ?? (() => undefined);
  function revoke(scope: RevokeScope, cause: RevokeCause): Promise<Settled<Revocation>> {
    // Reported under the cause's reason (a stable code, never an id), so the log says which revocation failed.
    return settle(onStoreFailure, `revoke: ${cause.reason}`, async () => {
      const at = clock.now();
      return announce(scope, cause, at, await end(scope, cause, at));
    });
  }

  /**
   * Durable first: ends the entries in scope in the store; resolves how many this call ended (none left: another did).
   * The notice for the site's signal receivers is written in the same transaction, so it is never lost on its own.
   */
  function end(scope: RevokeScope, cause: RevokeCause, at: EpochMs): Promise<number> {
    return store.revokeEntries(scope, at, cause.reason, noticeOf(scope, cause));
  }

  /** Then every node forgets, and the audit and metrics hear of it. */
  async function announce(scope: RevokeScope, cause: RevokeCause, at: EpochMs, count: number): Promise<Revocation> {
    const confirmation = await states.announce(scope);
    // The trace is written before the answer: an admin who reads the audit next finds this revocation there.
    await audit.record({
      at,
      kind: 'revoke',
      clientKey: scope.kind === 'token' ? null : scope.clientKey,
      accountId: scope.kind === 'user' || scope.kind === 'session' ? scope.accountId : null,
      actor: cause.actor,
      reason: cause.reason,
      resource: scope.kind === 'resource' ? scope.resource : null,
      count,
      confirmation,
    });
    const revocation = { count, confirmation };
    observe.revoked(cause, revocation);
    return revocation;
  }

  const theft = createTheft({ audit, prefixes: deps.prefixes, end, announce, observer: observe });

  // The codec answers a token it remembers with the same claims object, so its place in the chain is worked out once.
  const links = new WeakMap<PageTokenClaims, ChainLink>();
  const linkOf = (claims: PageTokenClaims): ChainLink => {
    let link = links.get(claims);
    if (link === undefined) {
      const tokenHash = hashTokenId(claims.jti);
      link = { session: claims.sid ?? tokenHash, tokenHash, seq: claims.seq ?? 0 };
      links.set(claims, link);
    }
    return link;
  };

  /** The newest use known: the store's (as read) or this node's own, not yet written. */
  const lastUse = (entry: AllowlistEntry): EpochMs => Math.max(entry.lastSeenAt, lastSeen.newest(entry.idHash) ?? 0);

  type Standing = Result<{ state: EntryState; standing: ChainStanding } | null>;

  /**
   * Where the token stands, from a state another node cannot have moved on from unseen: answered at once from a
   * cached state for the session's current token while it is not idle (the hot path), else read from the store.
   */
  function confirmStanding(link: ChainLink, known: KnownState, now: EpochMs): Standing | Promise<Standing> {
    const standing = standingOf(known.state.entry, link, now, rotation);
    // For anything but a current token that is not idle, another node may have rotated the session or seen a use since.
    const idle = now >= idleDeadline(lastUse(known.state.entry), known.state.policy ?? deps.defaultPolicy);
    if (!known.cached || (standing === 'current' && !idle)) return ok({ state: known.state, standing });
    return states.read(link.session).then((fresh): Standing => {
      if (!fresh.ok || fresh.value === null) return fresh.ok ? ok(null) : fresh;
      return ok({ state: fresh.value.state, standing: standingOf(fresh.value.state.entry, link, now, rotation) });
    });
  }

  /** Every check's outcome and duration, for metrics. */
  const counted = (result: Result<Grant>, started: number): Result<Grant> => {
    observe.checked(result.ok ? 'ok' : result.code, (performance.now() - started) / 1000);
    return result;
  };

  // The check path: verify the token (grantFor), find its session's state (find), place the token in the session's
  // chain (place), refuse or serve it (serve, actOnStanding). Each step answers at once when it can: a cache hit for a
  // current token awaits nothing, so it allocates no promise and takes no trip through the microtask queue.
  function grantFor(token: string | null, resource: string, call: Call): Checked {
    if (token === null || token.length === 0) return deny('token_missing', null, resource);
    const verified = tokens.verify(token);
    // The token names a site this node holds no key for yet: the codec asked the store whether it exists.
    if (verified instanceof Promise) {
      return verified.then(
        (known) => find(known, token, resource, call),
        () => deny('store_unavailable', null, resource),
      );
    }
    return find(verified, token, resource, call);
  }

  /** The session's state, once the token verified. */
  function find(verified: Verdict, token: string, resource: string, call: Call): Checked {
    if (!verified.ok) return deny(verified.code, null, resource);
    const claims = verified.value;
    const link = linkOf(claims);
    const found = states.get(link.session);
    if (found instanceof Promise) return found.then((lookup) => place(lookup, claims, link, token, resource, call));
    return place(found, claims, link, token, resource, call);
  }

  /** Where the token stands in its session, once its state is known. */
  function place(lookup: Lookup, claims: PageTokenClaims, link: ChainLink, token: string, resource: string, call: Call): Checked {
    if (!lookup.ok) return deny(lookup.code, claims, resource);
    // A validly signed token without an entry was never minted here, or its entry is gone: revoked.
    if (lookup.value === null) return deny('token_revoked', claims, resource);
    const now = clock.now();
    const standing = confirmStanding(link, lookup.value, now);
    if (standing instanceof Promise) return standing.then((stood) => serve(stood, claims, link, token, resource, call, now));
    return serve(standing, claims, link, token, resource, call, now);
  }

  /** Judges the entry as it stands, asks for the key proof where the site binds keys, and acts on the standing. */
  function serve(stood: Standing, claims: PageTokenClaims, link: ChainLink, token: string, resource: string, call: Call, now: EpochMs): Checked {
    if (!stood.ok) return deny(stood.code, claims, resource);
    if (stood.value === null) return deny('token_revoked', claims, resource);
    const { state, standing } = stood.value;
    const policy = state.policy ?? deps.defaultPolicy;
    const code = refusalOf(state, claims, resource, now, lastUse(state.entry), policy);
    if (code !== null) return deny(code, claims, resource);
    if (!policy.keyBinding) return actOnStanding(standing, state.entry, link, claims, policy, call, now, resource);
    return proveKey(state.entry, token, call).then((bound) =>
      bound === null ? actOnStanding(standing, state.entry, link, claims, policy, call, now, resource) : deny(bound, claims, resource),
    );
  }

  /** Key-bound sessions: the call's proof must verify, and its key be the one the session is bound to (the first one seen). */
  async function proveKey(entry: AllowlistEntry, token: string, call: Call): Promise<DenyCode | null> {
    if (deps.proofs === undefined) return 'token_invalid';
    const { proof, method, url } = call.proof();
    const proven = await deps.proofs.verify(proof, { method, url, accessToken: token });
    if (!proven.ok) return 'token_invalid';
    const { thumbprint } = proven.value;
    if (entry.boundKey !== null) return entry.boundKey === thumbprint ? null : 'token_invalid';
    let bound: boolean;
    try {
      bound = await store.bindKey(entry.idHash, thumbprint);
    } catch {
      return 'store_unavailable';
    }
    // Whatever the cache holds for the session predates the binding.
    states.forget({ kind: 'token', idHash: entry.idHash });
    return bound ? null : 'token_invalid';
  }

  /** Acts on where the token stands in its chain: serve it (at once), make it current, or treat it as a fork. */
  function actOnStanding(
    standing: ChainStanding,
    entry: AllowlistEntry,
    link: ChainLink,
    claims: PageTokenClaims,
    policy: Policy,
    call: Call,
    now: EpochMs,
    resource: string,
  ): Checked {
    switch (standing) {
      case 'current':
        if (call.watching === true) return ok({ claims, entry, next: null });
        lastSeen.note(entry.idHash, now);
        return ok({ claims, entry, next: isDue(entry, now, rotation) && offers.take(offerKey(link, call.origin()), now) ? signSuccessor(entry, claims) : null });
      case 'previous':
        if (call.watching !== true) lastSeen.note(entry.idHash, now);
        return ok({ claims, entry, next: null });
      case 'successor':
        return advance(entry, link, claims, policy, call, now, resource);
      case 'stale':
        return fork(entry, link, claims, policy, call, now, resource);
    }
  }

  /** A token the session moved past: theft detection ends the session or reports it, as the policy says. */
  async function fork(entry: AllowlistEntry, link: ChainLink, claims: PageTokenClaims, policy: Policy, call: Call, now: EpochMs, resource: string): Promise<Result<Grant>> {
    const ended = await verdictOf(() => theft.forked(entry, link.tokenHash, policy, call.origin(), now));
    if (ended === null) return deny('store_unavailable', claims, resource);
    if (ended) return deny('token_forked', claims, resource);
    if (call.watching !== true) lastSeen.note(entry.idHash, now);
    return ok({ claims, entry, next: null });
  }

  /** Theft detection's verdict (whether it ended the session), or null when the store failed it: the call is refused, never served. */
  async function verdictOf(detect: () => Promise<boolean>): Promise<boolean | null> {
    try {
      return await detect();
    } catch {
      return null;
    }
  }

  /**
   * Offers are remembered per token and per place: one page's calls in flight together share one successor, while a
   * copy replayed from elsewhere, however often, never uses up the offers meant for the page it was copied from
   * (which would keep the session from rotating, and so the copy from being caught).
   */
  const offerKey = (link: ChainLink, origin: Origin): string => `${link.tokenHash}\u0000${origin.ip ?? ''}\u0000${origin.userAgent ?? ''}`;

  function signSuccessor(entry: AllowlistEntry, claims: PageTokenClaims): string {
    return tokens.succeed({ of: claims, session: entry.idHash, seq: (entry.chain?.seq ?? 0) + 1, expiresAt: entry.expiresAt }).token;
  }

  /** A successor's first use: make it current (one write), unless another node moved the session on first. */
  async function advance(entry: AllowlistEntry, link: ChainLink, claims: PageTokenClaims, policy: Policy, call: Call, now: EpochMs, resource: string): Promise<Result<Grant>> {
    const origin = call.origin();
    const next = { seq: link.seq, tokenHash: link.tokenHash, at: now, ip: origin.ip, userAgent: origin.userAgent };
    let advanced: boolean;
    try {
      advanced = await store.advanceToken(entry.idHash, link.seq - 1, next);
    } catch {
      return deny('store_unavailable', claims, resource);
    }
    if (!advanced) {
      // Another request made this token (or a rival) current first, or the session ended: judge again from the store.
      const fresh = await states.read(entry.idHash);
      if (!fresh.ok) return deny(fresh.code, claims, resource);
      if (fresh.value === null) return deny('token_revoked', claims, resource);
      const { state } = fresh.value;
      const code = refusalOf(state, claims, resource, now, lastUse(state.entry), policy);
      if (code !== null) return deny(code, claims, resource);
      const standing = standingOf(state.entry, link, now, rotation);
      if (standing === 'successor') return deny('store_unavailable', claims, resource);
      return actOnStanding(standing, state.entry, link, claims, policy, call, now, resource);
    }
    observe.rotated();
    // Other nodes drop their copy, so the token this one replaced is judged from the store there too.
    void states.announce({ kind: 'token', idHash: entry.idHash });
    const rotated: AllowlistEntry = { ...entry, chain: { ...next, previousHash: entry.chain?.tokenHash ?? entry.idHash, rotatedAt: now } };
    const ended = await verdictOf(() => theft.moved(entry, policy, origin, now));
    if (ended === null) return deny('store_unavailable', claims, resource);
    if (ended) return deny('token_forked', claims, resource);
    if (call.watching !== true) lastSeen.note(entry.idHash, now);
    return ok({ claims, entry: rotated, next: null });
  }

  return {
    async mint(request) {
      // Taken before the removal checks: a removal recorded after them is newer than this entry, so it kills it.
      const startedAt = clock.now();
      const decision = await mayMint(store, request);
      if (!decision.ok) return decision;
      const policy = decision.value ?? deps.defaultPolicy;
      const issued = tokens.issue({
        clientKey: request.clientKey,
        accountId: request.accountId,
        resource: request.target.resource,
        ttlSeconds: policy.absoluteLifetimeSeconds,
        proof: request.proof,
      });
      const entry: AllowlistEntry = {
        idHash: hashTokenId(issued.claims.jti),
        clientKey: request.clientKey,
        accountId: request.accountId,
        resource: request.target.resource,
        parent: request.target.parent,
        createdAt: startedAt,
        expiresAt: issued.expiresAt,
        lastSeenAt: issued.issuedAt,
        ip: request.ip,
        userAgent: request.userAgent,
        revokedAt: null,
        revokeReason: null,
        chain: null,
        boundKey: null,
      };
      try {
        await store.insertEntry(entry);
      } catch {
        return fail('store_unavailable');
      }
      // A removal whose tombstone the first read missed may have run its revoking UPDATE before this entry was
      // written, and taken its time before this mint began. Read again now that the entry is durable: either
      // that UPDATE saw the entry, or this read sees the tombstone, which was written before the UPDATE began.
      const recheck = await mayMint(store, request);
      if (!recheck.ok) {
        // The token is never handed out; revoked, its entry is not listed as a live session either.
        await store.revokeEntries({ kind: 'token', idHash: entry.idHash }, clock.now(), 'removed_while_minting').catch(() => undefined);
        return recheck;
      }
      audit.record({
        at: entry.createdAt,
        kind: 'mint',
        clientKey: entry.clientKey,
        accountId: entry.accountId,
        actor: `user:${entry.accountId}`,
        reason: null,
        resource: entry.resource,
        count: 1,
        confirmation: null,
      });
      observe.minted();
      return ok({ token: issued.token, entry });
    },

    check(token, resource, call = BARE_CALL) {
      const started = performance.now();
      const result = grantFor(token, resource, call);
      return result instanceof Promise ? result.then((settled) => counted(settled, started)) : counted(result, started);
    },

    revoke,
    announce: (scope, cause, ended) => settle(onStoreFailure, `announce: ${cause.reason}`, () => announce(scope, cause, ended.at, ended.count)),
  };
}

/**
 * Why the entry refuses this call, null when it serves it. Guarantee 1: the entry exists, is not revoked, outlived
 * no removal, its tenant is active, it is within its absolute and idle deadlines, and it covers the resource.
 */
function refusalOf(state: EntryState, claims: PageTokenClaims, resource: string, now: EpochMs, lastUse: EpochMs, policy: Policy): DenyCode | null {
  const { entry } = state;
  if (entry.clientKey !== claims.aud || entry.accountId !== claims.sub || entry.resource !== claims.res) return 'token_invalid';
  const ended = endedBy(state, now, policy);
  if (ended !== null) return ended;
  if (now >= idleDeadline(lastUse, policy)) return 'token_idle';
  if (!covers(entry.resource, resource)) return 'resource_mismatch';
  return null;
}

/**
 * Why a session, as the store has it, serves no token any more whoever holds it: revoked, outlived by a removal, its
 * tenant gone, past its lifetime; null while it stands. Idleness is not here: it depends on uses other nodes may not
 * have written yet.
 */
export function endedBy(state: EntryState, now: EpochMs, policy: Policy): DenyCode | null {
  const { entry } = state;
  // A session ended for theft says so, so that its page can tell its user why.
  if (entry.revokedAt !== null) return entry.revokeReason === THEFT_CAUSE.reason ? 'token_forked' : 'token_revoked';
  if (state.newestRemovalAt !== null && entry.createdAt <= state.newestRemovalAt) return 'token_revoked';
  if (state.tenantStatus === null) return 'tenant_unknown';
  if (state.tenantStatus !== 'enabled') return 'tenant_inactive';
  if (now >= entry.expiresAt || now >= absoluteDeadline(entry, policy)) return 'token_expired';
  return null;
}

/** Nothing is minted for an inactive tenant, a removed user or a deleted resource. Answers the tenant's policy, if set. */
async function mayMint(store: EntryStore, request: MintRequest): Promise<Result<Policy | null>> {
  let state: MintState;
  try {
    state = await store.loadMintState(request.clientKey, request.accountId, request.target.resource, request.target.parent);
  } catch {
    return fail('store_unavailable');
  }
  if (state.tenantStatus === null) return fail('tenant_unknown');
  if (state.tenantStatus !== 'enabled') return fail('tenant_inactive');
  const user = state.userRemoval;
  if (user !== null && (user.liftedAt === null || request.connectIssuedAt <= user.removedEventAt)) return fail('forbidden');
  if (state.resourceRemoved) return fail('forbidden');
  return ok(state.policy);
}
