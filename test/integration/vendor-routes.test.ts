import { expect } from 'chai';
import { voteRoutes } from '../../examples/custom-routes';
import { ALICE, ISSUE, OTHER_ISSUE, startStack, type Stack } from './harness';

// The README's example, as a vendor would paste it.
describe("HTTP: a vendor's own routes (examples/custom-routes.ts)", function () {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ routes: voteRoutes });
  });
  after(async () => {
    await stack.stop();
  });

  const votes = (issueId: string, token: string | null) =>
    fetch(`${stack.app.baseUrl}/api/issues/${issueId}/votes`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });

  it('serves a route behind the guard to a page token for its resource, as its user', async () => {
    const { token } = await stack.loadPanel(ALICE);
    const response = await votes(ISSUE.issueId, token);
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ user: ALICE });
  });

  it('refuses it without a token, and for another resource, in the API error format', async () => {
    const { token } = await stack.loadPanel(ALICE);
    const missing = await votes(ISSUE.issueId, null);
    expect(missing.status).to.equal(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).to.equal('token_missing');
    const elsewhere = await votes(OTHER_ISSUE.issueId, token);
    expect(elsewhere.status).to.equal(403);
    expect(((await elsewhere.json()) as { error: { code: string } }).error.code).to.equal('resource_mismatch');
  });

  it("keeps PanelGuard's 404 for paths nobody serves", async () => {
    const response = await fetch(`${stack.app.baseUrl}/vendor/nothing-here`);
    expect(response.status).to.equal(404);
  });
});
