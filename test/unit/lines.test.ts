/** The CLI's line reader: lines as written, however the stream cuts its chunks, and no line held past its bound. */
import { expect } from 'chai';
import { Readable } from 'node:stream';
import { LINE_TOO_LONG, readLines } from '../../src/cli/lines';

async function linesOf(chunks: (string | Buffer)[], maxBytes = 64): Promise<(string | typeof LINE_TOO_LONG)[]> {
  const lines: (string | typeof LINE_TOO_LONG)[] = [];
  for await (const line of readLines(Readable.from(chunks.map((chunk) => Buffer.from(chunk))), maxBytes)) lines.push(line);
  return lines;
}

describe('reading lines', () => {
  it('reads each line without its newline, a last one without a newline too', async () => {
    expect(await linesOf(['one\ntwo\n\nthree'])).to.deep.equal(['one', 'two', '', 'three']);
  });

  it("leaves a CRLF file's carriage returns for the reader to trim", async () => {
    expect(await linesOf(['one\r\ntwo\r\n'])).to.deep.equal(['one\r', 'two\r']);
  });

  it('joins a line cut across chunks, a multi-byte character cut in two included', async () => {
    const text = Buffer.from('héllo wörld\nnext\n');
    const cuts = [text.subarray(0, 2), text.subarray(2, 3), text.subarray(3, 9), text.subarray(9, 14), text.subarray(14)];
    expect(await linesOf(cuts)).to.deep.equal(['héllo wörld', 'next']);
  });

  it('reads nothing from an empty file', async () => {
    expect(await linesOf([])).to.deep.equal([]);
  });

  it('reads a line longer than its bound as LINE_TOO_LONG, in one chunk or many, and the lines after it as written', async () => {
    const long = 'x'.repeat(100);
    expect(await linesOf([`a\n${long}\nb\n`], 64)).to.deep.equal(['a', LINE_TOO_LONG, 'b']);
    expect(await linesOf(['a\nxxxxxxxxxx', ...Array.from({ length: 20 }, () => 'xxxxxxxxxx'), '\nb'], 64)).to.deep.equal(['a', LINE_TOO_LONG, 'b']);
    expect(await linesOf([long], 64)).to.deep.equal([LINE_TOO_LONG]);
  });

  it('takes a line of exactly its bound', async () => {
    expect(await linesOf(['x'.repeat(64), '\n', 'y'.repeat(30), 'y'.repeat(34), '\n'], 64)).to.deep.equal(['x'.repeat(64), 'y'.repeat(64)]);
  });
});
