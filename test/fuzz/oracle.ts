/** What every answer must be, whatever was asked: the API's error format, no server failure, no fault in the process. */
import type { Answer } from './http-client';

export class PropertyViolation extends Error {
  override name = 'PropertyViolation';
}

export function violated(message: string): never {
  throw new PropertyViolation(message);
}

export interface ApiError {
  code: string;
  message: string;
}

export interface AnswerRules {
  /**
   * Whether the store may fail during this request. A store that never fails leaves no room for any 5xx;
   * one that may, for 503 `store_unavailable` only (guarantee 4: fail closed, and say so).
   */
  storeMayFail?: boolean;
}

function describe(answer: Answer): string {
  return `${answer.status} ${answer.text.slice(0, 300)}`;
}

/** The `{"error": {"code", "message"}}` body of an error answer, checked to be exactly that. */
/** A refusal that names each bad field (`PUT /api/admin/policy`): a non-empty list of `{field, message}`. */
function isFieldList(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((item) => typeof item === 'object' && item !== null && typeof item.field === 'string' && typeof item.message === 'string' && item.message.length > 0)
  );
}

export function errorOf(answer: Answer): ApiError {
  if (!/^application\/json\b/.test(answer.headers['content-type'] ?? '')) violated(`an error answer that is not JSON: ${describe(answer)}`);
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    violated(`an error answer whose body does not parse: ${describe(answer)}`);
  }
  const error = (body as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  const shaped =
    typeof body === 'object' &&
    body !== null &&
    Object.keys(body).length === 1 &&
    typeof error === 'object' &&
    error !== null &&
    ['code,message', 'code,fields,message'].includes(Object.keys(error).sort().join(',')) &&
    (error.fields === undefined || isFieldList(error.fields)) &&
    typeof error.code === 'string' &&
    /^[a-z_]+$/.test(error.code) &&
    typeof error.message === 'string' &&
    error.message.length > 0;
  if (!shaped) violated(`an error answer not shaped {"error":{"code","message"[,"fields"]}}: ${describe(answer)}`);
  return error as unknown as ApiError;
}

/**
 * Every answer: a 2xx or 3xx, or a 4xx in the error format (401s with a Bearer challenge), or, only where the
 * store may fail, 503 `store_unavailable`. Answers the error, if any.
 */
export function checkAnswer(answer: Answer, rules: AnswerRules = {}): ApiError | null {
  if (answer.status < 400) return null;
  if (answer.status >= 500) {
    const error = errorOf(answer);
    if (answer.status === 503 && error.code === 'store_unavailable' && rules.storeMayFail === true) return error;
    violated(`a server failure while the store ${rules.storeMayFail === true ? 'may fail' : 'never fails'}: ${describe(answer)}`);
  }
  const error = errorOf(answer);
  if (answer.status === 401 && !/^Bearer realm=/.test(String(answer.headers['www-authenticate'] ?? ''))) {
    violated(`a 401 without a Bearer challenge: ${describe(answer)}`);
  }
  return error;
}

/** Parses a 2xx answer's JSON body, which must be there and parse. */
export function jsonOf(answer: Answer): unknown {
  try {
    return JSON.parse(answer.text);
  } catch {
    return violated(`a success whose body is not JSON: ${describe(answer)}`);
  }
}

/** A short label for an answer, for the tally of what the inputs reached. */
export function outcomeOf(answer: Answer): string {
  if (answer.status < 400) return String(answer.status);
  try {
    const code = (JSON.parse(answer.text) as { error?: { code?: unknown } }).error?.code;
    return `${answer.status} ${typeof code === 'string' ? code : '?'}`;
  } catch {
    return `${answer.status} ?`;
  }
}

/**
 * Uncaught exceptions and unhandled rejections anywhere in the process while properties run. A rejection is
 * reported once the microtasks drain, so a run checks at its start (for the run before) and at its end.
 */
export class ProcessFaults {
  private readonly seen: string[] = [];
  private readonly onException = (error: Error) => this.seen.push(`uncaught exception: ${error.stack ?? String(error)}`);
  private readonly onRejection = (reason: unknown) =>
    this.seen.push(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);

  constructor() {
    process.on('uncaughtException', this.onException);
    process.on('unhandledRejection', this.onRejection);
  }

  /** Throws (once) for every fault seen since the last call. */
  check(): void {
    if (this.seen.length === 0) return;
    const faults = this.seen.splice(0);
    violated(faults.join('\n'));
  }

  stop(): void {
    process.off('uncaughtException', this.onException);
    process.off('unhandledRejection', this.onRejection);
  }
}
