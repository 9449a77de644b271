// @ts-check
/** The issue panel's logic: lists and adds notes through the page's API; on a denial it shows why and drops the data. */
import { asFailure, byId, DENIED, showMessage, showStatus, when } from './page.js';

/** @typedef {import('./page.js').Api} Api */
/** @typedef {import('./page.js').Failure} Failure */
/** `displayName` is null where the host could not name the writer in time. @typedef {{ text: string, accountId: string, displayName: string | null, createdAt: number }} Note */

// Denials end this page's use of its token: nothing shown, nothing more to click. Where the other pages say a session ended, the panel says it expired.
/** @type {Readonly<Record<string, string>>} */
const EXPIRED = { token_expired: 'Session expired', token_idle: 'Session expired' };
// The server's words, where they would only repeat the headline.
/** @type {Readonly<Record<string, string>>} */
const DETAIL = {
  token_revoked: 'This session was ended by the site or an administrator, so its notes are hidden. Reload the issue to start again if you still have access.',
};
// Refused input: the note stays in the box to fix, the notes stay listed.
const INVALID = new Set(['bad_request', 'payload_too_large']);

/** Runs the panel on the markup of views/partials/issue-notes.hbs, for the issue `issueId`. @param {Api} api @param {string} issueId */
export function startIssueNotes(api, issueId) {
  const url = `/api/issues/${encodeURIComponent(issueId)}/notes`;
  const list = byId('notes', HTMLUListElement);
  const form = byId('add-note-form', HTMLFormElement);
  const text = byId('note-text', HTMLTextAreaElement);
  const refresh = byId('refresh', HTMLButtonElement);
  // A refused note is said beside the form that sent it, where the writer is looking.
  const noteMessage = byId('note-message', HTMLElement);
  const clearNoteMessage = () => showMessage(noteMessage, 'hidden', null, '', '');

  /** @param {unknown} error */
  function showFailure(error) {
    const { code, message } = asFailure(error);
    if (INVALID.has(code)) {
      showMessage(noteMessage, 'invalid', code, '', message);
      return;
    }
    clearNoteMessage();
    list.textContent = '';
    const headline = EXPIRED[code] || DENIED[code];
    if (headline) {
      form.classList.add('hidden');
      refresh.classList.add('hidden');
      showStatus('denied', code, headline, DETAIL[code] || message);
      return;
    }
    // Store down, server error, network: not a verdict on this page, so Refresh stays to try again.
    showStatus('unavailable', code, 'Unavailable', message);
  }

  /** @param {Note[]} notes */
  function render(notes) {
    list.textContent = '';
    for (const note of notes) {
      const item = document.createElement('li');
      item.textContent = note.text;
      const meta = document.createElement('div');
      meta.className = 'meta';
      // The writer by name, their account id as the tooltip; the id itself where the host could not name them.
      const author = document.createElement('span');
      author.className = 'author';
      author.title = note.accountId;
      author.setAttribute('data-account-id', note.accountId);
      author.textContent = note.displayName || note.accountId;
      meta.appendChild(author);
      meta.appendChild(document.createTextNode(` \u00b7 ${when(note.createdAt)}`));
      item.appendChild(meta);
      list.appendChild(item);
    }
    showStatus('', null, '', notes.length === 0 ? 'No notes yet.' : notes.length === 1 ? '1 note.' : `${notes.length} notes.`);
  }

  function load() {
    return api.call('GET', url).then((answer) => render(/** @type {{ notes: Note[] }} */ (answer.body).notes), showFailure);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (text.value.trim() === '') {
      showMessage(noteMessage, 'invalid', 'bad_request', '', 'Write something first.');
      return;
    }
    api.call('POST', url, { text: text.value }).then(() => {
      text.value = '';
      clearNoteMessage();
      return load();
    }, showFailure);
  });
  refresh.addEventListener('click', load);
  load();
  // Where the door has a live channel, a session ended elsewhere hides the notes at once, without waiting for a click.
  api.live?.(`jira:issue:${issueId}`, showFailure);
}
