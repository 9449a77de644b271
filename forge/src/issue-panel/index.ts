/**
 * The Forge issue panel: the Connect panel's logic (views/public/issue-notes.js) over invokeRemote, on the issue
 * Forge's view context names; the URL names nothing here.
 */
import '../../../views/public/panel.css';
import { view } from '@forge/bridge';
import { startIssueNotes } from '../../../views/public/issue-notes.js';
import { byId, showStatus } from '../../../views/public/page.js';
import { issueOf } from '../context';
import { forgeApi } from '../transport';

// Without an issue there is nothing to ask the remote for; Refresh cannot help, reloading the issue may.
function showNoIssue(): void {
  showStatus('unavailable', 'internal_error', 'Unavailable', 'Jira did not say which issue this panel is on; reload the issue.');
}

view.getContext().then((context) => {
  const issue = issueOf(context);
  if (issue === null) return showNoIssue();
  byId('issue-key', HTMLElement).textContent = issue.key;
  byId('panel', HTMLElement).setAttribute('data-issue-key', issue.key);
  startIssueNotes(forgeApi(), issue.id);
}, showNoIssue);
