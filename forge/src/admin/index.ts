/** The Forge admin page: the Connect admin page's logic (views/public/admin.js) over invokeRemote. */
import '../../../views/public/panel.css';
import '../../../views/public/pages.css';
import { view } from '@forge/bridge';
import { startAdmin } from '../../../views/public/admin.js';
import { byId } from '../../../views/public/page.js';
import { forgeApi } from '../transport';

startAdmin(forgeApi());
// Who is signed in is only shown; the server takes the admin from the FIT, so a context without it costs nothing.
view.getContext().then(
  (context) => {
    byId('admin-account', HTMLElement).textContent = context.accountId ?? '';
  },
  () => undefined
);
