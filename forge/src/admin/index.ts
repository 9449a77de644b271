/** The Forge admin page: the Connect admin page's logic (views/public/admin.js) over invokeRemote. */
import '../../../views/public/panel.css';
import '../../../views/public/pages.css';
import { view } from '@forge/bridge';
import { startAdmin } from '../../../views/public/admin.js';
import { byId } from '../../../views/public/page.js';
import { forgeApi } from '../transport';

startAdmin(forgeApi());
// Who is signed in is only shown; the server takes the admin from the FIT, so a context without it costs nothing.
// The id stands in until the page's own call (GET /api/admin/me) names the admin, and never replaces that name.
view.getContext().then(
  (context) => {
    const signedInAs = byId('admin-account', HTMLElement);
    if (signedInAs.textContent === '') signedInAs.textContent = context.accountId ?? '';
  },
  () => undefined
);
