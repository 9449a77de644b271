// @ts-check
/** The Connect pages' way to the API: fetch on the app's own origin, with the page token the server wrote into the page. */
import { answerOf, failure } from '../page.js';

/** @typedef {import('../page.js').Api} Api */

/** The content of `<meta name="…">`, which the Connect page template always writes. @param {string} name */
export function metaContent(name) {
  const meta = document.querySelector(`meta[name="${name}"]`);
  if (!(meta instanceof HTMLMetaElement)) throw new Error(`the page has no meta ${name}`);
  return meta.content;
}

/** @returns {Api} */
export function connectApi() {
  const token = metaContent('page-token');
  return {
    async call(method, path, body) {
      /** @type {Record<string, string>} */
      const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      let response;
      try {
        response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      } catch {
        throw failure('network_error', 'The app could not be reached; try again.');
      }
      const header = (/** @type {string} */ name) => response.headers.get(name);
      if (response.status === 204) return answerOf(204, null, header);
      let payload;
      try {
        payload = await response.json();
      } catch {
        throw failure('internal_error', `The app answered ${response.status} with something that is not JSON.`);
      }
      return answerOf(response.status, payload, header);
    },
  };
}
