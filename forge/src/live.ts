/**
 * A Forge page's live channel: invokeRemote answers once and cannot stream, so the page long-polls
 * `GET /api/live/poll?resource=…`, which the server holds until the page's session ends (answered with the refusal a
 * call would get) or about twenty seconds pass (answered `{"ended": false}`), and asks again at once.
 */
import { asFailure, DENIED, type Answer, type Failure, type Method } from '../../views/public/page.js';

/** Waits after a poll that failed, or came back too soon to have been held: doubling from one second, at most half a minute. */
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;
/** A poll answered sooner than this was not held (it gave way to a newer one, say): the next waits, so two never spin. */
const HELD_MS = 1_000;

type Call = (method: Method, path: string) => Promise<Answer>;

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls until the session ends, then calls `ended` once with the server's Failure. Anything that is not a verdict on
 * the session (no channel on that node, the app or Forge unreachable) leaves the page as it was, and polls again later.
 */
export function pollLive(call: Call, resource: string, ended: (failure: Failure) => void): void {
  const path = `/api/live/poll?resource=${encodeURIComponent(resource)}`;
  void (async () => {
    let delay = RETRY_MIN_MS;
    for (;;) {
      const sent = Date.now();
      try {
        await call('GET', path);
      } catch (error) {
        const failure = asFailure(error);
        if (DENIED[failure.code] !== undefined) return ended(failure);
        await pause(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
        continue;
      }
      if (Date.now() - sent >= HELD_MS) {
        delay = RETRY_MIN_MS;
        continue;
      }
      await pause(delay);
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  })();
}
