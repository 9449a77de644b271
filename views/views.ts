/** Compiles the Handlebars pages, and the markup they share with the Forge build, once at start; every value is HTML-escaped by Handlebars. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { PROJECT_ROOT } from '../src/app/paths';

/** Where a Connect page loads the host's all.js (routes/page-mint.ts `framedBy`); without it the page keeps the iframe's size. */
interface HostScript {
  allJs: string | undefined;
}

export interface IssueNotesPage extends HostScript {
  pageToken: string;
  issueId: string;
  issueKey: string;
}

export interface DeniedPage {
  title: string;
  message: string;
}

export interface AdminPage extends HostScript {
  pageToken: string;
  /** The signed-in admin, as the host names them to apps. */
  accountId: string;
}

export interface MySessionsPage extends HostScript {
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

/**
 * A page's markup (views/partials/<name>.hbs) and the values it shows: the Connect page wraps it in its document,
 * the Forge build (forge/build.ts) in a static one, so both front doors hand the shared scripts the same elements.
 */
export interface PageMarkups {
  'issue-notes': { issueKey: string };
  admin: { accountId: string };
  'my-sessions': Record<string, never>;
}

const MARKUPS: (keyof PageMarkups)[] = ['issue-notes', 'admin', 'my-sessions'];

function source(file: string): string {
  return readFileSync(path.join(VIEWS_DIR, file), 'utf8');
}

/** Renders a page's markup alone, as the Forge build needs it. */
export function renderMarkup<N extends keyof PageMarkups>(name: N, values: PageMarkups[N]): string {
  return Handlebars.compile<PageMarkups[N]>(source(`partials/${name}.hbs`), { strict: true })(values);
}

export function loadViews(): Views {
  const handlebars = Handlebars.create();
  for (const name of MARKUPS) handlebars.registerPartial(name, source(`partials/${name}.hbs`));
  function compile<T>(name: string): (page: T) => string {
    return handlebars.compile<T>(source(`${name}.hbs`), { strict: true });
  }
  return {
    issueNotes: compile<IssueNotesPage>('issue-notes'),
    denied: compile<DeniedPage>('denied'),
    admin: compile<AdminPage>('admin'),
    mySessions: compile<MySessionsPage>('my-sessions'),
  };
}
