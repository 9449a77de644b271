/**
 * Reading leak reports: a line of a file, or an item of the API's JSON body, to the SHA-256 of the leaked page
 * token's `jti` (the hash an allowlist entry is found by), or `malformed`. A raw token is hashed here and goes no
 * further: nothing past this module ever holds one.
 */
import { z } from 'zod';
import { fail, ok, type Result } from '../base/result';
import { hashTokenId } from '../tokens/hash';

/** A report read: the hash of the leaked token's jti, or why it names none. */
export type LeakReport = Result<string, 'malformed'>;

/**
 * Longest report read: a page token is about 500 characters (with its chain and confirmation claims). A longer
 * line is not one of ours, and is never decoded.
 */
export const MAX_REPORT_CHARS = 4096;

/** Longest `jti` taken: ours are 22 characters (128 random bits, base64url). */
const MAX_JTI_CHARS = 256;

const HASH = /^[0-9a-fA-F]{64}$/;
/** A compact JWS: header, payload and signature, base64url (the signature may be empty, as with `alg: none`). */
const JWT = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$/;

/** `{"token": "<JWT>"}` or `{"hash": "<64 hex>"}`: exactly one of the two; other members (a leak's date, its URL) are ignored. */
const reportObject = z.union([
  z.object({ token: z.string(), hash: z.undefined() }),
  z.object({ hash: z.string(), token: z.undefined() }),
]);

/** What a report that cannot be read counts as: a caller that could not even hold the line (too long) says so with this. */
export const MALFORMED_REPORT: LeakReport = Object.freeze(fail('malformed'));

const malformed = (): LeakReport => MALFORMED_REPORT;

/**
 * One line of a report file: a raw page token, a hex SHA-256 of a token's jti, or either as a JSON object (JSON
 * lines). Null for a line that is no report: blank, or a `#` comment.
 */
export function readReportLine(line: string): LeakReport | null {
  if (line.length > MAX_REPORT_CHARS) return malformed();
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return null;
  if (!text.startsWith('{')) return readBare(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return malformed();
  }
  return readReportObject(parsed);
}

/** One item of the API's `reports`: a string read as a line is (a blank one is malformed here), or a report object. */
export function readReportItem(item: unknown): LeakReport {
  if (typeof item !== 'string') return readReportObject(item);
  return item.length > MAX_REPORT_CHARS ? malformed() : readBare(item.trim());
}

function readReportObject(value: unknown): LeakReport {
  const parsed = reportObject.safeParse(value);
  if (!parsed.success) return malformed();
  const { token, hash } = parsed.data;
  if (token !== undefined) return token.length > MAX_REPORT_CHARS ? malformed() : readToken(token.trim());
  return hash.length > MAX_REPORT_CHARS ? malformed() : readHash(hash.trim());
}

function readBare(text: string): LeakReport {
  return HASH.test(text) ? readHash(text) : readToken(text);
}

function readHash(text: string): LeakReport {
  // Stored hashes are lowercase hex.
  return HASH.test(text) ? ok(text.toLowerCase()) : malformed();
}

/**
 * A raw token is known by its `jti` alone, and its signature is not checked. The jti is 128 random bits that only
 * the token we signed carries, and the store knows it only as a hash; a report that hashes to a session's token
 * proves the reporter saw that token (or its hash, which the API takes as well, so a signature would prove nothing
 * more), and one with a jti of its own making matches nothing. What a token claims beyond its jti is never read:
 * `sid` (the session it continues) is the session's id, shown to admins and to the user, and a token forged to
 * name it with a random jti must not end that session.
 */
function readToken(text: string): LeakReport {
  const parts = JWT.exec(text);
  if (parts === null) return malformed();
  const header = decodeSegment(parts[1]);
  const payload = decodeSegment(parts[2]);
  if (header === null || payload === null) return malformed();
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_CHARS) return malformed();
  return ok(hashTokenId(jti));
}

/** A base64url segment that holds a JSON object; null for anything else. */
function decodeSegment(segment: string): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}
