/** The Forge "my sessions" page: the Connect page's logic (views/public/my-sessions.js) over invokeRemote. */
import '../../../views/public/panel.css';
import '../../../views/public/pages.css';
import { startMySessions } from '../../../views/public/my-sessions.js';
import { forgeApi } from '../transport';

startMySessions(forgeApi());
