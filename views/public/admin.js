// The admin page's script: live sessions, revoking a user or the whole site, the session policy and the audit log, with the page token; a denial ends the page.
(function () {
  'use strict';
  var page = window.PanelGuardPage;

  var sessionsTable = document.getElementById('sessions');
  var sessionsFilter = document.getElementById('sessions-filter');
  var sessionsUser = document.getElementById('sessions-user');
  var sessionsRefresh = document.getElementById('sessions-refresh');
  var sessionsMore = document.getElementById('sessions-more');
  var sessionsEmpty = document.getElementById('sessions-empty');

  var revokeForm = document.getElementById('revoke-user-form');
  var revokeAccount = document.getElementById('revoke-account');
  var revokeButton = document.getElementById('revoke-user');

  var resetSite = document.getElementById('reset-site');
  var resetConfirm = document.getElementById('reset-confirm');
  var resetQuestion = document.getElementById('reset-question');
  var resetYes = document.getElementById('reset-site-confirm');
  var resetNo = document.getElementById('reset-site-cancel');

  var policyForm = document.getElementById('policy-form');
  var idle = document.getElementById('idle');
  var absolute = document.getElementById('absolute');
  var policySave = document.getElementById('policy-save');
  var policySource = document.getElementById('policy-source');
  var policyError = document.getElementById('policy-error');

  var auditTable = document.getElementById('audit');
  var auditFilter = document.getElementById('audit-filter');
  var auditKind = document.getElementById('audit-kind');
  var auditUser = document.getElementById('audit-user');
  var auditRefresh = document.getElementById('audit-refresh');
  var auditMore = document.getElementById('audit-more');
  var auditEmpty = document.getElementById('audit-empty');

  var PAGE_SIZE = 50;
  // The most a reset's confirm step counts before it says "or more".
  var RESET_COUNT_LIMIT = 200;

  // Denials end this page's use of its token: tables emptied, every control disabled. Under the headline, what to do next.
  var DETAIL = {
    token_revoked: 'This page\u2019s session was ended. Reload the page to start again if you are still a site admin.',
    token_expired: 'This page reached the end of its session. Reload the page to continue.',
    token_idle: 'This page was idle too long. Reload the page to continue.',
    forbidden: 'Only site admins can use this page.',
  };

  var ended = false;
  // Set once a reset succeeds: the reset ends this page's session too, and the denial that follows should say so.
  var resetNotice = null;

  function endPage(error) {
    ended = true;
    [sessionsTable, auditTable].forEach(function (table) {
      table.tBodies[0].textContent = '';
      table.removeAttribute('aria-busy');
    });
    [sessionsMore, auditMore, sessionsEmpty, auditEmpty, resetConfirm, policyError].forEach(function (element) {
      element.classList.add('hidden');
    });
    Array.prototype.forEach.call(document.querySelectorAll('button, input, select'), function (control) {
      control.disabled = true;
    });
    if (resetNotice && error.code === 'token_revoked') {
      page.showStatus('denied', error.code, 'Site reset', resetNotice + ' This page\u2019s session ended with them; reload the page to continue.');
      return;
    }
    page.showStatus('denied', error.code, page.DENIED[error.code], DETAIL[error.code] || error.message);
  }

  function showFailure(error) {
    if (ended) return;
    if (page.DENIED[error.code]) {
      endPage(error);
      return;
    }
    if (error.code === 'bad_request') {
      page.showStatus('invalid', error.code, '', error.message);
      return;
    }
    // Store down, server error, network: not a verdict on this page, so every control stays to try again.
    page.showStatus('unavailable', error.code, 'Unavailable', error.message);
  }

  /** Answers { body, headers }; a failure is thrown as the server's { code, message }. */
  function call(method, path, body) {
    return page.call(method, '/api/admin' + path, body);
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (name) {
      var value = params[name];
      if (value !== '' && value !== null && value !== undefined) parts.push(name + '=' + encodeURIComponent(value));
    });
    return parts.length === 0 ? '' : '?' + parts.join('&');
  }

  /** Keeps `button` disabled while `promise` runs; once this page has ended, it stays disabled. */
  function during(button, promise) {
    return page.during(button, promise, function () {
      return ended;
    });
  }

  function confirmation(value) {
    return value ? value.confirmed + '/' + value.expected : null;
  }

  // ---- live sessions --------------------------------------------------------

  function sessionRow(session) {
    var row = document.createElement('tr');
    row.setAttribute('data-session-id', session.id);
    row.setAttribute('data-account-id', session.accountId);
    row.setAttribute('data-resource', session.resource);
    page.cell(row, session.accountId, 'user');
    page.cell(row, session.resource, 'resource');
    page.cell(row, session.device || 'Unknown device', 'device');
    page.cell(row, session.ip, 'ip');
    page.cell(row, page.when(session.startedAt), 'started');
    page.cell(row, page.when(session.lastSeenAt), 'last-seen');
    var actions = document.createElement('td');
    actions.className = 'actions';
    var revoke = document.createElement('button');
    revoke.type = 'button';
    revoke.className = 'revoke danger';
    revoke.setAttribute('data-account-id', session.accountId);
    revoke.setAttribute('aria-label', 'Revoke every session of ' + session.accountId);
    revoke.textContent = 'Revoke';
    revoke.addEventListener('click', function () {
      during(revoke, revokeUser(session.accountId));
    });
    actions.appendChild(revoke);
    row.appendChild(actions);
    return row;
  }

  /**
   * A table filled page by page. `load(false)` reads the filters afresh and replaces the rows; `load(true)`
   * appends the next page. A newer load makes the answers of older ones moot.
   */
  function pagedTable(spec) {
    var state = { filters: {}, next: null, generation: 0 };
    return function load(more) {
      if (ended) return Promise.resolve();
      if (!more) {
        state.generation += 1;
        state.filters = spec.filters();
      }
      var generation = state.generation;
      spec.table.setAttribute('aria-busy', 'true');
      var params = Object.assign({ limit: PAGE_SIZE }, state.filters);
      params[spec.cursorParam] = more ? state.next : '';
      return call('GET', spec.path + query(params)).then(function (result) {
        if (ended || generation !== state.generation) return;
        var body = spec.table.tBodies[0];
        if (!more) body.textContent = '';
        result.body[spec.items].forEach(function (item) {
          body.appendChild(spec.row(item));
        });
        state.next = result.body[spec.nextField];
        spec.more.classList.toggle('hidden', state.next === null);
        spec.empty.classList.toggle('hidden', body.rows.length > 0);
        spec.table.removeAttribute('aria-busy');
        spec.table.setAttribute('data-loaded', 'true');
      }, showFailure);
    };
  }

  var loadSessions = pagedTable({
    table: sessionsTable,
    more: sessionsMore,
    empty: sessionsEmpty,
    path: '/sessions',
    items: 'sessions',
    cursorParam: 'after',
    nextField: 'next',
    row: sessionRow,
    filters: function () {
      return { user: sessionsUser.value.trim() };
    },
  });

  // ---- revoking -------------------------------------------------------------

  /** Resolves true once the user is revoked and the tables show it. */
  function revokeUser(accountId) {
    return call('DELETE', '/users/' + encodeURIComponent(accountId) + '/sessions').then(
      function (result) {
        var confirmed = result.headers.get('Revocation-Confirmed');
        page.showStatus('done', null, '', 'Revoked ' + accountId + (confirmed ? '; ' + confirmed + ' nodes confirmed.' : '.'));
        return refreshAll().then(function () {
          return true;
        });
      },
      function (error) {
        if (error.code === 'not_found') page.showStatus('invalid', error.code, '', 'No such user: ' + accountId + ' has no sessions and no record on this site.');
        else showFailure(error);
        return false;
      }
    );
  }

  revokeForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var accountId = revokeAccount.value.trim();
    if (accountId === '') {
      page.showStatus('invalid', 'bad_request', '', 'Enter the account ID of the user to revoke.');
      revokeAccount.focus();
      return;
    }
    during(
      revokeButton,
      revokeUser(accountId).then(function (revoked) {
        if (revoked) revokeAccount.value = '';
      })
    );
  });

  // ---- resetting the site ---------------------------------------------------

  function closeResetConfirm() {
    resetConfirm.classList.add('hidden');
    if (!ended) resetSite.disabled = false;
  }

  resetSite.addEventListener('click', function () {
    resetSite.disabled = true;
    call('GET', '/sessions' + query({ limit: RESET_COUNT_LIMIT })).then(
      function (result) {
        if (ended) return;
        var count = result.body.sessions.length;
        var counted = result.body.next === null ? String(count) : count + ' or more';
        resetQuestion.textContent =
          'End all ' + counted + ' live ' + (count === 1 && result.body.next === null ? 'session' : 'sessions') + ' on this site, this page\u2019s included?';
        resetQuestion.setAttribute('data-count', String(count));
        resetConfirm.classList.remove('hidden');
        resetYes.focus();
      },
      function (error) {
        closeResetConfirm();
        showFailure(error);
      }
    );
  });

  resetNo.addEventListener('click', function () {
    closeResetConfirm();
    resetSite.focus();
  });

  resetYes.addEventListener('click', function () {
    during(
      resetYes,
      call('DELETE', '/sessions').then(
        function (result) {
          closeResetConfirm();
          var revoked = result.body.revoked;
          resetNotice =
            'Ended ' + revoked + (revoked === 1 ? ' session' : ' sessions') +
            (result.body.confirmation ? '; ' + confirmation(result.body.confirmation) + ' nodes confirmed.' : '.');
          page.showStatus('done', null, 'Site reset', resetNotice);
          return refreshAll();
        },
        function (error) {
          closeResetConfirm();
          showFailure(error);
        }
      )
    );
  });

  // ---- policy ---------------------------------------------------------------

  function showPolicy(policy, isDefault) {
    idle.value = String(policy.idleTimeoutSeconds);
    absolute.value = String(policy.absoluteLifetimeSeconds);
    policySource.textContent = isDefault ? 'Now: the default policy.' : 'Now: set by a site admin.';
  }

  function showPolicyError(message) {
    policyError.className = 'invalid';
    policyError.textContent = message;
  }

  function loadPolicy() {
    if (ended) return Promise.resolve();
    return call('GET', '/policy').then(function (result) {
      if (ended) return;
      showPolicy(result.body.policy, result.body.isDefault);
      policyForm.setAttribute('data-loaded', 'true');
    }, showFailure);
  }

  function seconds(input, name) {
    var value = input.value.trim();
    if (value === '' || !isFinite(Number(value))) {
      showPolicyError('Enter the ' + name + ' as a whole number of seconds.');
      input.focus();
      return null;
    }
    return Number(value);
  }

  policyForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var idleSeconds = seconds(idle, 'idle timeout');
    if (idleSeconds === null) return;
    var absoluteSeconds = seconds(absolute, 'absolute lifetime');
    if (absoluteSeconds === null) return;
    var policy = { idleTimeoutSeconds: idleSeconds, absoluteLifetimeSeconds: absoluteSeconds };
    during(
      policySave,
      call('PUT', '/policy', policy).then(
        function (result) {
          policyError.className = 'hidden';
          policyError.textContent = '';
          showPolicy(result.body.policy, false);
          page.showStatus(
            'done',
            null,
            '',
            'Policy saved: idle timeout ' + result.body.policy.idleTimeoutSeconds + ' s, absolute lifetime ' + result.body.policy.absoluteLifetimeSeconds + ' s.'
          );
          return loadAudit(false);
        },
        function (error) {
          // The server names the field that is out of range; the values stay in the form to fix.
          if (error.code === 'bad_request') showPolicyError(error.message);
          else showFailure(error);
        }
      )
    );
  });

  // ---- audit log ------------------------------------------------------------

  function auditRow(record) {
    var row = document.createElement('tr');
    row.setAttribute('data-record-id', String(record.id));
    row.setAttribute('data-kind', record.kind);
    if (record.accountId) row.setAttribute('data-account-id', record.accountId);
    page.cell(row, page.when(record.at), 'at');
    page.cell(row, record.kind, 'kind');
    page.cell(row, record.accountId, 'user');
    page.cell(row, record.actor, 'actor');
    page.cell(row, record.reason, 'reason');
    page.cell(row, record.resource, 'resource');
    page.cell(row, record.count, 'count');
    page.cell(row, confirmation(record.confirmation), 'confirmation');
    return row;
  }

  var loadAudit = pagedTable({
    table: auditTable,
    more: auditMore,
    empty: auditEmpty,
    path: '/audit',
    items: 'records',
    cursorParam: 'before',
    nextField: 'nextBefore',
    row: auditRow,
    filters: function () {
      return { kind: auditKind.value, user: auditUser.value.trim() };
    },
  });

  // ---- wiring ---------------------------------------------------------------

  function refreshAll() {
    return Promise.all([loadSessions(false), loadAudit(false)]);
  }

  sessionsFilter.addEventListener('submit', function (event) {
    event.preventDefault();
    loadSessions(false);
  });
  sessionsRefresh.addEventListener('click', function () {
    loadSessions(false);
  });
  sessionsMore.addEventListener('click', function () {
    during(sessionsMore, loadSessions(true));
  });

  auditFilter.addEventListener('submit', function (event) {
    event.preventDefault();
    loadAudit(false);
  });
  auditKind.addEventListener('change', function () {
    loadAudit(false);
  });
  auditRefresh.addEventListener('click', function () {
    loadAudit(false);
  });
  auditMore.addEventListener('click', function () {
    during(auditMore, loadAudit(true));
  });

  loadSessions(false);
  loadPolicy();
  loadAudit(false);
})();
