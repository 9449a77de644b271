/** Reading a SET's subject (RFC 9493, SSF 1.0 complex subjects) and finding the user it names, and the event table. */
import { expect } from 'chai';
import { eventTimestampOf, knownEvent, KNOWN_EVENTS } from '../../src/signals/ssf-receiver/events';
import { isAccountId, parseSubject, unprocessedCritical, userKeyOf, type Subject } from '../../src/signals/ssf-receiver/subjects';

function subject(value: unknown): Subject {
  const parsed = parseSubject(value);
  if (parsed === null) throw new Error(`not a subject: ${JSON.stringify(value)}`);
  return parsed;
}

describe('SSF subjects', () => {
  describe('simple identifiers', () => {
    it('reads an email subject as the user\'s email, and names nobody by account id', () => {
      const email = subject({ format: 'email', email: 'Jane.Smith@example.com' });
      expect(userKeyOf(email, 'email')).to.equal('Jane.Smith@example.com');
      expect(userKeyOf(email, 'account_id')).to.equal(null);
    });

    it('reads an opaque id as an account id, and names nobody by email', () => {
      const opaque = subject({ format: 'opaque', id: '557058:alice' });
      expect(userKeyOf(opaque, 'account_id')).to.equal('557058:alice');
      expect(userKeyOf(opaque, 'email')).to.equal(null);
    });

    it('reads an iss_sub subject\'s sub as an account id', () => {
      expect(userKeyOf(subject({ format: 'iss_sub', iss: 'https://idp.example.com/', sub: '5b10ac8d82e05b22cc7d4ef5' }), 'account_id')).to.equal('5b10ac8d82e05b22cc7d4ef5');
    });

    it('takes a well-formed format it does not map (phone_number) as naming nobody, not as malformed', () => {
      const phone = subject({ format: 'phone_number', phone_number: '+1 206 555 0123' });
      expect(userKeyOf(phone, 'email')).to.equal(null);
      expect(userKeyOf(phone, 'account_id')).to.equal(null);
    });

    it('reads Google\'s subject_type and iss-sub spelling (RISC 1.0 compatibility)', () => {
      expect(userKeyOf(subject({ subject_type: 'iss-sub', iss: 'https://accounts.google.com/', sub: '7375626A656374' }), 'account_id')).to.equal('7375626A656374');
    });

    it('refuses identifiers missing their members or with the wrong types', () => {
      for (const bad of [
        null,
        'alice@example.com',
        [],
        {},
        { email: 'alice@example.com' },
        { format: 'email' },
        { format: 'email', email: 'not-an-email' },
        { format: 'email', email: 42 },
        { format: 'opaque', id: '' },
        { format: 'iss_sub', iss: 'https://idp.example.com/' },
        { format: 'opaque', id: 'x'.repeat(513) },
        { format: 7, id: 'x' },
      ]) {
        expect(parseSubject(bad), JSON.stringify(bad)).to.equal(null);
      }
    });
  });

  describe('complex subjects', () => {
    it('names the user by its user member, whatever else it says', () => {
      const complex = subject({
        format: 'complex',
        user: { format: 'email', email: 'bar@example.com' },
        tenant: { format: 'iss_sub', iss: 'https://example.com/idp1', sub: '1234' },
      });
      expect(userKeyOf(complex, 'email')).to.equal('bar@example.com');
      expect(userKeyOf(complex, 'account_id')).to.equal(null);
    });

    it('names nobody without a user member (a device or a session alone)', () => {
      const device = subject({ format: 'complex', device: { format: 'iss_sub', iss: 'https://idp.example.com/', sub: 'e9297990' } });
      expect(userKeyOf(device, 'account_id')).to.equal(null);
    });

    it('refuses nesting and empty complex subjects', () => {
      expect(parseSubject({ format: 'complex' })).to.equal(null);
      expect(parseSubject({ format: 'complex', user: { format: 'complex', user: { format: 'opaque', id: 'a' } } })).to.equal(null);
      expect(parseSubject({ format: 'complex', user: 'alice' })).to.equal(null);
    });

    it('lists critical members PanelGuard cannot act on, and none for user and session', () => {
      const complex = subject({
        format: 'complex',
        user: { format: 'opaque', id: 'a' },
        session: { format: 'opaque', id: 's' },
        tenant: { format: 'opaque', id: 't' },
      });
      expect(unprocessedCritical(complex, ['user', 'session'])).to.deep.equal([]);
      expect(unprocessedCritical(complex, ['tenant', 'user'])).to.deep.equal(['tenant']);
      expect(unprocessedCritical(complex, ['device'])).to.deep.equal([]);
      expect(unprocessedCritical(subject({ format: 'opaque', id: 'a' }), ['tenant'])).to.deep.equal([]);
    });
  });

  describe('aliases', () => {
    it('answers with the first identifier that names the user the stream\'s way', () => {
      const aliases = subject({
        format: 'aliases',
        identifiers: [
          { format: 'phone_number', phone_number: '+1 206 555 0123' },
          { format: 'email', email: 'jane@example.com' },
          { format: 'opaque', id: '557058:jane' },
        ],
      });
      expect(userKeyOf(aliases, 'email')).to.equal('jane@example.com');
      expect(userKeyOf(aliases, 'account_id')).to.equal('557058:jane');
    });

    it('refuses aliases within aliases (RFC 9493 3.2.8) and an empty list', () => {
      expect(parseSubject({ format: 'aliases', identifiers: [] })).to.equal(null);
      expect(parseSubject({ format: 'aliases', identifiers: [{ format: 'aliases', identifiers: [{ format: 'opaque', id: 'a' }] }] })).to.equal(null);
    });
  });

  it('takes account ids as the admin API does: 1 to 128 printable characters', () => {
    expect(isAccountId('557058:alice')).to.equal(true);
    expect(isAccountId('5b10ac8d82e05b22cc7d4ef5')).to.equal(true);
    expect(isAccountId('')).to.equal(false);
    expect(isAccountId('has space')).to.equal(false);
    expect(isAccountId('x'.repeat(129))).to.equal(false);
  });
});

describe('SSF event types', () => {
  const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
  const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';

  it('acts on the CAEP, RISC and SSF types it lists, each with its effect and reason', () => {
    expect(knownEvent(`${CAEP}session-revoked`)).to.deep.equal({ name: 'session-revoked', effect: 'end_sessions', reason: 'ssf_session_revoked' });
    expect(knownEvent(`${CAEP}credential-change`)?.effect).to.equal('end_sessions');
    expect(knownEvent(`${RISC}account-disabled`)).to.deep.equal({ name: 'account-disabled', effect: 'remove_user', reason: 'ssf_account_disabled' });
    expect(knownEvent(`${RISC}account-purged`)?.effect).to.equal('remove_user');
    expect(knownEvent(`${RISC}account-enabled`)?.effect).to.equal('restore_user');
    expect(knownEvent(`${RISC}sessions-revoked`)?.effect).to.equal('end_sessions');
    expect(knownEvent(`${RISC}credential-compromise`)?.effect).to.equal('end_sessions');
    expect(knownEvent('https://schemas.openid.net/secevent/ssf/event-type/verification')?.effect).to.equal('verify_stream');
    expect(KNOWN_EVENTS.size).to.equal(8);
  });

  it('knows no other type, not even a near miss', () => {
    expect(knownEvent(`${CAEP}token-claims-change`)).to.equal(null);
    expect(knownEvent(`${CAEP}session-revoked/`)).to.equal(null);
    expect(knownEvent('session-revoked')).to.equal(null);
  });

  it('reads event_timestamp only when it is a time', () => {
    expect(eventTimestampOf({ event_timestamp: 1615304991 })).to.equal(1615304991);
    expect(eventTimestampOf({})).to.equal(null);
    expect(eventTimestampOf({ event_timestamp: '1615304991' })).to.equal(null);
    expect(eventTimestampOf({ event_timestamp: -1 })).to.equal(null);
  });
});
