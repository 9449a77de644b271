/**
 * Response headers every answer carries, set by helmet: nosniff, no referrer, and a content policy that
 * lets nothing frame the app. Pages the host frames widen frame-ancestors to their own tenant's site once
 * its Connect JWT verified, and script-src to that site's all.js (routes/page-mint.ts `framedBy`); frame-ancestors, not X-Frame-Options, decides
 * framing, so X-Frame-Options is never sent (its only values would forbid the host's iframe).
 */
import type { RequestHandler } from 'express';
import helmet from 'helmet';

export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        connectSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: false,
    referrerPolicy: { policy: 'no-referrer' },
    // Same-origin would stop the host from loading the descriptor or a page across origins; the API is bearer-only anyway.
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  });
}
