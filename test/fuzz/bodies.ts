/** Request bodies: a realistic payload with parts replaced or removed, any JSON, text that is not JSON, under any media type and encoding. */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';

export interface FuzzBody {
  body: string | Buffer;
  headers: Record<string, string>;
  /** The JSON value sent, when the bytes are exactly that value as JSON. */
  json: { value: unknown } | null;
  how: string;
}

/** Keys worth trying anywhere: the payload's own, ACE's `jwt`, and names that trip JavaScript objects. */
const KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'jwt', 'key', 'clientKey', 'text', 'user', 'accountId', 'id', 'timestamp', ''];

const anyJson = fc.jsonValue({ maxDepth: 3 });
const replacement = fc.oneof(
  anyJson,
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e21, -0, 2 ** 53, '', ' ', '0', '10001', '-1', '1e3', 'null', [], {}, [null], { id: null }, 'x'.repeat(300)),
);

/** `base` with one or a few of its members (at any depth) replaced, removed or joined by others. */
export function mutatedPayload(base: Record<string, unknown>): fc.Arbitrary<{ value: unknown; how: string }> {
  const paths = leafPaths(base);
  const edit = fc.tuple(fc.constantFrom(...paths), fc.constantFrom('replace', 'remove', 'add'), replacement, fc.constantFrom(...KEYS));
  return fc.array(edit, { minLength: 0, maxLength: 3 }).map((edits) => {
    const value = structuredClone(base);
    const hows: string[] = [];
    for (const [path, kind, shared, key] of edits) {
      // A copy: the constants are shared between runs, and one edit may write into what another inserted.
      const newValue = structuredClone(shared);
      const parent = path.slice(0, -1).reduce<unknown>((node, k) => (isObject(node) ? node[k] : undefined), value);
      if (!isObject(parent)) continue;
      const last = path[path.length - 1];
      // defineProperty, so "__proto__" becomes an own member as JSON.parse would make it.
      if (kind === 'replace') Object.defineProperty(parent, last, { value: newValue, enumerable: true, writable: true, configurable: true });
      if (kind === 'remove') delete parent[last];
      if (kind === 'add') Object.defineProperty(parent, key, { value: newValue, enumerable: true, writable: true, configurable: true });
      hows.push(`${kind} ${[...path.slice(0, -1), kind === 'add' ? key : last].join('.')}${kind === 'remove' ? '' : ` = ${JSON.stringify(newValue)}`}`);
    }
    return { value, how: hows.length === 0 ? 'as sent' : hows.join('; ') };
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (!isObject(value) || Array.isArray(value)) return [prefix];
  const children = Object.keys(value).flatMap((key) => leafPaths(value[key], [...prefix, key]));
  return prefix.length === 0 ? children : [prefix, ...children];
}

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON'];
const OTHER_TYPES = [
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; charset=nope',
  'application/vnd.api+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; boundary',
  '*/*',
  ';',
];

/** Bodies for a route that takes JSON like `base`: mostly close to it, sent as JSON. */
export function bodies(base: Record<string, unknown>): fc.Arbitrary<FuzzBody> {
  const value = fc.oneof({ weight: 6, arbitrary: mutatedPayload(base) }, anyJson.map((v) => ({ value: v, how: 'any JSON' })));
  const asJson = fc.tuple(value, fc.constantFrom(...JSON_TYPES)).map(([v, type]): FuzzBody => {
    const text = JSON.stringify(v.value);
    // Parsed back, so the value is what the app sees (JSON has no -0, and makes "__proto__" an own member).
    return { body: text, headers: { 'content-type': type }, json: jsonOrNull(text), how: `${v.how} as ${type}` };
  });
  const notJson = fc
    .tuple(
      fc.oneof(
        value.map((v) => (JSON.stringify(v.value) ?? '').slice(0, -1)),
        fc.constantFrom('', ' ', '{', '{"a":', '[1,]', '{"a":1}}', "{'a':1}", 'null', 'true', '"x"', '1', 'NaN', '\ufeff{}', '{"a":1e999}', '{"a":"\\ud800"}', '{"__proto__":{"x":1}}'),
        fc.string({ unit: 'binary', maxLength: 100 }),
      ),
      fc.constantFrom(...JSON_TYPES),
    )
    .map(([text, type]): FuzzBody => ({ body: text, headers: { 'content-type': type }, json: jsonOrNull(text), how: `${JSON.stringify(text.slice(0, 80))} as ${type}` }));
  const otherType = fc.tuple(value, fc.option(fc.constantFrom(...OTHER_TYPES), { nil: undefined })).map(([v, type]): FuzzBody => ({
    body: JSON.stringify(v.value) ?? '',
    headers: type === undefined ? {} : { 'content-type': type },
    json: null,
    how: `${v.how} as ${type ?? 'no content-type'}`,
  }));
  const encoded = fc.tuple(value, fc.constantFrom('gzip', 'gzip-corrupt', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, gzip')).map(([v, encoding]): FuzzBody => {
    const text = JSON.stringify(v.value) ?? '';
    const body = encoding === 'gzip' ? gzipSync(text) : encoding === 'gzip-corrupt' ? gzipSync(text).subarray(0, 12) : Buffer.from(text);
    return {
      body,
      headers: { 'content-type': 'application/json', 'content-encoding': encoding === 'gzip-corrupt' ? 'gzip' : encoding },
      json: encoding === 'gzip' || encoding === 'identity' ? jsonOrNull(text) : null,
      how: `${v.how}, content-encoding ${encoding}`,
    };
  });
  return fc.oneof({ weight: 10, arbitrary: asJson }, { weight: 2, arbitrary: notJson }, { weight: 2, arbitrary: otherType }, { weight: 1, arbitrary: encoded });
}

function jsonOrNull(text: string): { value: unknown } | null {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return null;
  }
}
