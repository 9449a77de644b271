// @ts-check
/** The Connect admin page: the shared admin logic over fetch. */
import { startAdmin } from '../admin.js';
import { fitToContent } from './fit.js';
import { connectApi } from './transport.js';

startAdmin(connectApi());
fitToContent();
