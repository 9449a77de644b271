/**
 * RFC 8935 push delivery: transmitters POST one Security Event Token per request to `/ssf/events`. The answer is
 * 202 once the SET is applied, or 400 with `{"err", "description"}` and a registered error code; a request that
 * is not a SET at the HTTP level (wrong media type, too large) gets the HTTP status that says so.
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../src/observability/logger';
import type { SetErrorCode, SetRefusal, SsfReceiver } from '../src/signals/ssf-receiver/receiver';

/** RFC 8417 7.2: the media type a pushed SET is sent as. */
export const SET_MEDIA_TYPE = 'application/secevent+jwt';
/** A SET is a few kilobytes at most; the body is refused past this before it is read further. */
export const MAX_SET_BYTES = 64 * 1024;
/** How soon a transmitter may send again a SET PanelGuard could not take just now. */
const RETRY_AFTER_SECONDS = 30;

export interface SsfEventDeps {
  receiver: SsfReceiver;
  log: Logger;
}

/**
 * RFC 8935 2.3: `err` and `description` as JSON, with the description's language. Used for 400s, and for the
 * other 4xx this route answers, so that a transmitter's operator reads the same shape whatever went wrong.
 */
function sendSetError(res: Response, status: number, code: SetErrorCode, description: string): void {
  res.status(status).set('Content-Language', 'en').json({ err: code, description });
}

export function ssfEventRoutes({ receiver, log }: SsfEventDeps): Router {
  const router = Router();
  const readSet = express.text({ type: SET_MEDIA_TYPE, limit: MAX_SET_BYTES });

  // Answers the HTTP-level failures itself, in RFC 8935's shape: the app's error handler would answer in the API's.
  const setBody = (req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    // A general HTTP error (RFC 8935 2.3): the request does not carry a SET at all.
    if (!req.is(SET_MEDIA_TYPE)) return sendSetError(res, 415, 'invalid_request', `Send the SET as Content-Type: ${SET_MEDIA_TYPE} (RFC 8935 2.1).`);
    readSet(req, res, (error?: unknown) => {
      if (error === undefined) return next();
      const status = (error as { status?: unknown }).status;
      if (status === 413) return sendSetError(res, 413, 'invalid_request', `A SET is at most ${MAX_SET_BYTES} bytes.`);
      sendSetError(res, 400, 'invalid_request', 'The body could not be read as a SET.');
    });
  };

  router.post('/ssf/events', setBody, async (req: Request, res: Response) => {
    const token = typeof req.body === 'string' ? req.body.trim() : '';
    let answer: Awaited<ReturnType<SsfReceiver['receive']>>;
    try {
      answer = await receiver.receive(token);
    } catch (error) {
      // The receiver answers every failure it knows as a value; anything else is a bug, and still nothing was decided.
      answer = { ok: false, code: 'unavailable', description: 'The SET could not be taken just now; send it again later.', cause: error };
    }
    if (answer.ok) {
      log.info({ stream: answer.value.stream, events: answer.value.events }, 'SET accepted');
      res.status(202).end();
      return;
    }
    respondRefused(res, answer, log);
  });

  return router;
}

function respondRefused(res: Response, refusal: SetRefusal, log: Logger): void {
  if (refusal.code === 'unavailable') {
    // Nothing was decided: the transmitter keeps the SET and sends it again.
    log.warn({ err: refusal.cause }, 'SET could not be taken just now');
    res.status(503).set('Retry-After', String(RETRY_AFTER_SECONDS)).set('Content-Language', 'en').json({ description: refusal.description });
    return;
  }
  // The SET is never logged: whoever reads the log must not be able to send it again elsewhere.
  log.info({ code: refusal.code }, 'SET refused');
  sendSetError(res, 400, refusal.code, refusal.description);
}
