/** Webhooks over HTTP, each signed by the host simulator as Jira signs them, with any body. */
import fc from 'fast-check';
import { bodies } from '../bodies';
import { checkAnswer, jsonOf, outcomeOf, violated } from '../oracle';
import { Tally, type FuzzProperty } from '../property';

/** Each webhook route and a payload like the one Jira sends it. */
function webhooks(baseUrl: string, now: number): { path: string; payload: Record<string, unknown> }[] {
  const user = { self: `${baseUrl}/rest/api/2/user?accountId=557058%3Aalice`, accountId: '557058:alice', accountType: 'atlassian', displayName: 'Alice', active: false };
  return [
    { path: '/webhooks/user-deleted', payload: { timestamp: now, webhookEvent: 'user_deleted', user } },
    { path: '/webhooks/user-updated', payload: { timestamp: now, webhookEvent: 'user_updated', user } },
    { path: '/webhooks/user-created', payload: { timestamp: now, webhookEvent: 'user_created', user: { ...user, active: true } } },
    { path: '/webhooks/issue-deleted', payload: { timestamp: now, webhookEvent: 'jira:issue_deleted', issue_event_type_name: 'issue_deleted', issue: { id: '10001', key: 'DEMO-1', fields: { project: { id: '10000', key: 'DEMO' } } } } },
    { path: '/webhooks/project-deleted', payload: { timestamp: now, webhookEvent: 'project_deleted', project: { id: 10000, key: 'DEMO', name: 'DEMO' } } },
  ];
}

function isConfirmation(value: unknown): boolean {
  if (value === null) return true;
  const c = value as { confirmed?: unknown; expected?: unknown };
  return Number.isInteger(c.confirmed) && Number.isInteger(c.expected);
}

export const webhookBodies: FuzzProperty = {
  name: 'webhooks: bodies',
  claim:
    'a webhook signed by the host reaches its handler whatever its body (unless the body carries a jwt of its own, which ACE reads instead), and answers 200 {"applied", "revoked", "confirmation"} or a 4xx in the error format, never a server failure',
  async open(sites) {
    const site = await sites.shared();
    const { sim } = await site.tenant('hooks');
    const routes = webhooks(sim.baseUrl, Date.now());
    const request = fc.nat({ max: routes.length - 1 }).chain((i) => bodies(routes[i].payload).map((body) => ({ path: routes[i].path, body })));
    const tally = new Tally();
    const property = fc.asyncProperty(request, async ({ path, body }) => {
      site.faults.check();
      // A fresh token per call, as the host signs each one.
      const headers = { ...body.headers, authorization: sim.serverAuthorization('POST', path) };
      const answer = await site.http.send({ method: 'POST', path, headers, body: body.body });
      tally.add(outcomeOf(answer));
      const error = checkAnswer(answer);
      if (error === null) {
        const outcome = jsonOf(answer) as Record<string, unknown>;
        const shaped = typeof outcome.applied === 'boolean' && Number.isInteger(outcome.revoked) && (outcome.revoked as number) >= 0 && isConfirmation(outcome.confirmation);
        if (answer.status !== 200 || !shaped) violated(`${path} answered ${answer.status} ${answer.text} to ${body.how}`);
      }
      const ownJwt = typeof body.json?.value === 'object' && body.json.value !== null && 'jwt' in body.json.value;
      if (answer.status === 401 && !ownJwt) violated(`${path} refused the host's signature with ${body.how}: ${answer.text}`);
      site.faults.check();
    });
    return { property, tally, finish: async () => site.faults.check() };
  },
};
