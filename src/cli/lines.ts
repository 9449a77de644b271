/** Reading a file line by line in bounded memory, however large the file and however long its lines. */
import type { Readable } from 'node:stream';

/** What a line too long to hold reads as: its bytes were skipped, never buffered. */
export const LINE_TOO_LONG = Symbol('line too long');

const NEWLINE = 0x0a;

/**
 * The lines of `stream` (UTF-8, `\n` or `\r\n`; the `\r` is left for the reader to trim), each as a string, or
 * LINE_TOO_LONG for one of more than `maxBytes` bytes. Not readline, which holds a line whole however long it is:
 * a file of breach data with no newline in a gigabyte would be a gigabyte string. The stream is read only as fast
 * as the caller takes lines, so a caller awaiting its work between lines holds the file back.
 */
export async function* readLines(stream: Readable, maxBytes: number): AsyncGenerator<string | typeof LINE_TOO_LONG> {
  let pieces: Buffer[] = [];
  let held = 0;
  let tooLong = false;
  const take = (piece: Buffer) => {
    if (tooLong) return;
    if (held + piece.length > maxBytes) {
      tooLong = true;
      pieces = [];
      held = 0;
      return;
    }
    pieces.push(piece);
    held += piece.length;
  };
  const line = (): string | typeof LINE_TOO_LONG => {
    // A newline byte is never part of a multi-byte character, so a line's bytes decode alone.
    const read = tooLong ? LINE_TOO_LONG : Buffer.concat(pieces, held).toString('utf8');
    pieces = [];
    held = 0;
    tooLong = false;
    return read;
  };
  for await (const chunk of stream) {
    const bytes: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (let end = bytes.indexOf(NEWLINE, start); end !== -1; end = bytes.indexOf(NEWLINE, start)) {
      // The common case, a whole line inside one chunk, is decoded where it lies.
      if (held === 0 && !tooLong && end - start <= maxBytes) {
        yield bytes.toString('utf8', start, end);
      } else {
        take(bytes.subarray(start, end));
        yield line();
      }
      start = end + 1;
    }
    // The rest is copied: the stream may reuse its chunk.
    if (start < bytes.length) take(Buffer.from(bytes.subarray(start)));
  }
  if (held > 0 || tooLong) yield line();
}
