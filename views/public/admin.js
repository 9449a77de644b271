// @ts-check
/**
 * The admin page's logic: live sessions, suspicious ones, revoking a user or the whole site, the session policy and
 * the audit log, through the page's API; a denial ends the page.
 */
import { asFailure, byDevice, byId, cell, DENIED, during, namedCell, placeOf, placesCell, showMessage, showStatus, when } from './page.js';

/** @typedef {import('./page.js').Api} Api */
/** @typedef {import('./page.js').Answer} Answer */
/** @typedef {import('./page.js').Failure} Failure */
/** @typedef {{ confirmed: number, expected: number }} Confirmation */
/**
 * A session as the API lists it; `displayName`, `issueKey` and `projectKey` are null where the host could not name
 * them in time, and the keys for resources that are not an issue or a project.
 * @typedef {{ id: string, accountId: string, displayName: string | null, resource: string, issueKey: string | null, projectKey: string | null, device: string | null, ip: string | null, agent: string | null, network: string | null, startedAt: number, lastSeenAt: number }} Session
 */
/** One side of a theft signal: where a session was used from, and when. @typedef {{ ip: string | null, userAgent: string | null, network: string | null, agent: string | null, at: number }} Sighting */
/** @typedef {{ kind: 'fork' | 'network_changed' | 'agent_changed', session: string, action: 'revoked' | 'reported', presented: Sighting, holder: Sighting }} SignalDetail */
/** @typedef {{ id: number, at: number, kind: string, accountId: string | null, displayName: string | null, actor: string | null, actorDisplayName: string | null, reason: string | null, resource: string | null, issueKey: string | null, projectKey: string | null, count: number | null, confirmation: Confirmation | null, detail: SignalDetail | null }} AuditRecord */
/** @typedef {'revoke' | 'report'} TheftResponse */
/** @typedef {{ idleTimeoutSeconds: number, absoluteLifetimeSeconds: number, theftResponse: TheftResponse, agentChangeResponse: TheftResponse, keyBinding: boolean }} Policy */
/** @typedef {{ sessions: Session[], next: string | null }} SessionPage */
/** @typedef {{ revoked: number, confirmation: Confirmation | null }} Reset */
/** @typedef {Record<string, string | number | null>} Params */

const PAGE_SIZE = 50;
// The most a reset's confirm step counts before it says "or more".
const RESET_COUNT_LIMIT = 200;

// Denials end this page's use of its token: tables emptied, every control disabled. Under the headline, what to do next.
/** @type {Readonly<Record<string, string>>} */
const DETAIL = {
  token_revoked: 'This page\u2019s session was ended. Reload the page to start again if you are still a site admin.',
  token_expired: 'This page reached the end of its session. Reload the page to continue.',
  token_idle: 'This page was idle too long. Reload the page to continue.',
  forbidden: 'Only site admins can use this page.',
};

/** @param {Params} params */
function query(params) {
  const parts = [];
  for (const [name, value] of Object.entries(params)) {
    if (value !== '' && value !== null && value !== undefined) parts.push(`${name}=${encodeURIComponent(value)}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/** @param {Confirmation | null} value */
function confirmation(value) {
  return value ? `${value.confirmed}/${value.expected}` : null;
}

/** What theft detection noticed, in an admin's words. @type {Readonly<Record<SignalDetail['kind'], string>>} */
const NOTICED = { fork: 'Copy used elsewhere', network_changed: 'Network changed', agent_changed: 'Browser changed' };
/** @type {Readonly<Record<SignalDetail['action'], string>>} */
const ACTED = { revoked: 'Ended', reported: 'Recorded' };
/** @type {Readonly<Record<TheftResponse, string>>} */
const RESPONSE = { revoke: 'end the session', report: 'only record it' };

/**
 * Appends a cell holding one side of a signal, a line each: IP, network, browser, time.
 * @param {HTMLTableRowElement} row @param {Sighting} sighting @param {string} className
 */
function sightingCell(row, sighting, className) {
  const td = document.createElement('td');
  td.className = className;
  /** @type {[string, string | null][]} */
  const lines = [
    ['ip', sighting.ip],
    ['network', sighting.network],
    ['agent', sighting.agent],
    ['at', when(sighting.at)],
  ];
  for (const [name, value] of lines) {
    const span = document.createElement('span');
    span.className = name;
    span.textContent = value || '\u2014';
    td.appendChild(span);
  }
  row.appendChild(td);
  return td;
}

/**
 * An audit record's resource by its issue's or project's key where the server named one, else as the audit has it;
 * the resource as the tooltip.
 * @param {HTMLTableRowElement} row @param {AuditRecord} record
 */
function resourceCell(row, record) {
  const { resource } = record;
  const label = resource !== null && (record.issueKey || record.projectKey) ? placeOf(resource, record) : resource;
  return namedCell(row, label, resource, 'resource');
}

/** Who acted, by name where the actor is a person (`admin: Ada`), the actor as the audit has it as the tooltip. @param {AuditRecord} record */
function actorLabel(record) {
  if (!record.actor || !record.actorDisplayName) return record.actor;
  return `${record.actor.slice(0, record.actor.indexOf(':'))}: ${record.actorDisplayName}`;
}

/** TheftResponse from a select whose options are exactly those. @param {HTMLSelectElement} select @returns {TheftResponse} */
function responseOf(select) {
  return select.value === 'report' ? 'report' : 'revoke';
}

/** Runs the page on the markup of views/partials/admin.hbs. @param {Api} api */
export function startAdmin(api) {
  const signedInAs = byId('admin-account', HTMLElement);
  const sessionsTable = byId('sessions', HTMLTableElement);
  const sessionsFilter = byId('sessions-filter', HTMLFormElement);
  const sessionsUser = byId('sessions-user', HTMLInputElement);
  const sessionsRefresh = byId('sessions-refresh', HTMLButtonElement);
  const sessionsMore = byId('sessions-more', HTMLButtonElement);
  const sessionsEmpty = byId('sessions-empty', HTMLElement);

  const signalsTable = byId('signals', HTMLTableElement);
  const signalsRefresh = byId('signals-refresh', HTMLButtonElement);
  const signalsMore = byId('signals-more', HTMLButtonElement);
  const signalsEmpty = byId('signals-empty', HTMLElement);

  const revokeForm = byId('revoke-user-form', HTMLFormElement);
  const revokeAccount = byId('revoke-account', HTMLInputElement);
  const revokeButton = byId('revoke-user', HTMLButtonElement);
  const revokeMessage = byId('revoke-message', HTMLElement);

  const resetSite = byId('reset-site', HTMLButtonElement);
  const resetConfirm = byId('reset-confirm', HTMLElement);
  const resetQuestion = byId('reset-question', HTMLElement);
  const resetYes = byId('reset-site-confirm', HTMLButtonElement);
  const resetNo = byId('reset-site-cancel', HTMLButtonElement);
  const resetMessage = byId('reset-message', HTMLElement);

  const policyForm = byId('policy-form', HTMLFormElement);
  const idle = byId('idle', HTMLInputElement);
  const absolute = byId('absolute', HTMLInputElement);
  const theftResponse = byId('theft-response', HTMLSelectElement);
  const agentChangeResponse = byId('agent-change-response', HTMLSelectElement);
  const keyBinding = byId('key-binding', HTMLInputElement);
  const policySave = byId('policy-save', HTMLButtonElement);
  const policySource = byId('policy-source', HTMLElement);
  const policyError = byId('policy-error', HTMLElement);

  const auditTable = byId('audit', HTMLTableElement);
  const auditFilter = byId('audit-filter', HTMLFormElement);
  const auditKind = byId('audit-kind', HTMLSelectElement);
  const auditUser = byId('audit-user', HTMLInputElement);
  const auditRefresh = byId('audit-refresh', HTMLButtonElement);
  const auditMore = byId('audit-more', HTMLButtonElement);
  const auditEmpty = byId('audit-empty', HTMLElement);

  let ended = false;
  // Set once a reset succeeds: the reset ends this page's session too, and the denial that follows should say so.
  /** @type {string | null} */
  let resetNotice = null;
  // While this page's own reset runs, its session ends with it: the reset's answer says so better than the live channel.
  let resetting = false;

  /** @param {Failure} error */
  function endPage(error) {
    ended = true;
    for (const table of [sessionsTable, signalsTable, auditTable]) {
      table.tBodies[0].textContent = '';
      table.removeAttribute('aria-busy');
    }
    for (const element of [sessionsMore, signalsMore, auditMore, sessionsEmpty, signalsEmpty, auditEmpty, resetConfirm, policyError]) element.classList.add('hidden');
    for (const control of document.querySelectorAll('button, input, select')) {
      if (control instanceof HTMLButtonElement || control instanceof HTMLInputElement || control instanceof HTMLSelectElement) control.disabled = true;
    }
    if (resetNotice && error.code === 'token_revoked') {
      showStatus('denied', error.code, 'Site reset', `${resetNotice} This page\u2019s session ended with them; reload the page to continue.`);
      return;
    }
    showStatus('denied', error.code, DENIED[error.code], DETAIL[error.code] || error.message);
  }

  /** @param {unknown} rejected */
  function showFailure(rejected) {
    if (ended) return;
    const error = asFailure(rejected);
    if (DENIED[error.code]) {
      endPage(error);
      return;
    }
    if (error.code === 'bad_request') {
      showStatus('invalid', error.code, '', error.message);
      return;
    }
    // Store down, server error, network: not a verdict on this page, so every control stays to try again.
    showStatus('unavailable', error.code, 'Unavailable', error.message);
  }

  /**
   * Says an action's refusal or outage beside the control that sent it (`message`); a denial ends the whole page, so
   * that one still goes to the status line.
   * @param {HTMLElement} message @param {unknown} rejected
   */
  function showFailureAt(message, rejected) {
    if (ended) return;
    const error = asFailure(rejected);
    if (DENIED[error.code]) endPage(error);
    else if (error.code === 'bad_request') showMessage(message, 'invalid', error.code, '', error.message);
    else showMessage(message, 'unavailable', error.code, 'Unavailable', error.message);
  }

  /** A call under /api/admin. @param {'GET' | 'PUT' | 'DELETE'} method @param {string} path @param {unknown} [body] */
  function call(method, path, body) {
    return api.call(method, `/api/admin${path}`, body);
  }

  /** Keeps `button` disabled while `promise` runs; once this page has ended, it stays disabled. @param {HTMLButtonElement} button @param {Promise<unknown>} promise */
  function whileRunning(button, promise) {
    return during(button, promise, () => ended);
  }

  // ---- live sessions --------------------------------------------------------

  /**
   * One user's pages on one device: who (by name, the account id as the tooltip), the browser and system, the
   * network, where the pages are open and how many. "End" ends each of them; "Revoke" every session of the user.
   * @param {{ key: string, sessions: Session[], lastSeenAt: number }} group
   */
  function deviceRow(group) {
    const first = group.sessions[0];
    const row = document.createElement('tr');
    row.setAttribute('data-account-id', first.accountId);
    row.setAttribute('data-count', String(group.sessions.length));
    row.setAttribute('data-session-ids', group.sessions.map((session) => session.id).join(' '));
    namedCell(row, first.displayName, first.accountId, 'user');
    cell(row, first.agent || 'Unknown device', 'device');
    cell(row, first.network, 'network');
    const pages = placesCell(row, group.sessions, 'places');
    const count = document.createElement('span');
    count.className = 'count meta';
    count.textContent = group.sessions.length === 1 ? '1 page' : `${group.sessions.length} pages`;
    pages.insertBefore(count, pages.firstChild);
    cell(row, when(group.lastSeenAt), 'last-seen');
    const actions = document.createElement('td');
    actions.className = 'actions';
    const who = first.displayName || first.accountId;
    const end = document.createElement('button');
    end.type = 'button';
    end.className = 'end secondary';
    end.setAttribute('aria-label', `End ${who}\u2019s ${group.sessions.length === 1 ? 'page' : 'pages'} on ${first.agent || 'this device'}`);
    end.textContent = 'End';
    end.addEventListener('click', () => {
      whileRunning(end, endDevice(group.sessions));
    });
    const revoke = document.createElement('button');
    revoke.type = 'button';
    revoke.className = 'revoke danger';
    revoke.setAttribute('data-account-id', first.accountId);
    revoke.setAttribute('aria-label', `Revoke every session of ${who}`);
    revoke.textContent = 'Revoke';
    revoke.addEventListener('click', () => {
      whileRunning(revoke, revokeUser(first.accountId));
    });
    actions.appendChild(end);
    actions.appendChild(revoke);
    row.appendChild(actions);
    return row;
  }

  /**
   * A table filled page by page. `load(false)` reads the filters afresh and replaces the rows; `load(true)`
   * appends the next page. A newer load makes the answers of older ones moot. `rows`, when given, draws every item
   * loaded so far at once (rows that group items, and grow as more pages load); otherwise each item is one `row`.
   * @template T
   * @param {{ table: HTMLTableElement, more: HTMLElement, empty: HTMLElement, path: string, items: string, cursorParam: string, nextField: string, row?(item: T): HTMLTableRowElement, rows?(items: T[]): HTMLTableRowElement[], filters(): Params }} spec
   * @returns {(more: boolean) => Promise<void>}
   */
  function pagedTable(spec) {
    /** @type {{ filters: Params, next: string | number | null, generation: number, loaded: T[] }} */
    const state = { filters: {}, next: null, generation: 0, loaded: [] };
    return function load(more) {
      if (ended) return Promise.resolve();
      if (!more) {
        state.generation += 1;
        state.filters = spec.filters();
      }
      const generation = state.generation;
      spec.table.setAttribute('aria-busy', 'true');
      const params = { limit: PAGE_SIZE, ...state.filters, [spec.cursorParam]: more ? state.next : '' };
      return call('GET', spec.path + query(params)).then((result) => {
        if (ended || generation !== state.generation) return;
        const page = /** @type {Record<string, unknown>} */ (result.body);
        const body = spec.table.tBodies[0];
        const items = /** @type {T[]} */ (page[spec.items]);
        state.loaded = more ? state.loaded.concat(items) : items;
        if (!more || spec.rows) body.textContent = '';
        const rows = spec.rows ? spec.rows(state.loaded) : items.map((item) => /** @type {(item: T) => HTMLTableRowElement} */ (spec.row)(item));
        for (const row of rows) body.appendChild(row);
        state.next = /** @type {string | number | null} */ (page[spec.nextField]);
        spec.more.classList.toggle('hidden', state.next === null);
        spec.empty.classList.toggle('hidden', body.rows.length > 0);
        spec.table.removeAttribute('aria-busy');
        spec.table.setAttribute('data-loaded', 'true');
      }, showFailure);
    };
  }

  const loadSessions = pagedTable({
    table: sessionsTable,
    more: sessionsMore,
    empty: sessionsEmpty,
    path: '/sessions',
    items: 'sessions',
    cursorParam: 'after',
    nextField: 'next',
    rows: (sessions) => byDevice(/** @type {Session[]} */ (sessions)).map(deviceRow),
    filters: () => ({ user: sessionsUser.value.trim() }),
  });

  // ---- suspicious sessions ---------------------------------------------------

  /** @param {AuditRecord} record */
  function signalRow(record) {
    const row = document.createElement('tr');
    row.setAttribute('data-record-id', String(record.id));
    if (record.accountId) row.setAttribute('data-account-id', record.accountId);
    const { detail } = record;
    if (detail) {
      row.setAttribute('data-kind', detail.kind);
      row.setAttribute('data-action', detail.action);
      row.setAttribute('data-session-id', detail.session);
    }
    cell(row, when(record.at), 'at');
    namedCell(row, record.displayName, record.accountId, 'user');
    resourceCell(row, record);
    cell(row, detail ? NOTICED[detail.kind] : record.reason, 'kind');
    cell(row, detail ? ACTED[detail.action] : null, 'action');
    if (detail) {
      sightingCell(row, detail.presented, 'presented');
      sightingCell(row, detail.holder, 'holder');
    } else {
      cell(row, null, 'presented');
      cell(row, null, 'holder');
    }
    return row;
  }

  const loadSignals = pagedTable({
    table: signalsTable,
    more: signalsMore,
    empty: signalsEmpty,
    path: '/audit',
    items: 'records',
    cursorParam: 'before',
    nextField: 'nextBefore',
    row: signalRow,
    filters: () => ({ kind: 'signal' }),
  });

  // ---- revoking -------------------------------------------------------------

  /**
   * Ends each of a device's sessions, then shows the tables afresh; one already gone is not a failure.
   * @param {Session[]} sessions @returns {Promise<void>}
   */
  function endDevice(sessions) {
    const ends = sessions.map((session) =>
      call('DELETE', `/users/${encodeURIComponent(session.accountId)}/sessions/${encodeURIComponent(session.id)}`).then(
        () => 1,
        (error) => {
          if (asFailure(error).code === 'not_found') return 0;
          throw error;
        }
      )
    );
    return Promise.all(ends).then(
      (outcomes) => {
        // The admin ended this page's own device: the live channel has already ended the page, and that says more.
        if (ended) return;
        const count = outcomes.reduce((sum, one) => sum + one, 0);
        showStatus('done', null, '', `Ended ${count} ${count === 1 ? 'session' : 'sessions'} on ${sessions[0].agent || 'that device'}.`);
        return refreshAll().then(() => undefined);
      },
      showFailure
    );
  }

  /** Resolves true once the user is revoked and the tables show it. @param {string} accountId @returns {Promise<boolean>} */
  function revokeUser(accountId) {
    return call('DELETE', `/users/${encodeURIComponent(accountId)}/sessions`).then(
      (result) => {
        // The admin revoked their own sessions: the live channel has already ended this page, and that says more.
        if (ended) return true;
        const confirmed = result.header('Revocation-Confirmed');
        showMessage(revokeMessage, 'done', null, '', `Revoked ${accountId}${confirmed ? `; ${confirmed} nodes confirmed.` : '.'}`);
        return refreshAll().then(() => true);
      },
      (error) => {
        const { code } = asFailure(error);
        if (code === 'not_found') showMessage(revokeMessage, 'invalid', code, '', `No such user: ${accountId} has no sessions and no record on this site.`);
        else showFailureAt(revokeMessage, error);
        return false;
      }
    );
  }

  revokeForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const accountId = revokeAccount.value.trim();
    if (accountId === '') {
      showMessage(revokeMessage, 'invalid', 'bad_request', '', 'Enter the account ID of the user to revoke.');
      revokeAccount.focus();
      return;
    }
    whileRunning(
      revokeButton,
      revokeUser(accountId).then((revoked) => {
        if (revoked) revokeAccount.value = '';
      })
    );
  });

  // ---- resetting the site ---------------------------------------------------

  function closeResetConfirm() {
    resetConfirm.classList.add('hidden');
    if (!ended) resetSite.disabled = false;
  }

  resetSite.addEventListener('click', () => {
    resetSite.disabled = true;
    call('GET', `/sessions${query({ limit: RESET_COUNT_LIMIT })}`).then(
      (result) => {
        if (ended) return;
        const { sessions, next } = /** @type {SessionPage} */ (result.body);
        const count = sessions.length;
        const counted = next === null ? String(count) : `${count} or more`;
        resetQuestion.textContent = `End all ${counted} live ${count === 1 && next === null ? 'session' : 'sessions'} on this site, this page\u2019s included?`;
        resetQuestion.setAttribute('data-count', String(count));
        resetConfirm.classList.remove('hidden');
        resetYes.focus();
      },
      (error) => {
        closeResetConfirm();
        showFailureAt(resetMessage, error);
      }
    );
  });

  resetNo.addEventListener('click', () => {
    closeResetConfirm();
    resetSite.focus();
  });

  resetYes.addEventListener('click', () => {
    resetting = true;
    whileRunning(
      resetYes,
      call('DELETE', '/sessions').finally(() => {
        resetting = false;
      }).then(
        (result) => {
          closeResetConfirm();
          const reset = /** @type {Reset} */ (result.body);
          resetNotice =
            `Ended ${reset.revoked}${reset.revoked === 1 ? ' session' : ' sessions'}` +
            (reset.confirmation ? `; ${confirmation(reset.confirmation)} nodes confirmed.` : '.');
          showMessage(resetMessage, 'done', null, 'Site reset', resetNotice);
          return refreshAll();
        },
        (error) => {
          closeResetConfirm();
          showFailureAt(resetMessage, error);
        }
      )
    );
  });

  // ---- policy ---------------------------------------------------------------

  /** @param {Policy} policy @param {boolean} isDefault */
  function showPolicy(policy, isDefault) {
    idle.value = String(policy.idleTimeoutSeconds);
    absolute.value = String(policy.absoluteLifetimeSeconds);
    theftResponse.value = policy.theftResponse;
    agentChangeResponse.value = policy.agentChangeResponse;
    keyBinding.checked = policy.keyBinding;
    policySource.textContent = isDefault ? 'Now: the default policy.' : 'Now: set by a site admin.';
  }

  /** @param {string} message */
  function showPolicyError(message) {
    policyError.className = 'invalid';
    policyError.textContent = message;
  }

  /** The label an admin reads beside the form's input for `field` (the API's name for it); the name itself when none. @param {string} field */
  function labelOf(field) {
    const input = policyForm.elements.namedItem(field);
    const label = input instanceof HTMLElement && input.id ? policyForm.querySelector(`label[for="${input.id}"]`) : null;
    return label?.textContent?.trim() || field;
  }

  /** Marks each input the server refused and says why, one line per setting, named by its label. @param {{ field: string, message: string }[]} fields */
  function showPolicyProblems(fields) {
    policyError.className = 'invalid';
    policyError.textContent = '';
    for (const { field, message } of fields) {
      const line = document.createElement('span');
      line.className = 'field-problem';
      line.setAttribute('data-field', field);
      line.textContent = `${labelOf(field)}: ${message}`;
      policyError.appendChild(line);
      const input = policyForm.elements.namedItem(field);
      if (input instanceof HTMLElement) input.setAttribute('aria-invalid', 'true');
    }
  }

  function clearPolicyProblems() {
    for (const input of policyForm.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  }

  function loadPolicy() {
    if (ended) return Promise.resolve();
    return call('GET', '/policy').then((result) => {
      if (ended) return;
      const { policy, isDefault } = /** @type {{ policy: Policy, isDefault: boolean }} */ (result.body);
      showPolicy(policy, isDefault);
      policyForm.setAttribute('data-loaded', 'true');
    }, showFailure);
  }

  /** @param {HTMLInputElement} input @param {string} name */
  function seconds(input, name) {
    const value = input.value.trim();
    if (value === '' || !isFinite(Number(value))) {
      showPolicyError(`Enter the ${name} as a whole number of seconds.`);
      input.focus();
      return null;
    }
    return Number(value);
  }

  policyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const idleSeconds = seconds(idle, 'idle timeout');
    if (idleSeconds === null) return;
    const absoluteSeconds = seconds(absolute, 'absolute lifetime');
    if (absoluteSeconds === null) return;
    /** @type {Policy} */
    const policy = {
      idleTimeoutSeconds: idleSeconds,
      absoluteLifetimeSeconds: absoluteSeconds,
      theftResponse: responseOf(theftResponse),
      agentChangeResponse: responseOf(agentChangeResponse),
      keyBinding: keyBinding.checked,
    };
    whileRunning(
      policySave,
      call('PUT', '/policy', policy).then(
        (result) => {
          const saved = /** @type {{ policy: Policy }} */ (result.body).policy;
          policyError.className = 'hidden';
          policyError.textContent = '';
          clearPolicyProblems();
          showPolicy(saved, false);
          showStatus(
            'done',
            null,
            '',
            `Policy saved: idle timeout ${saved.idleTimeoutSeconds} s, absolute lifetime ${saved.absoluteLifetimeSeconds} s; ` +
              `a copy used elsewhere: ${RESPONSE[saved.theftResponse]}; another browser: ${RESPONSE[saved.agentChangeResponse]}; ` +
              `key binding ${saved.keyBinding ? 'on' : 'off'}.`
          );
          return loadAudit(false);
        },
        (error) => {
          // The server names every setting it refused; the values stay in the form to fix.
          const failure = asFailure(error);
          clearPolicyProblems();
          if (failure.code === 'bad_request' && failure.fields?.length) showPolicyProblems(failure.fields);
          else if (failure.code === 'bad_request') showPolicyError(failure.message);
          else showFailure(error);
        }
      )
    );
  });

  // ---- audit log ------------------------------------------------------------

  /** @param {AuditRecord} record */
  function auditRow(record) {
    const row = document.createElement('tr');
    row.setAttribute('data-record-id', String(record.id));
    row.setAttribute('data-kind', record.kind);
    if (record.accountId) row.setAttribute('data-account-id', record.accountId);
    cell(row, when(record.at), 'at');
    cell(row, record.kind, 'kind');
    namedCell(row, record.displayName, record.accountId, 'user');
    namedCell(row, actorLabel(record), record.actor, 'actor');
    cell(row, record.reason, 'reason');
    resourceCell(row, record);
    cell(row, record.count, 'count');
    cell(row, confirmation(record.confirmation), 'confirmation');
    return row;
  }

  const loadAudit = pagedTable({
    table: auditTable,
    more: auditMore,
    empty: auditEmpty,
    path: '/audit',
    items: 'records',
    cursorParam: 'before',
    nextField: 'nextBefore',
    row: auditRow,
    filters: () => ({ kind: auditKind.value, user: auditUser.value.trim() }),
  });

  /**
   * "Signed in as" by the admin's display name, the account id as the tooltip. A failure here keeps the id: the
   * tables' own calls say any denial or outage.
   */
  function loadSignedIn() {
    return call('GET', '/me').then(
      (answer) => {
        const { accountId, displayName } = /** @type {{ accountId: string | null, displayName: string | null }} */ (answer.body);
        if (ended || !accountId) return;
        signedInAs.textContent = displayName || accountId;
        signedInAs.title = accountId;
        signedInAs.setAttribute('data-account-id', accountId);
      },
      () => undefined,
    );
  }

  // ---- wiring ---------------------------------------------------------------

  function refreshAll() {
    return Promise.all([loadSessions(false), loadAudit(false)]);
  }

  sessionsFilter.addEventListener('submit', (event) => {
    event.preventDefault();
    loadSessions(false);
  });
  sessionsRefresh.addEventListener('click', () => {
    loadSessions(false);
  });
  sessionsMore.addEventListener('click', () => {
    whileRunning(sessionsMore, loadSessions(true));
  });

  signalsRefresh.addEventListener('click', () => {
    loadSignals(false);
  });
  signalsMore.addEventListener('click', () => {
    whileRunning(signalsMore, loadSignals(true));
  });

  auditFilter.addEventListener('submit', (event) => {
    event.preventDefault();
    loadAudit(false);
  });
  auditKind.addEventListener('change', () => {
    loadAudit(false);
  });
  auditRefresh.addEventListener('click', () => {
    loadAudit(false);
  });
  auditMore.addEventListener('click', () => {
    whileRunning(auditMore, loadAudit(true));
  });

  loadSignedIn();
  loadSessions(false);
  loadSignals(false);
  loadPolicy();
  loadAudit(false);
  // Where the door has a live channel, a session ended elsewhere ends this page at once.
  api.live?.('app:admin', (failure) => {
    if (!resetting) showFailure(failure);
  });
}
