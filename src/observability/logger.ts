/** Structured logging with pino; tokens, secrets and shared secrets are redacted before anything is written. */
import pino, { type Logger } from 'pino';

export type { Logger };

const REDACTED_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  // Forge's OAuth tokens for the remote (app system, user) and the page token beside a FIT.
  'req.headers["x-forge-oauth-system"]',
  'req.headers["x-forge-oauth-user"]',
  'req.headers["x-page-token"]',
  'headers["x-forge-oauth-system"]',
  'headers["x-forge-oauth-user"]',
  'headers["x-page-token"]',
  'systemToken',
  '*.systemToken',
  'sharedSecret',
  '*.sharedSecret',
  'token',
  '*.token',
  'jwt',
  '*.jwt',
  'secret',
  '*.secret',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { app: 'panelguard' } };
  return destination === undefined ? pino(options) : pino(options, destination);
}

// JWTs (and their signing input: header and payload without the signature) and `sharedSecret: '...'` inside free text.
const JWT_IN_TEXT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*)?/g;
const SECRET_IN_TEXT = /(sharedSecret['"]?\s*[:=]\s*)(['"]?)[^'",\s}]+\2/g;
const JWT_PARAM_IN_TEXT = /([?&]jwt=)[^&\s"']+/g;

/** Scrubs free text that a library wrote itself (ACE logs whole install payloads and URLs). */
export function scrubText(text: string): string {
  return text
    .replace(SECRET_IN_TEXT, '$1[redacted]')
    .replace(JWT_PARAM_IN_TEXT, '$1[redacted]')
    .replace(JWT_IN_TEXT, '[redacted-jwt]');
}
