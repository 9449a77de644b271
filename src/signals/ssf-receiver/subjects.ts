/**
 * A SET's subject (`sub_id`, RFC 9493 Subject Identifiers and SSF 1.0's complex subjects) read into a checked value,
 * and the one thing PanelGuard needs from it: the email or the Atlassian account id of the user it names.
 */

/** How a stream's subjects name users: by email (looked up through the host), or by the Atlassian account id itself. */
export type SubjectMapping = 'email' | 'account_id';

export const SUBJECT_MAPPINGS: readonly SubjectMapping[] = ['email', 'account_id'];

/** A Subject Identifier of one principal (RFC 9493), as far as PanelGuard reads it. */
export type SimpleSubject =
  | { format: 'email'; email: string }
  | { format: 'opaque'; id: string }
  | { format: 'iss_sub'; iss: string; sub: string }
  /** A format PanelGuard does not map (phone_number, did, uri, jwt_id...): well-formed, names nobody here. */
  | { format: 'other'; name: string };

export type Subject =
  | SimpleSubject
  /** SSF 1.0 3.3: several identifiers of one principal, by member name (user, session, device, tenant...). */
  | { format: 'complex'; members: ReadonlyMap<string, SimpleSubject | AliasesSubject> }
  | AliasesSubject;

/** RFC 9493 `aliases`: several identifiers of the same principal. */
export interface AliasesSubject {
  format: 'aliases';
  identifiers: readonly SimpleSubject[];
}

/** Longest identifier member read (an email's limit is 254; ids are far shorter in practice). */
const MAX_MEMBER_LENGTH = 512;
/** At most this many identifiers in an `aliases` subject or members in a complex one. */
const MAX_PARTS = 16;
/**
 * Complex subject members PanelGuard can act on: `user` names whom, and a `session` is covered by ending every
 * session of that user. A transmitter may mark others critical (SSF 1.0 3.6); an event naming one is discarded.
 */
export const PROCESSED_MEMBERS: ReadonlySet<string> = new Set(['user', 'session']);

type Json = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_MEMBER_LENGTH;
}

/**
 * The identifier's format: `format`, or `subject_type` as Google's RISC transmitter still names it (RISC 1.0,
 * section 3.1), with its `iss-sub` spelling. Null when neither is a string.
 */
function formatOf(value: Json): string | null {
  const format = typeof value.format === 'string' ? value.format : typeof value.subject_type === 'string' ? value.subject_type : null;
  return format === 'iss-sub' ? 'iss_sub' : format;
}

function simpleSubject(value: unknown): SimpleSubject | null {
  if (!isObject(value)) return null;
  const format = formatOf(value);
  switch (format) {
    case null:
      return null;
    case 'email':
      return text(value.email) && value.email.includes('@') ? { format, email: value.email } : null;
    case 'opaque':
      return text(value.id) ? { format, id: value.id } : null;
    case 'iss_sub':
      return text(value.iss) && text(value.sub) ? { format, iss: value.iss, sub: value.sub } : null;
    case 'complex':
    case 'aliases':
      // Not where a simple identifier must be: nested complex subjects and aliases are malformed.
      return null;
    default:
      return format.length > 0 && format.length <= 64 ? { format: 'other', name: format } : null;
  }
}

function aliases(value: Json): AliasesSubject | null {
  const { identifiers } = value;
  if (!Array.isArray(identifiers) || identifiers.length === 0 || identifiers.length > MAX_PARTS) return null;
  const parsed = identifiers.map(simpleSubject);
  return parsed.every((identifier): identifier is SimpleSubject => identifier !== null) ? { format: 'aliases', identifiers: parsed } : null;
}

/** Reads a subject member; null when it is not one (a malformed SET: `invalid_request`). */
export function parseSubject(value: unknown): Subject | null {
  if (!isObject(value)) return null;
  const format = formatOf(value);
  if (format === 'aliases') return aliases(value);
  if (format !== 'complex') return simpleSubject(value);
  const members = new Map<string, SimpleSubject | AliasesSubject>();
  for (const [name, member] of Object.entries(value)) {
    if (name === 'format') continue;
    const parsed = isObject(member) && formatOf(member) === 'aliases' ? aliases(member) : simpleSubject(member);
    if (parsed === null) return null;
    members.set(name, parsed);
  }
  return members.size === 0 || members.size > MAX_PARTS ? null : { format: 'complex', members };
}

/** The identifiers that name the user: the subject itself, a complex subject's `user`, each of an `aliases`. */
function userIdentifiers(subject: Subject): readonly SimpleSubject[] {
  if (subject.format === 'complex') {
    const user = subject.members.get('user');
    return user === undefined ? [] : userIdentifiers(user);
  }
  if (subject.format === 'aliases') return subject.identifiers;
  return [subject];
}

/**
 * What the subject says about its user under `mapping`: an email (`email` identifiers), or an Atlassian account
 * id (an `opaque` id, or an `iss_sub`'s `sub`). Null when it names no user that way; an `aliases` subject
 * answers with its first identifier that does.
 */
export function userKeyOf(subject: Subject, mapping: SubjectMapping): string | null {
  for (const identifier of userIdentifiers(subject)) {
    if (mapping === 'email' && identifier.format === 'email') return identifier.email;
    if (mapping === 'account_id' && identifier.format === 'opaque') return identifier.id;
    if (mapping === 'account_id' && identifier.format === 'iss_sub') return identifier.sub;
  }
  return null;
}

/** Members of a complex subject that the transmitter marked critical and PanelGuard cannot act on. */
export function unprocessedCritical(subject: Subject, critical: readonly string[]): string[] {
  if (subject.format !== 'complex') return [];
  return critical.filter((name) => subject.members.has(name) && !PROCESSED_MEMBERS.has(name));
}

/** What an Atlassian account id looks like to PanelGuard: as the admin API and the webhooks take one. */
export function isAccountId(value: string): boolean {
  return value.length > 0 && value.length <= 128 && /^[\x21-\x7e]+$/.test(value);
}
