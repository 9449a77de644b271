// What every page's script shares: calls to the app with the page token, the status line, denial headlines and table cells. Loaded before the page's own script.
(function () {
  'use strict';
  var token = document.querySelector('meta[name="page-token"]').content;
  var status = document.getElementById('status');

  // Denials end a page's use of its token. The headline names what happened.
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

  function failure(code, message) {
    return { code: code, message: message };
  }

  /** Answers { body, headers } (body null for 204); a failure is thrown as the server's { code, message }. */
  function call(method, url, body) {
    var init = { method: method, headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(
      function (response) {
        if (response.status === 204) return { body: null, headers: response.headers };
        return response.json().then(
          function (payload) {
            if (!response.ok) throw (payload && payload.error) || failure('internal_error', 'Request failed (' + response.status + ').');
            return { body: payload, headers: response.headers };
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

  /** Fills the #status line; `code` lands in data-code, a `headline` is set in bold before the detail. */
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

  /** Keeps `button` disabled while `promise` runs, so an action is not sent twice; it stays disabled once `hasEnded()` says the page has ended. */
  function during(button, promise, hasEnded) {
    button.disabled = true;
    function release() {
      if (!hasEnded()) button.disabled = false;
    }
    return promise.then(release, release);
  }

  function when(epochMs) {
    return epochMs === null || epochMs === undefined ? '\u2014' : new Date(epochMs).toLocaleString();
  }

  /** Appends a cell to `row`; an empty value shows as a dash. */
  function cell(row, text, className) {
    var td = document.createElement('td');
    if (className) td.className = className;
    td.textContent = text === null || text === undefined || text === '' ? '\u2014' : String(text);
    row.appendChild(td);
    return td;
  }

  window.PanelGuardPage = { DENIED: DENIED, call: call, showStatus: showStatus, during: during, when: when, cell: cell };
})();
