// The issue panel's script: lists and adds notes with the page token; on any denial it shows why and drops the data.
(function () {
  'use strict';
  var token = document.querySelector('meta[name="page-token"]').content;
  var issueId = document.querySelector('meta[name="issue-id"]').content;
  var url = '/api/issues/' + encodeURIComponent(issueId) + '/notes';
  var list = document.getElementById('notes');
  var form = document.getElementById('add-note-form');
  var text = document.getElementById('note-text');
  var status = document.getElementById('status');

  var REVOKED = { token_revoked: true, token_invalid: true, tenant_unknown: true, tenant_inactive: true, resource_mismatch: true };

  function showDenied(error) {
    list.textContent = '';
    form.classList.add('hidden');
    document.getElementById('refresh').classList.add('hidden');
    status.className = 'denied';
    status.setAttribute('data-code', error.code);
    status.textContent = (REVOKED[error.code] ? 'Access revoked: ' : '') + error.message;
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
    status.className = '';
    status.removeAttribute('data-code');
    status.textContent = notes.length === 0 ? 'No notes yet.' : notes.length + ' note(s).';
  }

  function call(method, body) {
    var init = { method: method, headers: { Authorization: 'Bearer ' + token } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.json().then(function (payload) {
        if (!response.ok) throw payload.error || { code: 'internal_error', message: 'Request failed.' };
        return payload;
      });
    });
  }

  function load() {
    return call('GET').then(function (payload) { render(payload.notes); }, showDenied);
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    call('POST', { text: text.value }).then(function () {
      text.value = '';
      return load();
    }, showDenied);
  });
  document.getElementById('refresh').addEventListener('click', load);
  load();
})();
