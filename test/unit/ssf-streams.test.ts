/** The pure rules around SSF streams: which issuers are taken, where their configuration is, how a SET is typed and addressed, and how the host's user search is read. */
import { expect } from 'chai';
import { accountIdOfEmail, userSearchPath } from '../../src/connect/user-search';
import { HostUnavailable } from '../../src/connect/site-admins';
import { audiencesOf, isSetType } from '../../src/signals/ssf-receiver/receiver';
import { configurationUrl, defaultAudience, issuerProblem } from '../../src/signals/ssf-receiver/streams';

describe('SSF streams', () => {
  describe('issuers', () => {
    it('takes https issuers, with or without a path', () => {
      expect(issuerProblem('https://idp.example.com', false)).to.equal(null);
      expect(issuerProblem('https://idp.example.com/tenant/1/', false)).to.equal(null);
    });

    it('takes plain http only outside production', () => {
      expect(issuerProblem('http://127.0.0.1:8080/idp', false)).to.equal('must be an https URL');
      expect(issuerProblem('http://127.0.0.1:8080/idp', true)).to.equal(null);
    });

    it('refuses what SSF 1.0 rules out: a query, a fragment, credentials, other schemes, too long', () => {
      expect(issuerProblem('https://idp.example.com?tenant=1', false)).to.equal('must have no query or fragment');
      expect(issuerProblem('https://idp.example.com#x', false)).to.equal('must have no query or fragment');
      expect(issuerProblem('https://idp.example.com?', false)).to.equal('must have no query or fragment');
      expect(issuerProblem('https://user:pass@idp.example.com', false)).to.equal('must carry no credentials');
      expect(issuerProblem('ftp://idp.example.com', true)).to.equal('must be an http or https URL');
      expect(issuerProblem('idp.example.com', false)).to.match(/^must be a URL/);
      expect(issuerProblem(`https://idp.example.com/${'a'.repeat(200)}`, false)).to.match(/at most 200/);
    });
  });

  describe('configuration location (SSF 1.0 7.2)', () => {
    it('puts .well-known right after the host', () => {
      expect(configurationUrl('https://tr.example.com')).to.equal('https://tr.example.com/.well-known/ssf-configuration');
      expect(configurationUrl('https://tr.example.com/')).to.equal('https://tr.example.com/.well-known/ssf-configuration');
    });

    it('inserts it before the issuer\'s path, its terminating slash removed', () => {
      expect(configurationUrl('https://tr.example.com/issuer1')).to.equal('https://tr.example.com/.well-known/ssf-configuration/issuer1');
      expect(configurationUrl('https://tr.example.com/issuer1/')).to.equal('https://tr.example.com/.well-known/ssf-configuration/issuer1');
      expect(configurationUrl('http://127.0.0.1:4000/idp', 'risc-configuration')).to.equal('http://127.0.0.1:4000/.well-known/risc-configuration/idp');
    });
  });

  it('makes up an audience from the base URL and the stream id', () => {
    expect(defaultAudience('https://panelguard.example.com/', 'abc')).to.equal('https://panelguard.example.com/ssf/receiver/streams/abc');
  });

  describe('SETs', () => {
    it('is typed secevent+jwt, with or without application/, in any case', () => {
      expect(isSetType('secevent+jwt')).to.equal(true);
      expect(isSetType('application/secevent+jwt')).to.equal(true);
      expect(isSetType('SecEvent+JWT')).to.equal(true);
      expect(isSetType('JWT')).to.equal(false);
      expect(isSetType('at+jwt')).to.equal(false);
      expect(isSetType(undefined)).to.equal(false);
    });

    it('reads aud as a string or a list of strings, nothing else', () => {
      expect(audiencesOf('a')).to.deep.equal(['a']);
      expect(audiencesOf(['a', 'b'])).to.deep.equal(['a', 'b']);
      expect(audiencesOf([])).to.equal(null);
      expect(audiencesOf(['a', 1])).to.equal(null);
      expect(audiencesOf(undefined)).to.equal(null);
    });
  });

  describe('the host\'s user search', () => {
    const user = (accountId: string, emailAddress?: string, accountType = 'atlassian') => ({ accountId, accountType, ...(emailAddress === undefined ? {} : { emailAddress }), displayName: accountId });

    it('asks for the email as a query, encoded', () => {
      expect(userSearchPath('jane+ops@example.com')).to.equal('/rest/api/3/user/search?query=jane%2Bops%40example.com&maxResults=50');
    });

    it('takes the one account whose visible email is exactly the one asked for, case aside', () => {
      expect(accountIdOfEmail(200, [user('a', 'jane@example.com.au'), user('b', 'Jane@Example.com')], 'jane@example.com')).to.equal('b');
    });

    it('takes nobody when the email is hidden, matches several accounts, or only an app account', () => {
      expect(accountIdOfEmail(200, [user('a')], 'jane@example.com')).to.equal(null);
      expect(accountIdOfEmail(200, [user('a', 'jane@example.com'), user('b', 'jane@example.com')], 'jane@example.com')).to.equal(null);
      expect(accountIdOfEmail(200, [user('a', 'jane@example.com', 'app')], 'jane@example.com')).to.equal(null);
      expect(accountIdOfEmail(200, [], 'jane@example.com')).to.equal(null);
    });

    it('rejects any other answer: the host could not be asked', () => {
      expect(() => accountIdOfEmail(500, null, 'jane@example.com')).to.throw(HostUnavailable);
      expect(() => accountIdOfEmail(200, { users: [] }, 'jane@example.com')).to.throw(HostUnavailable);
    });
  });
});
