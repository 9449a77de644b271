/** Modules from npm that the Connect pages import (routes/page-modules.ts), over real HTTP. */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { startStack, type Stack } from './harness';

describe('modules the pages import', function () {
  this.timeout(30_000);
  let stack: Stack;

  before(async () => {
    stack = await startStack({ install: false });
  });
  after(async () => {
    await stack?.stop();
  });

  it('serves the installed dpop package as a JavaScript module, cacheable like the pages\' own scripts', async () => {
    const response = await fetch(`${stack.app.baseUrl}/public/modules/dpop.js`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^text\/javascript/);
    expect(response.headers.get('cache-control')).to.equal('public, max-age=3600');
    expect(await response.text()).to.equal(readFileSync(require.resolve('dpop'), 'utf8'));
  });
});
