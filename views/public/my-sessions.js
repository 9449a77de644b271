// The "my sessions" page's script: lists the user's own sessions and ends one or all others, with the page token; a denial ends the page.
(function () {
  'use strict';
  var page = window.PanelGuardPage;
  var table = document.getElementById('sessions');
  var endOthers = document.getElementById('end-others');
  var refresh = document.getElementById('refresh');

  // Denials end this page's use of its token: nothing shown, nothing more to click. Under the headline, what to do next.
  var DETAIL = {
    token_revoked: 'This page\u2019s session was ended by the site or an administrator. Reload the page to start again if you still have access.',
    token_expired: 'This page reached the end of its session. Reload the page to continue.',
    token_idle: 'This page was idle too long. Reload the page to continue.',
  };

  var ended = false;
  var generation = 0;

  function showFailure(error) {
    if (ended) return;
    if (page.DENIED[error.code]) {
      ended = true;
      table.tBodies[0].textContent = '';
      Array.prototype.forEach.call(document.querySelectorAll('button'), function (button) {
        button.disabled = true;
      });
      page.showStatus('denied', error.code, page.DENIED[error.code], DETAIL[error.code] || error.message);
      return;
    }
    // Store down, server error, network: not a verdict on this page, so Refresh stays to try again.
    page.showStatus('unavailable', error.code, 'Unavailable', error.message);
  }

  /** Answers the JSON body (null for 204); a failure is thrown as the server's { code, message }. */
  function call(method, path) {
    return page.call(method, '/api/me/sessions' + path).then(function (answer) {
      return answer.body;
    });
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

  /** Keeps `button` disabled while `promise` runs; once this page has ended, it stays disabled. */
  function during(button, promise) {
    return page.during(button, promise, function () {
      return ended;
    });
  }

  function row(session) {
    var tr = document.createElement('tr');
    tr.setAttribute('data-session-id', session.id);
    tr.setAttribute('data-resource', session.resource);
    tr.setAttribute('data-current', session.current ? 'true' : 'false');
    var place = page.cell(tr, where(session.resource), 'where');
    if (session.current) {
      tr.className = 'current';
      var badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = 'this session';
      place.appendChild(document.createTextNode(' '));
      place.appendChild(badge);
    }
    page.cell(tr, session.device || 'Unknown device', 'device');
    page.cell(tr, session.ip, 'ip');
    page.cell(tr, page.when(session.startedAt), 'started');
    page.cell(tr, page.when(session.lastSeenAt), 'last-seen');
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
      page.showStatus(notice.className, notice.code || null, '', notice.text);
      return;
    }
    page.showStatus('', null, '', others === 0 ? 'No other sessions.' : others === 1 ? '1 other session.' : others + ' other sessions.');
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
