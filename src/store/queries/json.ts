/**
 * JSON text that PostgreSQL's jsonb accepts. jsonb refuses two things JSON.stringify happily
 * writes: the escape \u0000 and unpaired UTF-16 surrogates (\ud800 alone). Both can reach us inside
 * findings that quote hostile input, and one bad character must not make a whole payload fail to
 * store (its raw bytes are what matters, and those are bytea). So such characters become U+FFFD.
 *
 * The check runs on the serialized text — a regex over it is far cheaper than walking the value —
 * and only a match pays for the deep copy.
 */

// JSON.stringify escapes NUL as \u0000 and lone surrogates as \udXXX (lower-case hex, ES2019).
// A literal backslash followed by "u0000" also matches; that only costs a needless clean copy.
const SUSPECT = /\\u0000|\\ud[89a-f]/;
const BAD_CHARS = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function pgJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return SUSPECT.test(text) ? JSON.stringify(clean(value)) : text;
}

function clean(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(BAD_CHARS, '\ufffd');
  if (Array.isArray(value)) return value.map(clean);
  if (value !== null && typeof value === 'object') {
    const maybe = value as { toJSON?: () => unknown };
    if (typeof maybe.toJSON === 'function') return clean(maybe.toJSON());
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // defineProperty, not assignment: a key named __proto__ must stay a plain key.
      Object.defineProperty(out, k.replace(BAD_CHARS, '\ufffd'), { value: clean(v), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}
