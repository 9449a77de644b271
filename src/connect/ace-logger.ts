/** The logger ACE writes to: its free-text messages go through pino, scrubbed of secrets and tokens. */
import { inspect } from 'node:util';
import { scrubText, type Logger } from '../observability/logger';

export interface AceLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug(...args: unknown[]): void;
}

const render = (args: unknown[]): string =>
  scrubText(args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg, { depth: 4, breakLength: Infinity }))).join(' '));

export function aceLogger(logger: Logger): AceLogger {
  const child = logger.child({ component: 'ace' });
  return {
    info: (...args) => child.info(render(args)),
    warn: (...args) => child.warn(render(args)),
    error: (...args) => child.error(render(args)),
    debug: (...args) => child.debug(render(args)),
  };
}
