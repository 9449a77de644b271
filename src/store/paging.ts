/** How both stores page: the opaque entry cursor and the page-size check, shared so that a cursor from one store reads the same in the other. */
import type { AllowlistEntry, EpochMs } from '../allowlist/types';

/** Where the previous page of entries ended, in their order (created_at, then id_hash, both descending). */
export interface EntryCursor {
  createdAt: EpochMs;
  idHash: string;
}

// Entry ids are the hex SHA-256 of a token's jti (src/tokens/hash.ts); nothing else can come from a page.
const CURSOR_TEXT = /^(0|[1-9][0-9]*):([0-9a-f]{64})$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** base64url of `<createdAt>:<idHash>`: opaque to callers, so the order behind it may change without breaking their links. */
export function encodeEntryCursor(entry: Pick<AllowlistEntry, 'createdAt' | 'idHash'>): string {
  return Buffer.from(`${entry.createdAt}:${entry.idHash}`, 'utf8').toString('base64url');
}

/** Reads a cursor made by `encodeEntryCursor`; null for anything else. */
export function readEntryCursor(cursor: string): EntryCursor | null {
  // Node decodes base64 leniently (skipping stray characters), so only the canonical spelling of a cursor is accepted.
  const match = BASE64URL.test(cursor) ? CURSOR_TEXT.exec(Buffer.from(cursor, 'base64url').toString('utf8')) : null;
  const createdAt = match ? Number(match[1]) : Number.NaN;
  const idHash = match?.[2];
  if (idHash === undefined || !Number.isSafeInteger(createdAt) || encodeEntryCursor({ createdAt, idHash }) !== cursor) return null;
  return { createdAt, idHash };
}

/** Whether `cursor` is one `encodeEntryCursor` made: what the edge checks, so that no request hands a store a bad one. */
export function isEntryCursor(cursor: string): boolean {
  return readEntryCursor(cursor) !== null;
}

/** `readEntryCursor` for the stores: a cursor that got this far without being checked is a bug upstream, a RangeError. */
export function decodeEntryCursor(cursor: string): EntryCursor {
  const read = readEntryCursor(cursor);
  if (read === null) throw new RangeError('invalid cursor');
  return read;
}

/** A page holds at least one item; a limit of 0 could never move a cursor forward. */
export function assertPageLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new RangeError('limit must be a positive integer');
}
