// @ts-check
/**
 * What every page's logic shares, whichever front door framed it: the API it is handed, the status line, denial
 * headlines and table cells. The Connect pages load these modules as they are; the Forge build bundles them.
 */

/** @typedef {'GET' | 'POST' | 'PUT' | 'DELETE'} Method */

/**
 * A refusal or an outage, in the server's words: `code` is stable, `message` is for people; `fields`, when the server
 * names them, lists each bad input with its own message.
 * @typedef {{ code: string, message: string, fields?: { field: string, message: string }[] }} Failure
 */

/** A 2xx answer: its JSON body (null for 204) and its headers. @typedef {{ body: unknown, header(name: string): string | null }} Answer */

/**
 * How a page reaches PanelGuard's API; each front door has its own (views/public/connect/transport.js,
 * forge/src/transport.ts). `call` sends `method` to `path` (the API's path and query) with a JSON `body`, adding
 * the page's credentials, and resolves with a 2xx's Answer or rejects with a Failure.
 * `live` holds the page's live channel for `resource` (Connect's a stream, Forge's a long poll, since invokeRemote
 * cannot stream) and calls `ended` once, with the Failure the server named, when the page's session ends.
 * @typedef {{ call(method: Method, path: string, body?: unknown): Promise<Answer>, live?(resource: string, ended: (failure: Failure) => void): void }} Api
 */

// Denials end a page's use of its token. The headline names what happened.
/** @type {Readonly<Record<string, string>>} */
export const DENIED = {
  token_revoked: 'Access revoked',
  token_invalid: 'Access revoked',
  tenant_unknown: 'Access revoked',
  tenant_inactive: 'Access revoked',
  resource_mismatch: 'Access revoked',
  forbidden: 'Access denied',
  token_missing: 'Access denied',
  token_malformed: 'Access denied',
  token_expired: 'Session ended',
  token_idle: 'Session ended',
  // Theft detection saw a copy of this page's session used elsewhere, and ended it for every holder.
  token_forked: 'Session ended \u2014 used elsewhere',
};

/** @param {string} code @param {string} message @returns {Failure} */
export function failure(code, message) {
  return { code, message };
}

/** @param {unknown} value @returns {value is Failure} */
function isFailure(value) {
  return typeof value === 'object' && value !== null && 'code' in value && typeof value.code === 'string' && 'message' in value && typeof value.message === 'string';
}

/** What a rejected call is in the page's terms: the Failure a transport threw, or (a bug, not the server) an internal error. @param {unknown} error @returns {Failure} */
export function asFailure(error) {
  return isFailure(error) ? error : failure('internal_error', 'Something went wrong in this page; reload it.');
}

/**
 * Turns a remote's answer into the page's terms, the same for both transports: a 2xx's body (null for 204), or
 * the Failure the server named in `{ error: { code, message } }`.
 * @param {number} status @param {unknown} body @param {(name: string) => string | null} header
 * @returns {Answer} @throws {Failure}
 */
export function answerOf(status, body, header) {
  if (status >= 200 && status < 300) return { body: status === 204 ? null : body, header };
  const named = typeof body === 'object' && body !== null && 'error' in body ? body.error : undefined;
  throw isFailure(named) ? named : failure('internal_error', `Request failed (${status}).`);
}

/**
 * The element with `id`, checked to be a `type`; a page whose markup lacks it is broken, not refused.
 * @template {HTMLElement} T @param {string} id @param {{ new (): T }} type @returns {T}
 */
export function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is not a ${type.name}`);
  return element;
}

/**
 * Fills the #status line; `code` lands in data-code, a `headline` is set in bold before the detail.
 * @param {string} className @param {string | null} code @param {string} headline @param {string} detail
 */
export function showStatus(className, code, headline, detail) {
  showMessage(byId('status', HTMLElement), className, code, headline, detail);
}

/**
 * Fills `status`, the status line or a message beside the control that caused it, the same way as showStatus.
 * @param {HTMLElement} status @param {string} className @param {string | null} code @param {string} headline @param {string} detail
 */
export function showMessage(status, className, code, headline, detail) {
  status.className = className;
  if (code) status.setAttribute('data-code', code);
  else status.removeAttribute('data-code');
  status.textContent = '';
  if (headline) {
    const strong = document.createElement('strong');
    strong.textContent = `${headline}: `;
    status.appendChild(strong);
  }
  status.appendChild(document.createTextNode(detail));
}

/**
 * Keeps `button` disabled while `promise` runs, so an action is not sent twice; it stays disabled once `hasEnded()` says the page has ended.
 * @param {HTMLButtonElement} button @param {Promise<unknown>} promise @param {() => boolean} hasEnded @returns {Promise<void>}
 */
export function during(button, promise, hasEnded) {
  button.disabled = true;
  const release = () => {
    if (!hasEnded()) button.disabled = false;
  };
  return promise.then(release, release);
}

/** @param {number | null | undefined} epochMs */
export function when(epochMs) {
  return epochMs === null || epochMs === undefined ? '\u2014' : new Date(epochMs).toLocaleString();
}

/**
 * Appends a cell to `row`; an empty value shows as a dash.
 * @param {HTMLTableRowElement} row @param {string | number | null | undefined} text @param {string} [className]
 */
export function cell(row, text, className) {
  const td = document.createElement('td');
  if (className) td.className = className;
  td.textContent = text === null || text === undefined || text === '' ? '\u2014' : String(text);
  row.appendChild(td);
  return td;
}

/**
 * Appends a cell naming something by its `label` (a display name, an issue key), with its `id` as the tooltip; the
 * id itself stands in when the server could not name it.
 * @param {HTMLTableRowElement} row @param {string | null | undefined} label @param {string | null | undefined} id @param {string} [className]
 */
export function namedCell(row, label, id, className) {
  const td = cell(row, label || id, className);
  if (id) td.title = id;
  return td;
}

/**
 * The keys the server named beside a resource (a session, a signal, an audit record); null or absent where the host
 * could not name it in time.
 * @typedef {{ issueKey?: string | null, projectKey?: string | null }} Keys
 */

/**
 * What a session was opened on, in the product's words: the issue's or project's key when the server named it (in
 * `keys`, usually the row that lists the resource), else the id.
 * @param {string} resource @param {Keys} [keys]
 */
export function placeOf(resource, keys = {}) {
  let match = /^jira:issue:(.+)$/.exec(resource);
  if (match) return keys.issueKey || `Issue ${match[1]}`;
  match = /^jira:project:(.+)$/.exec(resource);
  if (match) return keys.projectKey || `Project ${match[1]}`;
  if (resource === 'app:admin') return 'Admin page';
  if (resource === 'app:self') return 'My sessions page';
  return resource;
}

/**
 * Sessions grouped by user and device (browser and OS, and the network they are used from), newest use first: one
 * row for five visits to one page from one browser. `lastSeenAt` is the newest of the group's.
 * @template {{ id: string, accountId?: string, agent: string | null, network: string | null, lastSeenAt: number }} S
 * @param {S[]} sessions @returns {{ key: string, sessions: S[], lastSeenAt: number }[]}
 */
export function byDevice(sessions) {
  /** @type {Map<string, { key: string, sessions: S[], lastSeenAt: number }>} */
  const groups = new Map();
  for (const session of sessions) {
    const key = JSON.stringify([session.accountId || '', session.agent, session.network]);
    const group = groups.get(key);
    if (group) {
      group.sessions.push(session);
      group.lastSeenAt = Math.max(group.lastSeenAt, session.lastSeenAt);
    } else groups.set(key, { key, sessions: [session], lastSeenAt: session.lastSeenAt });
  }
  return [...groups.values()].sort((a, b) => b.lastSeenAt - a.lastSeenAt);
}

/**
 * Appends a cell listing the places a device's sessions are open on, each once with how many (`Admin page ×5`), each
 * with its resource as the tooltip.
 * @param {HTMLTableRowElement} row @param {({ resource: string } & Keys)[]} sessions @param {string} className
 */
export function placesCell(row, sessions, className) {
  /** @type {Map<string, { text: string, count: number }>} */
  const places = new Map();
  for (const session of sessions) {
    const place = places.get(session.resource);
    if (place) place.count += 1;
    else places.set(session.resource, { text: placeOf(session.resource, session), count: 1 });
  }
  const td = document.createElement('td');
  td.className = className;
  for (const [resource, { text, count }] of places) {
    const span = document.createElement('span');
    span.className = 'place';
    span.title = resource;
    span.setAttribute('data-resource', resource);
    span.textContent = count === 1 ? text : `${text} \u00d7${count}`;
    td.appendChild(span);
  }
  row.appendChild(td);
  return td;
}
