/**
 * A short chaos soak (soak/): three nodes behind the balancer on PostgreSQL and the redis bus,
 * under load, with revocations and one fault of each kind at least, judged by the soak's oracle.
 * `npm run soak` runs the long version.
 */
import { expect } from 'chai';
import { FAULT_KINDS } from '../../soak/faults';
import { renderReport } from '../../soak/report';
import { runSoak, soakOptions, type SoakResult } from '../../soak/soak';
import { servicesOrSkip } from '../support/services';

describe('a short chaos soak of three nodes on the redis bus', function () {
  this.timeout(150_000);
  let result: SoakResult;

  before(async function () {
    await servicesOrSkip(this, 'postgres', 'redis');
    result = await runSoak(
      soakOptions({
        durationMs: 22_000,
        bus: 'redis',
        users: 100,
        // A short staleness bound, so that the final re-check need not wait long for n<m revocations to run out.
        cacheTtlSeconds: 5,
        seed: 20_261_201,
        log: () => undefined,
      }),
    );
  });

  it('injects every kind of fault and revokes tokens while serving', () => {
    const { ledger } = result;
    for (const kind of FAULT_KINDS) expect(ledger.faults.filter((fault) => fault.kind === kind), kind).to.not.be.empty;
    expect(ledger.uses.filter((use) => use.status === 200)).to.not.be.empty;
    expect(ledger.revocations.filter((revocation) => revocation.status !== null && revocation.status < 300)).to.not.be.empty;
    expect(result.verdict.revokedTokens).to.be.above(0);
    expect(ledger.finalChecks.filter((check) => check.revoked)).to.not.be.empty;
  });

  it('finds no violation of the contract: every oracle count is 0', () => {
    const violations = Object.values(result.verdict.counts).reduce((sum, count) => sum + count, 0);
    expect(violations, renderReport(result)).to.equal(0);
  });
});
