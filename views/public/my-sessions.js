// @ts-check
/**
 * The "my sessions" page's logic: lists the user's own sessions and ends one or all others through the page's API,
 * and tells the user what theft detection noticed about their sessions; a denial ends the page.
 */
import { asFailure, byDevice, byId, cell, DENIED, during, placeOf, placesCell, showStatus, when } from './page.js';

/** @typedef {import('./page.js').Api} Api */
/**
 * One of the user's sessions; `issueKey` and `projectKey` are null where the host could not name the issue or project
 * in time, and for other resources. `agent` and `network` are the device it is grouped by.
 * @typedef {{ id: string, resource: string, issueKey: string | null, projectKey: string | null, current: boolean, device: string | null, ip: string | null, agent: string | null, network: string | null, startedAt: number, lastSeenAt: number }} Session
 */
/** @typedef {{ key: string, sessions: Session[], lastSeenAt: number }} Device */
/** @typedef {{ revoked: number, confirmation: { confirmed: number, expected: number } | null }} Ended */
/** The outcome of an action, shown instead of the count. @typedef {{ className: string, code?: string, text: string }} Notice */
/** One side of a signal: the network (by prefix) and browser a session was used from, and when. @typedef {{ network: string | null, agent: string | null, at: number }} Sighting */
/**
 * `issueKey` and `projectKey` are null where the host could not name the signal's issue or project in time, and for
 * other resources.
 * @typedef {{ at: number, kind: 'fork' | 'network_changed' | 'agent_changed', action: 'revoked' | 'reported', resource: string | null, issueKey: string | null, projectKey: string | null, presented: Sighting, holder: Sighting }} Signal
 */

// Denials end this page's use of its token: nothing shown, nothing more to click. Under the headline, what to do next.
/** @type {Readonly<Record<string, string>>} */
const DETAIL = {
  token_revoked: 'This page\u2019s session was ended by the site or an administrator. Reload the page to start again if you still have access.',
  token_expired: 'This page reached the end of its session. Reload the page to continue.',
  token_idle: 'This page was idle too long. Reload the page to continue.',
};

/** "203.0.113.0/24, Chrome on Linux": where a sighting came from, as far as it is known. @param {Sighting} sighting */
function place(sighting) {
  const known = [sighting.network, sighting.agent].filter(Boolean);
  return known.length === 0 ? 'an unknown place' : known.join(', ');
}

/**
 * A signal in the user's words. A stolen copy is the news; a session that moved to another network or browser is
 * usually the user themselves, so it is said quietly.
 * @param {Signal} signal @returns {{ className: string, text: string }}
 */
function describeSignal(signal) {
  const session = signal.resource ? `one of your sessions (${placeOf(signal.resource, signal)})` : 'one of your sessions';
  const ended = signal.action === 'revoked' ? '; it was ended.' : '.';
  switch (signal.kind) {
    case 'fork': {
      // The server knows two places used the session, not which was the user: whoever was left behind is "presented",
      // and that may be the user's own page. Both are named, so the user can tell which one was not theirs.
      const elsewhere = place(signal.holder) === place(signal.presented) ? '' : `, while it was also in use from ${place(signal.holder)}`;
      return {
        className: 'alert',
        text:
          `A copy of ${session} was used from ${place(signal.presented)} at ${when(signal.presented.at)}${elsewhere}` +
          (signal.action === 'revoked' ? '; it was ended.' : '; your site only records this, so it was not ended.'),
      };
    }
    case 'agent_changed':
      return { className: 'quiet', text: `${capitalised(session)} carried on in another browser (${place(signal.presented)}) at ${when(signal.presented.at)}${ended}` };
    default:
      return { className: 'quiet', text: `${capitalised(session)} carried on from another network (${place(signal.presented)}) at ${when(signal.presented.at)}${ended}` };
  }
}

/** @param {string} text */
function capitalised(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Runs the page on the markup of views/partials/my-sessions.hbs. @param {Api} api */
export function startMySessions(api) {
  const table = byId('sessions', HTMLTableElement);
  const signalList = byId('signals', HTMLUListElement);
  const endOthers = byId('end-others', HTMLButtonElement);
  const refresh = byId('refresh', HTMLButtonElement);

  let ended = false;
  let generation = 0;

  /** @param {unknown} error */
  function showFailure(error) {
    if (ended) return;
    const { code, message } = asFailure(error);
    if (DENIED[code]) {
      ended = true;
      table.tBodies[0].textContent = '';
      signalList.textContent = '';
      signalList.classList.add('hidden');
      for (const button of document.querySelectorAll('button')) button.disabled = true;
      showStatus('denied', code, DENIED[code], DETAIL[code] || message);
      return;
    }
    // Store down, server error, network: not a verdict on this page, so Refresh stays to try again.
    showStatus('unavailable', code, 'Unavailable', message);
  }

  /** The JSON body of a call under /api/me/sessions (null for 204). @param {'GET' | 'DELETE'} method @param {string} path */
  function call(method, path) {
    return api.call(method, `/api/me/sessions${path}`).then((answer) => answer.body);
  }

  /** Keeps `button` disabled while `promise` runs; once this page has ended, it stays disabled. @param {HTMLButtonElement} button @param {Promise<unknown>} promise */
  function whileRunning(button, promise) {
    return during(button, promise, () => ended);
  }

  /**
   * One device: its browser and system, network, the pages open there and when it was last used. "End" ends each of
   * its pages; on this page's own device, each of the others (this page stays, as with "End all other sessions").
   * @param {Device} device
   */
  function row(device) {
    const tr = document.createElement('tr');
    const current = device.sessions.some((session) => session.current);
    const others = device.sessions.filter((session) => !session.current);
    tr.setAttribute('data-count', String(device.sessions.length));
    tr.setAttribute('data-current', current ? 'true' : 'false');
    tr.setAttribute('data-session-ids', device.sessions.map((session) => session.id).join(' '));
    const first = device.sessions[0];
    const where = cell(tr, first.agent || 'Unknown device', 'device');
    if (current) {
      tr.className = 'current';
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = 'this device, with this page';
      where.appendChild(document.createTextNode(' '));
      where.appendChild(badge);
    }
    cell(tr, first.network, 'network');
    const pages = placesCell(tr, device.sessions, 'places');
    const count = document.createElement('span');
    count.className = 'count meta';
    count.textContent = device.sessions.length === 1 ? '1 page' : `${device.sessions.length} pages`;
    pages.insertBefore(count, pages.firstChild);
    // The place this page stands for is marked, so the row says which of its pages is the one in hand.
    const here = device.sessions.find((session) => session.current);
    if (here) pages.querySelector(`span.place[data-resource="${CSS.escape(here.resource)}"]`)?.classList.add('this-page');
    cell(tr, when(device.lastSeenAt), 'last-seen');
    const actions = document.createElement('td');
    actions.className = 'actions';
    // This page's own session is never ended from its own row: "End" is for the pages beside it.
    if (others.length > 0) {
      const end = document.createElement('button');
      end.type = 'button';
      end.className = 'end secondary';
      const name = first.agent || 'this device';
      end.setAttribute('aria-label', current ? `End the other pages on ${name}` : `End the pages on ${name}`);
      end.textContent = current ? 'End the others' : 'End';
      end.addEventListener('click', () => {
        whileRunning(end, endSessions(others, name));
      });
      actions.appendChild(end);
    }
    tr.appendChild(actions);
    return tr;
  }

  /** @param {Session[]} sessions @param {Notice} [notice] */
  function render(sessions, notice) {
    const body = table.tBodies[0];
    body.textContent = '';
    // This page's device first: it is the one the user is looking at.
    const devices = byDevice(sessions);
    const here = devices.filter((device) => device.sessions.some((session) => session.current));
    for (const device of here.concat(devices.filter((device) => !here.includes(device)))) body.appendChild(row(device));
    const others = sessions.filter((session) => !session.current);
    endOthers.disabled = others.length === 0;
    if (notice) {
      showStatus(notice.className, notice.code || null, '', notice.text);
      return;
    }
    showStatus('', null, '', others.length === 0 ? 'No other sessions.' : others.length === 1 ? '1 other session.' : `${others.length} other sessions.`);
  }

  /** Lists the sessions; `notice` (the outcome of an action) takes the status line instead of the count. @param {Notice} [notice] */
  function load(notice) {
    if (ended) return Promise.resolve();
    generation += 1;
    const mine = generation;
    table.setAttribute('aria-busy', 'true');
    return call('GET', '').then((payload) => {
      if (ended || mine !== generation) return;
      table.removeAttribute('aria-busy');
      render(/** @type {{ sessions: Session[] }} */ (payload).sessions, notice);
    }, showFailure);
  }

  /** @param {Signal[]} signals */
  function renderSignals(signals) {
    signalList.textContent = '';
    for (const signal of signals) {
      const { className, text } = describeSignal(signal);
      const item = document.createElement('li');
      item.className = className;
      item.setAttribute('data-kind', signal.kind);
      item.setAttribute('data-action', signal.action);
      item.textContent = text;
      signalList.appendChild(item);
    }
    signalList.classList.toggle('hidden', signals.length === 0);
    signalList.setAttribute('data-loaded', 'true');
  }

  function loadSignals() {
    if (ended) return Promise.resolve();
    return api.call('GET', '/api/me/signals').then((answer) => {
      if (!ended) renderSignals(/** @type {{ signals: Signal[] }} */ (answer.body).signals);
    }, showFailure);
  }

  /**
   * Ends each of `sessions` (a device's pages), then lists afresh; one that had already ended is not a failure.
   * @param {Session[]} sessions @param {string} device
   */
  function endSessions(sessions, device) {
    const ends = sessions.map((session) =>
      call('DELETE', `/${encodeURIComponent(session.id)}`).then(
        () => 1,
        (error) => {
          if (asFailure(error).code === 'not_found') return 0;
          throw error;
        }
      )
    );
    return Promise.all(ends).then((outcomes) => {
      const count = outcomes.reduce((sum, one) => sum + one, 0);
      if (count === 0) return load({ className: 'invalid', code: 'not_found', text: 'Those sessions had already ended.' });
      return load({ className: 'done', text: `Ended ${count} ${count === 1 ? 'session' : 'sessions'} on ${device}.` });
    }, showFailure);
  }

  endOthers.addEventListener('click', () => {
    // Stays disabled until the fresh list says whether any other session is left.
    endOthers.disabled = true;
    call('DELETE', '').then(
      (payload) => {
        const { revoked, confirmation } = /** @type {Ended} */ (payload);
        const confirmed = confirmation ? `; ${confirmation.confirmed}/${confirmation.expected} nodes confirmed` : '';
        const text = revoked === 0 ? 'There were no other sessions to end.' : `Ended ${revoked}${revoked === 1 ? ' other session' : ' other sessions'}${confirmed}.`;
        return load({ className: 'done', text });
      },
      (error) => {
        showFailure(error);
        if (!ended) endOthers.disabled = false;
      }
    );
  });
  refresh.addEventListener('click', () => {
    load();
    loadSignals();
  });
  load();
  loadSignals();
  // Where the door has a live channel, a session ended elsewhere ends this page at once.
  api.live?.('app:self', showFailure);
}
