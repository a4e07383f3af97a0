/**
 * Canonical JSON (RFC 8785 JCS: keys sorted by UTF-16 code units, numbers in their shortest
 * ECMAScript form, strings escaped as JSON.stringify does, no whitespace) — the form a record is
 * digested in, so the same content gives the same digest whatever key order or number spelling
 * the sender used.
 *
 * Written here rather than taken from the `canonicalize` package: that one cost ≈ 25 µs per case
 * record on the ingest path, this ≈ 4 µs. The package stays the oracle in test/canonical.test.ts.
 */
import { createHash } from 'node:crypto';

function write(value: unknown, out: string[]): void {
  if (value === null || typeof value === 'boolean') {
    out.push(String(value));
  } else if (typeof value === 'string') {
    out.push(JSON.stringify(value));
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${value} has no JSON form`);
    // ES Number::toString is the RFC 8785 number form; -0 serialises as 0.
    out.push(JSON.stringify(value));
  } else if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      const v: unknown = value[i];
      // As JSON.stringify: an undefined or function entry in an array is null.
      if (v === undefined || typeof v === 'function') out.push('null');
      else write(v, out);
    }
    out.push(']');
  } else if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
      write((obj as { toJSON: () => unknown }).toJSON(), out);
      return;
    }
    // Default sort compares UTF-16 code units, exactly what RFC 8785 §3.2.3 asks for.
    const keys = Object.keys(obj).sort();
    out.push('{');
    let first = true;
    for (const k of keys) {
      const v = obj[k];
      if (v === undefined || typeof v === 'function') continue;
      if (!first) out.push(',');
      first = false;
      out.push(JSON.stringify(k), ':');
      write(v, out);
    }
    out.push('}');
  } else {
    throw new TypeError(`a ${typeof value} has no JSON form`);
  }
}

export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join('');
}

export type DigestAlgorithm = 'sha256' | 'sm3';

/** Hex digest of the canonical form. */
export function contentDigest(value: unknown, algorithm: DigestAlgorithm = 'sha256'): string {
  return createHash(algorithm).update(canonicalJson(value), 'utf8').digest('hex');
}
