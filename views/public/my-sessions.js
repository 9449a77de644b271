// The "my sessions" page's script: lists the user's own sessions and ends one or all others, with the page token; a denial ends the page.
(function () {
  'use strict';
  var token = document.querySelector('meta[name="page-token"]').content;
  var table = document.getElementById('sessions');
  var endOthers = document.getElementById('end-others');
  var refresh = document.getElementById('refresh');
  var status = document.getElementById('status');

  // Denials end this page's use of its token: nothing shown, nothing more to click. The headline names what happened.
  var DENIED = {
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
  };
  var DETAIL = {
    token_revoked: 'This page\u2019s session was ended by the site or an administrator. Reload the page to start again if you still have access.',
    token_expired: 'This page reached the end of its session. Reload the page to continue.',
    token_idle: 'This page was idle too long. Reload the page to continue.',
  };

  var ended = false;
  var generation = 0;

  function failure(code, message) {
    return { code: code, message: message };
  }

  function showStatus(className, code, headline, detail) {
    status.className = className;
    if (code) status.setAttribute('data-code', code);
    else status.removeAttribute('data-code');
    status.textContent = '';
    if (headline) {
      var strong = document.createElement('strong');
      strong.textContent = headline + ': ';
      status.appendChild(strong);
    }
    status.appendChild(document.createTextNode(detail));
  }

  function showFailure(error) {
    if (ended) return;
    if (DENIED[error.code]) {
      ended = true;
      table.tBodies[0].textContent = '';
      Array.prototype.forEach.call(document.querySelectorAll('button'), function (button) {
        button.disabled = true;
      });
      showStatus('denied', error.code, DENIED[error.code], DETAIL[error.code] || error.message);
      return;
    }
    // Store down, server error, network: not a verdict on this page, so Refresh stays to try again.
    showStatus('unavailable', error.code, 'Unavailable', error.message);
  }

  /** Answers the JSON body (null for 204); a failure is thrown as the server's { code, message }. */
  function call(method, path) {
    var init = { method: method, headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' } };
    return fetch('/api/me/sessions' + path, init).then(
      function (response) {
        if (response.status === 204) return null;
        return response.json().then(
          function (payload) {
            if (!response.ok) throw (payload && payload.error) || failure('internal_error', 'Request failed (' + response.status + ').');
            return payload;
          },
          function () {
            throw failure('internal_error', 'The app answered ' + response.status + ' with something that is not JSON.');
          }
        );
      },
      function () {
        throw failure('network_error', 'The app could not be reached; try again.');
      }
    );
  }

  /** What a session was opened on, in the product's words. */
  function where(resource) {
    var match = /^jira:issue:(.+)$/.exec(resource);
    if (match) return 'Issue ' + match[1];
    match = /^jira:project:(.+)$/.exec(resource);
    if (match) return 'Project ' + match[1];
    if (resource === 'app:admin') return 'Admin page';
    if (resource === 'app:self') return 'My sessions page';
    return resource;
  }

  function when(epochMs) {
    return epochMs === null || epochMs === undefined ? '\u2014' : new Date(epochMs).toLocaleString();
  }

  function cell(row, text, className) {
    var td = document.createElement('td');
    td.className = className;
    td.textContent = text === null || text === undefined || text === '' ? '\u2014' : String(text);
    row.appendChild(td);
    return td;
  }

  /** Keeps `button` disabled while `promise` runs, so an action is not sent twice. */
  function during(button, promise) {
    button.disabled = true;
    function release() {
      if (!ended) button.disabled = false;
    }
    return promise.then(release, release);
  }

  function row(session) {
    var tr = document.createElement('tr');
    tr.setAttribute('data-session-id', session.id);
    tr.setAttribute('data-resource', session.resource);
    tr.setAttribute('data-current', session.current ? 'true' : 'false');
    var place = cell(tr, where(session.resource), 'where');
    if (session.current) {
      tr.className = 'current';
      var badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = 'this session';
      place.appendChild(document.createTextNode(' '));
      place.appendChild(badge);
    }
    cell(tr, session.device || 'Unknown device', 'device');
    cell(tr, session.ip, 'ip');
    cell(tr, when(session.startedAt), 'started');
    cell(tr, when(session.lastSeenAt), 'last-seen');
    var actions = document.createElement('td');
    actions.className = 'actions';
    // Ending the current session would leave this page nothing to act with; "End" is for the others.
    if (!session.current) {
      var end = document.createElement('button');
      end.type = 'button';
      end.className = 'end secondary';
      end.setAttribute('data-session-id', session.id);
      end.setAttribute('aria-label', 'End the session on ' + where(session.resource));
      end.textContent = 'End';
      end.addEventListener('click', function () {
        during(end, endSession(session));
      });
      actions.appendChild(end);
    }
    tr.appendChild(actions);
    return tr;
  }

  function render(sessions, notice) {
    var body = table.tBodies[0];
    body.textContent = '';
    // The current session first: it is the one the user is looking at.
    sessions
      .filter(function (session) { return session.current; })
      .concat(sessions.filter(function (session) { return !session.current; }))
      .forEach(function (session) {
        body.appendChild(row(session));
      });
    var others = sessions.length - sessions.filter(function (session) { return session.current; }).length;
    endOthers.disabled = others === 0;
    if (notice) {
      showStatus(notice.className, notice.code || null, '', notice.text);
      return;
    }
    showStatus('', null, '', others === 0 ? 'No other sessions.' : others === 1 ? '1 other session.' : others + ' other sessions.');
  }

  /** Lists the sessions; `notice` (the outcome of an action) takes the status line instead of the count. */
  function load(notice) {
    if (ended) return Promise.resolve();
    generation += 1;
    var mine = generation;
    table.setAttribute('aria-busy', 'true');
    return call('GET', '').then(function (payload) {
      if (ended || mine !== generation) return;
      table.removeAttribute('aria-busy');
      render(payload.sessions, notice);
    }, showFailure);
  }

  function endSession(session) {
    return call('DELETE', '/' + encodeURIComponent(session.id)).then(
      function () {
        return load({ className: 'done', text: 'Ended the session on ' + where(session.resource) + '.' });
      },
      function (error) {
        if (error.code === 'not_found') return load({ className: 'invalid', code: error.code, text: 'That session had already ended.' });
        showFailure(error);
      }
    );
  }

  endOthers.addEventListener('click', function () {
    // Stays disabled until the fresh list says whether any other session is left.
    endOthers.disabled = true;
    call('DELETE', '').then(
      function (payload) {
        var revoked = payload.revoked;
        var confirmed = payload.confirmation ? '; ' + payload.confirmation.confirmed + '/' + payload.confirmation.expected + ' nodes confirmed' : '';
        var text = revoked === 0 ? 'There were no other sessions to end.' : 'Ended ' + revoked + (revoked === 1 ? ' other session' : ' other sessions') + confirmed + '.';
        return load({ className: 'done', text: text });
      },
      function (error) {
        showFailure(error);
        if (!ended) endOthers.disabled = false;
      }
    );
  });
  refresh.addEventListener('click', function () {
    load();
  });
  load();
})();
