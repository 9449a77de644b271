/** Lifecycle callbacks over HTTP, each signed by the host simulator as Jira signs it, with any body. */
import fc from 'fast-check';
import { bodies, type FuzzBody } from '../bodies';
import { checkAnswer, outcomeOf, violated } from '../oracle';
import { Tally, type FuzzProperty } from '../property';

type Callback = { path: '/installed' | '/uninstalled' | '/enabled' | '/disabled'; signing: 'asymmetric' | 'symmetric' };

const CALLBACKS: Callback[] = [
  { path: '/installed', signing: 'asymmetric' },
  { path: '/uninstalled', signing: 'asymmetric' },
  { path: '/enabled', signing: 'symmetric' },
  { path: '/disabled', signing: 'symmetric' },
];

function member(body: FuzzBody, key: string): unknown {
  const value = body.json?.value;
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

export const lifecycleBodies: FuzzProperty = {
  name: 'lifecycle: bodies',
  claim:
    "a lifecycle callback signed by the host reaches its handler whatever its body (unless the body of a signed install names another site, or the body carries a jwt of its own), answers 204 only to a payload for this app and the site that signed it, and otherwise a 4xx in the error format, never a server failure",
  async open(sites) {
    const site = await sites.shared();
    const tenant = await site.tenant('lifecycle');
    const { sim, clientKey, sharedSecret } = tenant;
    const payload = (eventType: string) => ({
      key: site.appKey,
      clientKey,
      ...(eventType === 'installed' ? { sharedSecret } : {}),
      oauthClientId: 'oauth-client',
      serverVersion: '100283',
      pluginsVersion: '1001.0.0-SNAPSHOT',
      baseUrl: sim.baseUrl,
      displayUrl: sim.baseUrl,
      productType: 'jira',
      description: `Atlassian JIRA at ${sim.baseUrl}`,
      eventType,
      cloudId: 'cloud-id',
    });
    // An install that carried another valid sharedSecret would be a real reinstall: the host would have to
    // sign with it from then on. The simulator keeps its own, so such bodies are left out.
    const keepsSecret = (body: FuzzBody) => {
      const secret = member(body, 'sharedSecret');
      return !(typeof secret === 'string' && secret.length >= 32 && secret !== sharedSecret);
    };
    const request = fc
      .nat({ max: CALLBACKS.length - 1 })
      .chain((i) => bodies(payload(CALLBACKS[i].path.slice(1))).filter(keepsSecret).map((body) => ({ callback: CALLBACKS[i], body })));
    const tally = new Tally();
    // Each lifecycle JWT is accepted once, and never one older than the last accepted (docs/SECURITY.md): the
    // host signs every call anew. Many calls a second would share a second, so each is signed a second later.
    let signedAt = Math.floor(Date.now() / 1000);
    const property = fc.asyncProperty(request, async ({ callback, body }) => {
      site.faults.check();
      signedAt += 1;
      const headers = { ...body.headers, authorization: sim.serverAuthorization('POST', callback.path, callback.signing, { iat: signedAt }) };
      const answer = await site.http.send({ method: 'POST', path: callback.path, headers, body: body.body });
      tally.add(`${callback.path} ${outcomeOf(answer)}`);
      checkAnswer(answer);
      const ownJwt = member(body, 'jwt') !== undefined;
      // A signed install is checked against the site the body names (its clientKey and baseUrl) as well.
      const signerNamed = member(body, 'clientKey') === clientKey && member(body, 'baseUrl') === sim.baseUrl;
      const mustReach = body.json !== null && !ownJwt && (callback.signing === 'symmetric' || signerNamed);
      if (answer.status === 401 && mustReach) violated(`${callback.path} refused the host's signature with ${body.how}: ${answer.text}`);
      if (answer.status === 204 && !(member(body, 'key') === site.appKey && member(body, 'clientKey') === clientKey)) {
        violated(`${callback.path} accepted ${body.how}`);
      }
      site.faults.check();
    });
    return { property, tally, finish: async () => site.faults.check() };
  },
};
