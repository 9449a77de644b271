// The issue panel's script: lists and adds notes with the page token; on a denial it shows why and drops the data.
(function () {
  'use strict';
  var token = document.querySelector('meta[name="page-token"]').content;
  var issueId = document.querySelector('meta[name="issue-id"]').content;
  var url = '/api/issues/' + encodeURIComponent(issueId) + '/notes';
  var list = document.getElementById('notes');
  var form = document.getElementById('add-note-form');
  var text = document.getElementById('note-text');
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
    token_expired: 'Session expired',
    token_idle: 'Session expired',
  };
  // The server's words, where they would only repeat the headline.
  var DETAIL = {
    token_revoked: 'This session was ended by the site or an administrator, so its notes are hidden. Reload the issue to start again if you still have access.',
  };
  // Refused input: the note stays in the box to fix, the notes stay listed.
  var INVALID = { bad_request: true, payload_too_large: true };

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
    if (INVALID[error.code]) {
      showStatus('invalid', error.code, '', error.message);
      return;
    }
    list.textContent = '';
    if (DENIED[error.code]) {
      form.classList.add('hidden');
      refresh.classList.add('hidden');
      showStatus('denied', error.code, DENIED[error.code], DETAIL[error.code] || error.message);
      return;
    }
    // Store down, server error, network: not a verdict on this page, so Refresh stays to try again.
    showStatus('unavailable', error.code, 'Unavailable', error.message);
  }

  function render(notes) {
    list.textContent = '';
    notes.forEach(function (note) {
      var item = document.createElement('li');
      item.textContent = note.text;
      var meta = document.createElement('div');
      meta.className = 'meta';
      meta.textContent = note.accountId + ' \u00b7 ' + new Date(note.createdAt).toLocaleString();
      item.appendChild(meta);
      list.appendChild(item);
    });
    showStatus('', null, '', notes.length === 0 ? 'No notes yet.' : notes.length === 1 ? '1 note.' : notes.length + ' notes.');
  }

  function call(method, body) {
    var init = { method: method, headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(
      function (response) {
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

  function load() {
    return call('GET').then(function (payload) { render(payload.notes); }, showFailure);
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (text.value.trim() === '') {
      showStatus('invalid', 'bad_request', '', 'Write something first.');
      return;
    }
    call('POST', { text: text.value }).then(function () {
      text.value = '';
      return load();
    }, showFailure);
  });
  refresh.addEventListener('click', load);
  load();
})();
