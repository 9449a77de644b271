/** How setting values are kept: as JSON text, so every store hands back a fresh, plain copy. */

export function encodeSettingValue(value: unknown): string {
  const text = JSON.stringify(value);
  // JSON.stringify answers undefined for undefined, functions and symbols; storing that would read back as nothing.
  if (text === undefined) throw new TypeError('a setting value must be JSON-serialisable');
  return text;
}

export function decodeSettingValue(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return value;
}
