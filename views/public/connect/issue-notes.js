// @ts-check
/** The Connect issue panel: the shared panel logic over fetch, on the issue the server wrote into the page. */
import { startIssueNotes } from '../issue-notes.js';
import { fitToContent } from './fit.js';
import { connectApi, metaContent } from './transport.js';

startIssueNotes(connectApi(), metaContent('issue-id'));
fitToContent();
