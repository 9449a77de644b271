/** Compiles the Handlebars pages once at start; every value is HTML-escaped by Handlebars. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { PROJECT_ROOT } from '../src/paths';

export interface IssueNotesPage {
  pageToken: string;
  issueId: string;
  issueKey: string;
}

export interface DeniedPage {
  title: string;
  message: string;
}

export interface AdminPage {
  pageToken: string;
  /** The signed-in admin, as the host names them to apps. */
  accountId: string;
}

export interface MySessionsPage {
  pageToken: string;
}

export interface Views {
  issueNotes(page: IssueNotesPage): string;
  denied(page: DeniedPage): string;
  admin(page: AdminPage): string;
  mySessions(page: MySessionsPage): string;
}

const VIEWS_DIR = path.join(PROJECT_ROOT, 'views');
export const PUBLIC_DIR = path.join(VIEWS_DIR, 'public');

function compile<T>(name: string): (page: T) => string {
  const source = readFileSync(path.join(VIEWS_DIR, `${name}.hbs`), 'utf8');
  return Handlebars.compile<T>(source, { strict: true });
}

export function loadViews(): Views {
  return {
    issueNotes: compile<IssueNotesPage>('issue-notes'),
    denied: compile<DeniedPage>('denied'),
    admin: compile<AdminPage>('admin'),
    mySessions: compile<MySessionsPage>('my-sessions'),
  };
}
