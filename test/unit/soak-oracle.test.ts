/**
 * The soak's oracle on hand-written timelines: what it counts as a violation, and what the
 * contract allows (a revocation in flight, the staleness bound of an n<m answer, a node down).
 */
import { expect } from 'chai';
import { Ledger, type Confirmation, type RevocationKind, type UseRecord } from '../../soak/ledger';
import { judge, kills, type OracleCounts } from '../../soak/oracle';

const TTL_MS = 30_000;
const SETTINGS = { cacheTtlMs: TTL_MS, clockSlackMs: 1_000 };
const T0 = 1_800_000_000_000;
const USER = '557058:user';
const ISSUE = '10001';
const ALL_CONFIRMED: Confirmation = { confirmed: 3, expected: 3 };

function ledger(): Ledger {
  const l = new Ledger();
  l.startedAt = T0;
  return l;
}

/** A page rendered for USER on ISSUE, sent at `at` and answered 20 ms later with a token. */
function minted(l: Ledger, at: number, options: { accountId?: string; issueId?: string; answeredIn?: number } = {}): number {
  const accountId = options.accountId ?? USER;
  const issueId = options.issueId ?? ISSUE;
  const answeredAt = at + (options.answeredIn ?? 20);
  const token = l.addToken({ accountId, issueId, expiresAt: T0 + 3_600_000, mintSentAt: at, mintAnsweredAt: answeredAt, value: `token-${l.tokens.length}` });
  l.mints.push({ status: 200, code: null, servedBy: 'node-1', accountId, issueId, sentAt: at, answeredAt, token });
  return token;
}

function used(l: Ledger, token: number, at: number, status: number | null, code: string | null = null): void {
  const use: UseRecord = { status, code, servedBy: 'node-2', token, method: 'GET', kind: 'load', sentAt: at, answeredAt: at + 10 };
  l.uses.push(use);
}

function revoked(
  l: Ledger,
  kind: RevocationKind,
  at: number,
  options: { status?: number | null; code?: string | null; confirmation?: Confirmation | null; answeredIn?: number; accountId?: string; issueId?: string } = {},
): void {
  const issue = kind === 'issue_deleted';
  l.revocations.push({
    status: options.status === undefined ? 200 : options.status,
    code: options.code ?? null,
    servedBy: 'node-3',
    confirmation: options.confirmation === undefined ? ALL_CONFIRMED : options.confirmation,
    kind,
    accountId: issue ? null : (options.accountId ?? USER),
    issueId: issue ? (options.issueId ?? ISSUE) : null,
    sentAt: at,
    answeredAt: at + (options.answeredIn ?? 100),
  });
}

function lifted(l: Ledger, at: number, status = 200): void {
  l.lifts.push({ status, code: null, servedBy: 'node-1', accountId: USER, sentAt: at, answeredAt: at + 50 });
}

function counts(l: Ledger): OracleCounts {
  return judge(l, SETTINGS).counts;
}

const NONE: OracleCounts = { revokedServed: 0, mintedWhileRemoved: 0, liveRefused: 0, pagesRefused: 0, serverErrors: 0, unexpectedExits: 0, revokedLiveAtEnd: 0 };

describe('the soak oracle', () => {
  describe('revoked tokens served (a)', () => {
    it('counts a revoked token served on a request sent after a fully confirmed revocation answered', () => {
      const l = ledger();
      const token = minted(l, T0);
      revoked(l, 'user_deleted', T0 + 1_000);
      used(l, token, T0 + 1_101, 200);
      expect(counts(l)).to.deep.equal({ ...NONE, revokedServed: 1 });
    });

    it('does not count a request sent before the revocation answered, whatever it got', () => {
      const l = ledger();
      const token = minted(l, T0);
      revoked(l, 'admin_user_sessions', T0 + 1_000);
      used(l, token, T0 + 1_099, 200);
      expect(counts(l)).to.deep.equal(NONE);
    });

    it('allows a revoked token served within CACHE_TTL after an n<m answer, and counts one served after it', () => {
      const l = ledger();
      const token = minted(l, T0);
      revoked(l, 'user_deactivated', T0 + 1_000, { confirmation: { confirmed: 2, expected: 3 } });
      used(l, token, T0 + 1_100 + TTL_MS, 200);
      expect(counts(l)).to.deep.equal(NONE);
      expect(judge(l, SETTINGS).allowed.staleServesWithinBound).to.equal(1);
      used(l, token, T0 + 1_100 + TTL_MS + 1_001, 200);
      expect(counts(l)).to.deep.equal({ ...NONE, revokedServed: 1 });
    });

    it('gives a revocation answered without Revocation-Confirmed the staleness bound of n<m', () => {
      const l = ledger();
      const token = minted(l, T0);
      revoked(l, 'user_deleted', T0 + 1_000, { confirmation: null });
      used(l, token, T0 + 2_000, 200);
      expect(counts(l)).to.deep.equal(NONE);
    });

    it('counts nothing served after a revocation that did not answer 2xx', () => {
      const l = ledger();
      const token = minted(l, T0);
      revoked(l, 'user_deleted', T0 + 1_000, { status: 503, code: 'store_unavailable', confirmation: null });
      used(l, token, T0 + 5_000, 200);
      expect(counts(l)).to.deep.equal(NONE);
    });

    it('lets an admin revocation go either way for a token whose mint overlapped it', () => {
      const l = ledger();
      const token = minted(l, T0 + 990, { answeredIn: 50 });
      revoked(l, 'admin_user_sessions', T0 + 1_000);
      used(l, token, T0 + 2_000, 200);
      used(l, token, T0 + 2_100, 401, 'token_revoked');
      expect(counts(l)).to.deep.equal(NONE);
    });

    it('kills a token whose mint overlapped a removal once both answered: the tombstone allows no concurrent mint', () => {
      const l = ledger();
      const token = minted(l, T0 + 1_010, { answeredIn: 200 });
      revoked(l, 'user_deleted', T0 + 1_000);
      used(l, token, T0 + 1_205, 200);
      expect(counts(l)).to.deep.equal(NONE);
      used(l, token, T0 + 1_215, 200);
      expect(counts(l)).to.deep.equal({ ...NONE, revokedServed: 1 });
    });

    it('does not kill a token minted after a reactivation was sent', () => {
      const l = ledger();
      revoked(l, 'user_deleted', T0);
      lifted(l, T0 + 5_000);
      const token = minted(l, T0 + 5_010);
      used(l, token, T0 + 6_000, 200);
      expect(counts(l)).to.deep.equal(NONE);
    });

    it('kills every token of a deleted issue and no token of another issue', () => {
      const l = ledger();
      const onIssue = minted(l, T0);
      const elsewhere = minted(l, T0, { issueId: '10002' });
      revoked(l, 'issue_deleted', T0 + 1_000);
      used(l, elsewhere, T0 + 2_000, 200);
      expect(counts(l)).to.deep.equal(NONE);
      used(l, onIssue, T0 + 2_000, 200);
      expect(counts(l)).to.deep.equal({ ...NONE, revokedServed: 1 });
      expect([...kills(l, SETTINGS).keys()]).to.deep.equal([onIssue]);
    });

    it('counts a page minted for a removed user before any reactivation was sent', () => {
      const l = ledger();
      revoked(l, 'user_deactivated', T0);
      minted(l, T0 + 200);
      expect(counts(l)).to.deep.equal({ ...NONE, mintedWhileRemoved: 1 });
    });
  });

  describe('live tokens refused (b)', () => {
    it('counts a refusal of a token no revocation could touch', () => {
      const l = ledger();
      const token = minted(l, T0);
      used(l, token, T0 + 1_000, 401, 'token_revoked');
      expect(counts(l)).to.deep.equal({ ...NONE, liveRefused: 1 });
    });

    it('excuses a refusal once a revocation of the token was sent, even one that failed', () => {
      const l = ledger();
      const token = minted(l, T0);
      revoked(l, 'user_deleted', T0 + 1_000, { status: 503, code: 'store_unavailable', confirmation: null });
      used(l, token, T0 + 995, 401, 'token_revoked');
      expect(counts(l)).to.deep.equal(NONE);
    });

    it('excuses a refusal of an expired token', () => {
      const l = ledger();
      const token = minted(l, T0);
      used(l, token, T0 + 3_600_000, 401, 'token_expired');
      expect(counts(l)).to.deep.equal(NONE);
    });

    it('counts a page refused to a user in good standing, not one rendered in the second of a lifted removal', () => {
      const l = ledger();
      revoked(l, 'user_deleted', T0 + 100);
      lifted(l, T0 + 300);
      l.mints.push({ status: 403, code: null, servedBy: 'node-1', accountId: USER, issueId: ISSUE, sentAt: T0 + 600, answeredAt: T0 + 620, token: null });
      expect(counts(l)).to.deep.equal(NONE);
      l.mints.push({ status: 403, code: null, servedBy: 'node-1', accountId: USER, issueId: ISSUE, sentAt: T0 + 3_000, answeredAt: T0 + 3_020, token: null });
      expect(counts(l)).to.deep.equal({ ...NONE, pagesRefused: 1 });
    });
  });

  describe('server errors (c)', () => {
    it('counts a 500, and a 502 while every node was up; excuses 503 store_unavailable and a 502 while a node was down', () => {
      const l = ledger();
      const token = minted(l, T0);
      used(l, token, T0 + 100, 503, 'store_unavailable');
      used(l, token, T0 + 200, 500, 'internal_error');
      used(l, token, T0 + 300, 502, 'bad_gateway');
      l.faults.push({ kind: 'node_kill', node: 'node-2', from: T0 + 1_000, to: T0 + 5_000 });
      used(l, token, T0 + 4_000, 502, 'bad_gateway');
      used(l, token, T0 + 4_500, null, 'network');
      expect(counts(l)).to.deep.equal({ ...NONE, serverErrors: 2 });
    });

    it('counts a request left unanswered, even while a node was down: a killed node drops connections, it does not hang them', () => {
      const l = ledger();
      const token = minted(l, T0);
      l.faults.push({ kind: 'node_kill', node: 'node-2', from: T0 + 1_000, to: T0 + 5_000 });
      used(l, token, T0 + 900, null, 'timeout');
      expect(counts(l)).to.deep.equal({ ...NONE, serverErrors: 1 });
    });

    it('counts a node that exited on its own, not one that failed to start while its store link was cut', () => {
      const l = ledger();
      l.exits.push({ node: 'node-1', at: T0, detail: 'exited on its own', duringStartWithoutStore: false });
      l.exits.push({ node: 'node-2', at: T0, detail: 'failed to start', duringStartWithoutStore: true });
      expect(counts(l)).to.deep.equal({ ...NONE, unexpectedExits: 1 });
    });
  });

  describe('the final re-check (d)', () => {
    it('counts a revoked token a node serves after the run, and a refusal of an untouched one as (b)', () => {
      const l = ledger();
      const gone = minted(l, T0);
      const kept = minted(l, T0, { accountId: '557058:other' });
      revoked(l, 'admin_user_sessions', T0 + 1_000);
      l.finalChecks.push({ status: 200, code: null, servedBy: 'node-1', token: gone, node: 'node-1', at: T0 + 60_000, revoked: true });
      l.finalChecks.push({ status: 401, code: 'token_revoked', servedBy: 'node-2', token: gone, node: 'node-2', at: T0 + 60_000, revoked: true });
      l.finalChecks.push({ status: 401, code: 'token_revoked', servedBy: 'node-1', token: kept, node: 'node-1', at: T0 + 60_000, revoked: false });
      expect(counts(l)).to.deep.equal({ ...NONE, revokedLiveAtEnd: 1, liveRefused: 1 });
    });
  });
});
