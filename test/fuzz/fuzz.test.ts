/** Every fuzz property, a few hundred inputs each, as part of `npm test`; `npm run fuzz -- --runs N` runs many more. */
import { expect } from 'chai';
import { FUZZ_PROPERTIES } from './properties';
import { failureReport, runProperty } from './property';
import { SitePool } from './sites';

const RUNS = 500;

describe(`fuzz properties (${RUNS} inputs each)`, function () {
  this.timeout(60_000);
  const sites = new SitePool();
  after(async () => {
    await sites.close();
  });

  for (const property of FUZZ_PROPERTIES) {
    it(`${property.name}: ${property.claim}`, async () => {
      const result = await runProperty(property, sites, { numRuns: RUNS });
      if (result.failed) expect.fail(`${result.name} failed after ${result.runs} inputs (seed ${result.seed})\n${failureReport(result, RUNS).join('\n')}`);
      expect(result.runs).to.equal(RUNS);
    });
  }
});
