// The issue panel's script: lists and adds notes with the page token; on a denial it shows why and drops the data.
(function () {
  'use strict';
  var page = window.PanelGuardPage;
  var issueId = document.querySelector('meta[name="issue-id"]').content;
  var url = '/api/issues/' + encodeURIComponent(issueId) + '/notes';
  var list = document.getElementById('notes');
  var form = document.getElementById('add-note-form');
  var text = document.getElementById('note-text');
  var refresh = document.getElementById('refresh');

  // Denials end this page's use of its token: nothing shown, nothing more to click. Where the other pages say a session ended, the panel says it expired.
  var EXPIRED = { token_expired: 'Session expired', token_idle: 'Session expired' };
  // The server's words, where they would only repeat the headline.
  var DETAIL = {
    token_revoked: 'This session was ended by the site or an administrator, so its notes are hidden. Reload the issue to start again if you still have access.',
  };
  // Refused input: the note stays in the box to fix, the notes stay listed.
  var INVALID = { bad_request: true, payload_too_large: true };

  function deniedHeadline(code) {
    return EXPIRED[code] || page.DENIED[code];
  }

  function showFailure(error) {
    if (INVALID[error.code]) {
      page.showStatus('invalid', error.code, '', error.message);
      return;
    }
    list.textContent = '';
    var headline = deniedHeadline(error.code);
    if (headline) {
      form.classList.add('hidden');
      refresh.classList.add('hidden');
      page.showStatus('denied', error.code, headline, DETAIL[error.code] || error.message);
      return;
    }
    // Store down, server error, network: not a verdict on this page, so Refresh stays to try again.
    page.showStatus('unavailable', error.code, 'Unavailable', error.message);
  }

  function render(notes) {
    list.textContent = '';
    notes.forEach(function (note) {
      var item = document.createElement('li');
      item.textContent = note.text;
      var meta = document.createElement('div');
      meta.className = 'meta';
      meta.textContent = note.accountId + ' \u00b7 ' + page.when(note.createdAt);
      item.appendChild(meta);
      list.appendChild(item);
    });
    page.showStatus('', null, '', notes.length === 0 ? 'No notes yet.' : notes.length === 1 ? '1 note.' : notes.length + ' notes.');
  }

  function call(method, body) {
    return page.call(method, url, body).then(function (answer) {
      return answer.body;
    });
  }

  function load() {
    return call('GET').then(function (payload) { render(payload.notes); }, showFailure);
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (text.value.trim() === '') {
      page.showStatus('invalid', 'bad_request', '', 'Write something first.');
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
