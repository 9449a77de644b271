/** Operator tokens: each acts on the one site it is bound to; anything else acts on none. */
import { expect } from 'chai';
import { OperatorTokens } from '../../src/tokens/operator-tokens';

describe('operator tokens', () => {
  const tokens = new OperatorTokens([
    { clientKey: 'site-a', token: 'a'.repeat(40) },
    { clientKey: 'site-b', token: 'b'.repeat(40) },
  ]);

  it('names the site a token is bound to', () => {
    expect(tokens.tenantOf('a'.repeat(40))).to.equal('site-a');
    expect(tokens.tenantOf('b'.repeat(40))).to.equal('site-b');
  });

  it('names no site for a token that differs by one character, a prefix, or nothing configured', () => {
    expect(tokens.tenantOf(`${'a'.repeat(39)}b`)).to.equal(null);
    expect(tokens.tenantOf('a'.repeat(39))).to.equal(null);
    expect(tokens.tenantOf('')).to.equal(null);
    expect(new OperatorTokens([]).tenantOf('a'.repeat(40))).to.equal(null);
  });
});
