// @ts-check
/** The Connect "my sessions" page: the shared page logic over fetch. */
import { startMySessions } from '../my-sessions.js';
import { fitToContent } from './fit.js';
import { connectApi } from './transport.js';

startMySessions(connectApi());
fitToContent();
