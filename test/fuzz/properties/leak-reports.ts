/** Reading leak reports, over tokens made from real page tokens, hash-like text and any JSON: what a report names, and nothing else. */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { ManualClock } from '../../../src/base/clock';
import { MAX_REPORT_CHARS, readReportItem, readReportLine, type LeakReport } from '../../../src/signals/leak-reports';
import { createPageTokenCodec } from '../../../src/tokens/page-token';
import { presentedTokens } from '../forgeries';
import { violated } from '../oracle';
import { Tally, type FuzzProperty } from '../property';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A base64url segment's JSON object, or null: decoded as the spec says, apart from the module under test. */
function objectIn(segment: string): Record<string, unknown> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** What a bare report (no JSON around it) names, as docs/SIGNALS.md defines it: a hash, or a JWT's jti hashed. */
function namedBy(text: string): string | 'malformed' {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return text.toLowerCase();
  const segments = text.split('.');
  if (segments.length !== 3 || !/^[A-Za-z0-9_-]*$/.test(segments[2])) return 'malformed';
  const [header, payload] = [objectIn(segments[0]), objectIn(segments[1])];
  if (header === null || payload === null) return 'malformed';
  const { jti } = payload;
  return typeof jti === 'string' && jti.length > 0 && jti.length <= 256 ? sha256(jti) : 'malformed';
}

/** What a JSON report names: `{"token": <a JWT>}` or `{"hash": <64 hex>}`, exactly one of the two members present. */
function namedByObject(value: unknown): string | 'malformed' {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'malformed';
  const report = value as Record<string, unknown>;
  if ('token' in report === 'hash' in report) return 'malformed';
  const text = 'token' in report ? report.token : report.hash;
  if (typeof text !== 'string' || text.length > MAX_REPORT_CHARS) return 'malformed';
  const trimmed = text.trim();
  const isHash = /^[0-9a-fA-F]{64}$/.test(trimmed);
  if ('hash' in report) return isHash ? trimmed.toLowerCase() : 'malformed';
  return isHash ? 'malformed' : namedBy(trimmed);
}

function expectedLine(line: string): string | 'malformed' | null {
  if (line.length > MAX_REPORT_CHARS) return 'malformed';
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return null;
  if (!text.startsWith('{')) return namedBy(text);
  try {
    return namedByObject(JSON.parse(text));
  } catch {
    return 'malformed';
  }
}

function answerOf(report: LeakReport | null): string | 'malformed' | null {
  if (report === null) return null;
  if (report.ok && !/^[0-9a-f]{64}$/.test(report.value)) violated(`a report read as ${JSON.stringify(report.value)}, not a lowercase SHA-256`);
  return report.ok ? report.value : report.code;
}

export const leakReports: FuzzProperty = {
  name: 'leak reports',
  claim: "a line or an API item is read as the hash it names (64 hex, lowercased) or the SHA-256 of its JWT's jti, whatever else the token claims or however it is signed, as malformed otherwise, and a line as no report only when blank or a comment; reading never throws",
  async open() {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const codec = createPageTokenCodec({ secret: randomBytes(32).toString('base64url'), appKey: 'panelguard', clock, isTenant: async () => true });
    const first = codec.issue({ clientKey: 'site-a', accountId: 'alice', resource: 'jira:issue:10001', ttlSeconds: 600 });
    const successor = codec.succeed({ of: first.claims, session: sha256(first.claims.jti), seq: 1, expiresAt: first.expiresAt });
    const sources = [first.token, successor.token, codec.issue({ clientKey: 'site-b', accountId: 'bob', resource: 'app:admin', ttlSeconds: 600, proof: { fit: 'principal' } }).token];
    const keys = { secret: randomBytes(32).toString('base64url'), sites: [{ clientKey: 'site-a', sharedSecret: randomBytes(32).toString('base64url') }] };

    const token = presentedTokens({ sources, keys, withAppKey: false }).map((forgery) => forgery.token);
    const hashLike = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFg'), minLength: 62, maxLength: 66 }),
      fc.constantFrom(sha256('x'), sha256('x').toUpperCase(), ` ${sha256('x')} `),
    );
    const text = fc.oneof(token, hashLike, fc.string({ maxLength: 80 }));
    // A line as files hold it: bare, padded, commented, or as a JSON line with one member, both, or others besides.
    const line = fc.oneof(
      text,
      fc.tuple(text, fc.constantFrom(' ', '\t', '\r', '  \r')).map(([t, pad]) => `${pad}${t}${pad}`),
      text.map((t) => `# ${t}`),
      text.map((t) => JSON.stringify({ token: t })),
      text.map((t) => JSON.stringify({ hash: t })),
      fc.tuple(text, text).map(([t, h]) => JSON.stringify({ token: t, hash: h })),
      fc.tuple(text, fc.jsonValue()).map(([t, extra]) => JSON.stringify({ token: t, seenAt: extra })),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.constantFrom('', ' ', '#', '{', 'x'.repeat(MAX_REPORT_CHARS + 1)),
    );
    const item = fc.oneof(text, text.map((t) => ({ token: t })), text.map((h) => ({ hash: h })), fc.jsonValue());

    const tally = new Tally();
    const property = fc.property(line, item, (l, i) => {
      const read = answerOf(readReportLine(l));
      tally.add(read === null ? 'no report' : read === 'malformed' ? 'malformed' : 'hash');
      const expected = expectedLine(l);
      if (read !== expected) violated(`${JSON.stringify(l.slice(0, 200))} read as ${String(read)}, not ${String(expected)}`);
      const readItem = answerOf(readReportItem(i));
      const expectedItem = typeof i === 'string' ? (i.length > MAX_REPORT_CHARS ? 'malformed' : namedBy(i.trim())) : namedByObject(i);
      if (readItem !== expectedItem) violated(`item ${JSON.stringify(i).slice(0, 200)} read as ${String(readItem)}, not ${String(expectedItem)}`);
    });
    return { property, tally };
  },
};
