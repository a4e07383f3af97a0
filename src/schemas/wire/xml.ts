/**
 * Safe XML: text → a plain object tree of strings, or one precise finding.
 *
 * fast-xml-parser does not check well-formedness (it accepts `<r><a></r>`), and its own validator
 * is both slower than needed and lax (two roots, `<` in attribute values, undeclared entities,
 * control characters and `]]>` in text all pass). So a single pass of our own runs first and
 * proves the document is well-formed XML 1.0 in the subset we accept; only then is the tree built,
 * by buildXmlTree, which gives exactly fast-xml-parser's output about ten times faster (documents
 * whose names fast-xml-parser would split still go through it; see buildXmlTree). The pass also
 * enforces what the gateway adds on top of XML:
 *
 * - no DOCTYPE or ENTITY declaration anywhere (case-insensitive; checked before anything else,
 *   so entity expansion, XXE and the entity-name shadowing bugs are unreachable);
 * - references are only `&lt; &gt; &amp; &apos; &quot;` and numeric character references to
 *   legal XML characters (`&nbsp;` is undeclared in XML and rejected; `&#0;` is a NUL finding);
 * - no processing instructions other than the XML declaration at the very start, which must say
 *   version 1.0 (a record has no use for them, and fast-xml-parser parses their content as
 *   attributes);
 * - no element or attribute named `__proto__`, `constructor` or `prototype`;
 * - nesting at most `maxDepth` elements (the root is depth 1);
 * - no mixed content: an element holds either text or child elements (whitespace between child
 *   elements is ignored; comments are allowed and dropped).
 *
 * Output shape (fast-xml-parser's with preserveOrder false, which buildXmlTree reproduces):
 * - an element with only text is a string, exactly as written after entity decoding: `0012`
 *   stays `"0012"`, `1e3` stays `"1e3"`; leading and trailing whitespace is trimmed
 *   (`String.prototype.trim`, so U+3000 too), inner whitespace is kept, CRLF becomes LF;
 * - an empty element (or one with only whitespace) is `""`;
 * - child elements become properties; a name that occurs more than once becomes an array in
 *   document order, a name that occurs once is NOT an array (the schema decides; see xml-form.ts);
 * - attributes are kept, as strings, under `@_name` (including `@_xmlns`, `@_xsi:nil`); an
 *   element with attributes and text is `{ '#text': '…', '@_a': '…' }`. Neither `@` nor `#` can
 *   start an XML name, so these keys never collide with element names;
 * - namespace prefixes are kept as written (`ns:a`);
 * - CDATA content is text, not trimmed.
 * Names fast-xml-parser would rename (`toString`, `hasOwnProperty`, …) are kept as written, as
 * JSON.parse does, so that the schema reports them under their real name.
 */
import { XMLParser } from 'fast-xml-parser';
import { finding, pointer, type Finding } from '../findings.js';
import { lineColumn } from './decode.js';

export type XmlNode = string | XmlObject;
export interface XmlObject {
  readonly [name: string]: XmlNode | readonly XmlNode[];
}

export interface XmlOptions {
  /** Elements may nest this deep; the root element is depth 1. */
  readonly maxDepth: number;
}

export type XmlResult =
  | { readonly ok: true; readonly root: string; readonly value: XmlNode }
  | { readonly ok: false; readonly finding: Finding };

// ── character classes ────────────────────────────────────────────────────────────────────────────

// ASCII part of NameStartChar (1) and NameChar (1 or 2), XML 1.0 fifth edition §2.3.
const ASCII_NAME = new Uint8Array(128);
for (let c = 0x41; c <= 0x5a; c++) ASCII_NAME[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) ASCII_NAME[c] = 1;
ASCII_NAME[0x3a] = 1; // :
ASCII_NAME[0x5f] = 1; // _
for (let c = 0x30; c <= 0x39; c++) ASCII_NAME[c] = 2;
ASCII_NAME[0x2d] = 2; // -
ASCII_NAME[0x2e] = 2; // .

function isNameStartBmp(c: number): boolean {
  return (
    (c >= 0xc0 && c <= 0xd6) || (c >= 0xd8 && c <= 0xf6) || (c >= 0xf8 && c <= 0x2ff) ||
    (c >= 0x370 && c <= 0x37d) || (c >= 0x37f && c <= 0x1fff) || c === 0x200c || c === 0x200d ||
    (c >= 0x2070 && c <= 0x218f) || (c >= 0x2c00 && c <= 0x2fef) || (c >= 0x3001 && c <= 0xd7ff) ||
    (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xfffd)
  );
}

function isNameCharBmp(c: number): boolean {
  return isNameStartBmp(c) || c === 0xb7 || (c >= 0x300 && c <= 0x36f) || c === 0x203f || c === 0x2040;
}

/**
 * End of the Name starting at `i`, or -1 when no name starts there. Characters outside the BMP
 * (U+10000–U+EFFFF, allowed in names) arrive as surrogate pairs.
 */
function scanName(s: string, i: number, n: number): number {
  let c = s.charCodeAt(i);
  if (c < 128) {
    if (ASCII_NAME[c] !== 1) return -1;
    i++;
  } else if (isNameStartBmp(c)) {
    i++;
  } else if (c >= 0xd800 && c <= 0xdb7f && isLow(s.charCodeAt(i + 1))) {
    i += 2;
  } else {
    return -1;
  }
  while (i < n) {
    c = s.charCodeAt(i);
    if (c < 128) {
      if (ASCII_NAME[c] === 0) return i;
      i++;
    } else if (isNameCharBmp(c)) {
      i++;
    } else if (c >= 0xd800 && c <= 0xdb7f && isLow(s.charCodeAt(i + 1))) {
      i += 2;
    } else {
      return i;
    }
  }
  return i;
}

const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;
const isS = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;

/** A code point XML allows as a character (§2.2 Char). */
const isXmlChar = (cp: number): boolean =>
  cp === 0x09 || cp === 0x0a || cp === 0x0d || (cp >= 0x20 && cp <= 0xd7ff) ||
  (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);

/**
 * Length in UTF-16 units of the XML Char at `i` (2 for a surrogate pair), or 0 when it is not
 * one. The decoders never produce lone surrogates; a caller passing its own string might.
 */
function xmlCharLength(s: string, i: number, n: number): number {
  const c = s.charCodeAt(i);
  if ((c >= 0x20 && c < 0xd800) || c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0xe000 && c <= 0xfffd)) return 1;
  return c >= 0xd800 && c <= 0xdbff && i + 1 < n && isLow(s.charCodeAt(i + 1)) ? 2 : 0;
}

/** Index of the first character in [from, to) that is not an XML Char, or -1. */
function firstBadChar(s: string, from: number, to: number): number {
  for (let i = from; i < to; ) {
    const len = xmlCharLength(s, i, to);
    if (len === 0) return i;
    i += len;
  }
  return -1;
}

// ── findings ─────────────────────────────────────────────────────────────────────────────────────

type Pair = readonly [string, string];

function syntaxAt(s: string, i: number, [zh, en]: Pair): Finding {
  const { line, column } = lineColumn(s, i);
  return finding('error', 'GOVGATE_XML_SYNTAX', { line, column, detail: zh, detailEn: en });
}

function badCharAt(s: string, i: number, path: string): Finding {
  const cp = s.codePointAt(i) as number;
  const { line, column } = lineColumn(s, i);
  if (cp === 0) return finding('error', 'GOVGATE_NUL_CHARACTER', { path, line, column });
  const u = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return finding('error', 'GOVGATE_XML_SYNTAX', {
    line, column, found: u, detail: `XML 中不允许出现字符 ${u}`, detailEn: `the character ${u} is not allowed in XML`,
  });
}

function unexpectedAt(s: string, i: number, path: string, [zh, en]: Pair): Finding {
  const { line, column } = lineColumn(s, i);
  return finding('error', 'GOVGATE_XML_UNEXPECTED_CONTENT', { path, line, column, detail: zh, detailEn: en });
}

const M = {
  declaration: ['XML 声明格式错误：应为 <?xml version="1.0" encoding="…"?>', 'malformed XML declaration: expected <?xml version="1.0" encoding="…"?>'],
  declarationLate: ['XML 声明只能出现在文档最开始，且应写作小写的 <?xml', 'the XML declaration must be at the very start of the document, written in lower case as <?xml'],
  noRoot: ['缺少根元素', 'there is no root element'],
  beforeRoot: ['根元素之前只能有空白、注释和 XML 声明', 'only whitespace, comments and the XML declaration may precede the root element'],
  afterRoot: ['根元素之后只能有空白和注释', 'only whitespace and comments may follow the root element'],
  elementName: ['元素名称不合法', 'invalid element name'],
  attributeName: ['属性名称不合法', 'invalid attribute name'],
  tagEnd: ["标签中应为空白、属性、'>' 或 '/>'", "expected whitespace, an attribute, '>' or '/>' in the tag"],
  eq: ["属性名之后应为 '='", "expected '=' after the attribute name"],
  quote: ['属性值应以引号括起', 'attribute values must be quoted'],
  attrLt: ["属性值中不允许出现 '<'，请写作 &lt;", "'<' is not allowed in attribute values; write &lt;"],
  attrUnterminated: ['属性值缺少结束引号', 'unterminated attribute value'],
  endTagUnterminated: ["结束标签应以 '>' 结束", "expected '>' to close the end tag"],
  eof: ['文档意外结束：元素未闭合', 'unexpected end of the document: an element is not closed'],
  comment: ["注释未结束，或注释中出现了 '--'", "unterminated comment, or '--' inside a comment"],
  cdata: ['CDATA 段未结束', 'unterminated CDATA section'],
  cdataOutside: ['CDATA 段只能出现在元素内', 'CDATA sections are only allowed inside an element'],
  markup: ["不支持的标记 '<!'", "unsupported markup '<!'"],
  cdataEnd: ["文本中不允许出现 ']]>'", "']]>' is not allowed in text"],
  ref: ["'&' 应为实体引用的开始（如 &amp;），请把 & 写作 &amp;", "'&' must start a reference such as &amp;; write a literal & as &amp;"],
  piUnterminated: ['处理指令未结束', 'unterminated processing instruction'],
  mixed: ['元素中同时含有文本和子元素（混合内容）', 'the element mixes text with child elements'],
  internal: ['XML 解析器拒绝了该文档', 'the XML parser rejected the document'],
} as const satisfies Record<string, Pair>;

// ── references ───────────────────────────────────────────────────────────────────────────────────

const PREDEFINED: ReadonlySet<string> = new Set(['lt', 'gt', 'amp', 'apos', 'quot']);

/**
 * Index after the reference that starts with `&` at `i`, or a finding. The path (for a NUL
 * finding) is built only then: `depth` open elements, plus the tag being read when a reference
 * sits in an attribute value (`tagStart` ≥ 0).
 */
function checkReference(s: string, i: number, n: number, depth: number, tagStart = -1, tagEnd = -1): number | Finding {
  let j = i + 1;
  if (s.charCodeAt(j) === 0x23) {
    j++;
    const hex = s.charCodeAt(j) === 0x78;
    if (hex) j++;
    const digitsStart = j;
    let cp = 0;
    for (;;) {
      const c = s.charCodeAt(j);
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (hex && c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (hex && c >= 0x41 && c <= 0x46) d = c - 0x37;
      else break;
      // Saturate: the exact size of an out-of-range value does not matter.
      cp = Math.min(cp * (hex ? 16 : 10) + d, 0x110000);
      j++;
    }
    if (j === digitsStart || s.charCodeAt(j) !== 0x3b) return syntaxAt(s, i, M.ref);
    if (cp === 0) {
      const { line, column } = lineColumn(s, i);
      const path = pathOf(s, depth, tagStart < 0 ? undefined : s.slice(tagStart, tagEnd));
      return finding('error', 'GOVGATE_NUL_CHARACTER', { path, line, column });
    }
    if (!isXmlChar(cp)) {
      const ref = s.slice(i, Math.min(j + 1, i + 20));
      const { line, column } = lineColumn(s, i);
      return finding('error', 'GOVGATE_XML_SYNTAX', {
        line, column, found: ref,
        detail: `字符引用 ${ref} 指向的不是合法的 XML 字符`,
        detailEn: `the character reference ${ref} does not name a legal XML character`,
      });
    }
    return j + 1;
  }
  const end = scanName(s, j, n);
  if (end === -1 || s.charCodeAt(end) !== 0x3b) return syntaxAt(s, i, M.ref);
  const name = s.slice(j, end);
  if (!PREDEFINED.has(name)) {
    const { line, column } = lineColumn(s, i);
    return finding('error', 'GOVGATE_XML_SYNTAX', {
      line, column, found: `&${name};`,
      detail: `未声明的实体 &${name};：XML 只允许 &lt; &gt; &amp; &apos; &quot; 和数字字符引用`,
      detailEn: `undeclared entity &${name};: XML allows only &lt; &gt; &amp; &apos; &quot; and numeric character references`,
    });
  }
  return end + 1;
}

// ── the well-formedness pass ─────────────────────────────────────────────────────────────────────

const DOCTYPE_RE = /<!(?:doctype|entity)/i;
const DECLARATION_RE =
  /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:"1\.0"|'1\.0')(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:"[A-Za-z][A-Za-z0-9._-]*"|'[A-Za-z][A-Za-z0-9._-]*'))?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\r\n]*\?>/y;

// Per-level state, reused across calls (the pass is synchronous): where each open element's name
// sits in the text (names are compared in place, not sliced) and what content it has seen.
let nameAt = new Int32Array(64);
let nameLength = new Int32Array(64);
let hasChild = new Uint8Array(64);
let hasText = new Uint8Array(64);
// Attributes of the current start tag, as (offset, length) pairs, for the duplicate check.
const attrSpans: number[] = [];

function pathOf(s: string, levels: number, last?: string): string {
  const parts: string[] = [];
  for (let l = 0; l < levels; l++) {
    const at = nameAt[l] as number;
    parts.push(s.slice(at, at + (nameLength[l] as number)));
  }
  if (last !== undefined) parts.push(last);
  return pointer(...parts);
}

function sameText(s: string, a: number, b: number, len: number): boolean {
  for (let k = 0; k < len; k++) if (s.charCodeAt(a + k) !== s.charCodeAt(b + k)) return false;
  return true;
}

/** `__proto__`, `constructor` or `prototype`, also as the local part of a prefixed name. */
function isForbiddenAt(s: string, start: number, end: number): boolean {
  const len = end - start;
  if (len === 9 && (s.startsWith('__proto__', start) || s.startsWith('prototype', start))) return true;
  if (len === 11 && s.startsWith('constructor', start)) return true;
  // `x:__proto__`: the local part has 9 or 11 characters, so the colon sits at one of two places.
  if (len > 10 && s.charCodeAt(end - 10) === 0x3a) return isForbiddenAt(s, end - 9, end);
  if (len > 12 && s.charCodeAt(end - 12) === 0x3a) return isForbiddenAt(s, end - 11, end);
  return false;
}

/** Proves `s` well-formed (in the accepted subset); returns the root element name or a finding. */
export function checkXml(s: string, maxDepth: number): string | Finding {
  const n = s.length;
  const doctype = DOCTYPE_RE.exec(s);
  if (doctype !== null) {
    const { line, column } = lineColumn(s, doctype.index);
    return finding('error', 'GOVGATE_XML_DOCTYPE_FORBIDDEN', { line, column, found: doctype[0] });
  }
  if (hasChild.length < maxDepth) {
    nameAt = new Int32Array(maxDepth);
    nameLength = new Int32Array(maxDepth);
    hasChild = new Uint8Array(maxDepth);
    hasText = new Uint8Array(maxDepth);
  }
  let depth = 0;
  let root = '';
  let i = s.charCodeAt(0) === 0xfeff ? 1 : 0;

  if (s.startsWith('<?xml', i) && (isS(s.charCodeAt(i + 5)) || s.charCodeAt(i + 5) === 0x3f)) {
    DECLARATION_RE.lastIndex = i;
    if (!DECLARATION_RE.test(s)) return syntaxAt(s, i, M.declaration);
    i = DECLARATION_RE.lastIndex;
  }

  // Misc (whitespace, comments) before and after the root; `phase` 0 = before, 2 = after.
  let phase = 0;
  for (;;) {
    if (phase !== 1) {
      while (i < n && isS(s.charCodeAt(i))) i++;
      if (i >= n) return phase === 2 ? root : syntaxAt(s, i, M.noRoot);
      if (s.charCodeAt(i) !== 0x3c) {
        if (xmlCharLength(s, i, n) === 0) return badCharAt(s, i, '');
        return syntaxAt(s, i, phase === 0 ? M.beforeRoot : M.afterRoot);
      }
      const c1 = s.charCodeAt(i + 1);
      if (c1 === 0x21) {
        if (!s.startsWith('<!--', i)) return syntaxAt(s, i, phase === 0 ? M.beforeRoot : M.afterRoot);
        const r = skipComment(s, i, n);
        if (typeof r !== 'number') return r;
        i = r;
        continue;
      }
      if (c1 === 0x3f) return processingInstruction(s, i, n, '');
      if (phase === 2 || c1 === 0x2f) return syntaxAt(s, i, phase === 0 ? M.beforeRoot : M.afterRoot);
      phase = 1;
    }

    // Inside the root: at a '<' or at text.
    if (i >= n) return syntaxAt(s, i, M.eof);
    let c = s.charCodeAt(i);
    if (c !== 0x3c) {
      // Text run up to the next '<'.
      let textAt = -1;
      while (i < n) {
        c = s.charCodeAt(i);
        if (c === 0x3c) break;
        if (c > 0x20 && c < 0xd800 && c !== 0x26 && c !== 0x5d) {
          if (textAt === -1) textAt = i;
          i++;
          continue;
        }
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
          i++;
          continue;
        }
        if (textAt === -1) textAt = i;
        if (c === 0x26) {
          const r = checkReference(s, i, n, depth);
          if (typeof r !== 'number') return r;
          i = r;
        } else if (c === 0x5d) {
          if (s.charCodeAt(i + 1) === 0x5d && s.charCodeAt(i + 2) === 0x3e) return syntaxAt(s, i, M.cdataEnd);
          i++;
        } else {
          const len = xmlCharLength(s, i, n);
          if (len === 0) return badCharAt(s, i, pathOf(s, depth));
          i += len;
        }
      }
      if (textAt !== -1) {
        if (hasChild[depth - 1] === 1) return unexpectedAt(s, textAt, pathOf(s, depth), M.mixed);
        hasText[depth - 1] = 1;
      }
      continue;
    }

    const c1 = s.charCodeAt(i + 1);
    if (c1 === 0x2f) {
      // End tag.
      const nameStart = i + 2;
      const nameEnd = scanName(s, nameStart, n);
      if (nameEnd === -1) return syntaxAt(s, nameStart, M.elementName);
      let j = nameEnd;
      while (j < n && isS(s.charCodeAt(j))) j++;
      if (s.charCodeAt(j) !== 0x3e) return syntaxAt(s, j, M.endTagUnterminated);
      const openAt = nameAt[depth - 1] as number;
      const openLength = nameLength[depth - 1] as number;
      if (nameEnd - nameStart !== openLength || !sameText(s, nameStart, openAt, openLength)) {
        const name = s.slice(nameStart, nameEnd);
        const open = s.slice(openAt, openAt + openLength);
        const { line, column } = lineColumn(s, i);
        return finding('error', 'GOVGATE_XML_SYNTAX', {
          line, column, expected: `</${open}>`, found: `</${name}>`,
          detail: `结束标签应为 </${open}>，实际为 </${name}>`,
          detailEn: `expected the end tag </${open}>, found </${name}>`,
        });
      }
      depth--;
      i = j + 1;
      if (depth === 0) phase = 2;
      continue;
    }
    if (c1 === 0x21) {
      if (s.startsWith('<!--', i)) {
        const r = skipComment(s, i, n);
        if (typeof r !== 'number') return r;
        i = r;
        continue;
      }
      if (s.startsWith('<![CDATA[', i)) {
        const end = s.indexOf(']]>', i + 9);
        if (end === -1) return syntaxAt(s, i, M.cdata);
        const bad = firstBadChar(s, i + 9, end);
        if (bad !== -1) return badCharAt(s, bad, pathOf(s, depth));
        if (end > i + 9) {
          if (hasChild[depth - 1] === 1) return unexpectedAt(s, i, pathOf(s, depth), M.mixed);
          hasText[depth - 1] = 1;
        }
        i = end + 3;
        continue;
      }
      return syntaxAt(s, i, M.markup);
    }
    if (c1 === 0x3f) return processingInstruction(s, i, n, pathOf(s, depth));

    // Start tag.
    const tagAt = i;
    const nameStart = i + 1;
    const nameEnd = scanName(s, nameStart, n);
    if (nameEnd === -1) return syntaxAt(s, nameStart, M.elementName);
    if (isForbiddenAt(s, nameStart, nameEnd)) {
      const { line, column } = lineColumn(s, nameStart);
      return finding('error', 'GOVGATE_FORBIDDEN_KEY', { path: pathOf(s, depth), key: s.slice(nameStart, nameEnd), line, column });
    }
    if (depth > 0) {
      if (hasText[depth - 1] === 1) return unexpectedAt(s, tagAt, pathOf(s, depth), M.mixed);
      hasChild[depth - 1] = 1;
    }
    if (depth >= maxDepth) {
      const { line, column } = lineColumn(s, tagAt);
      return finding('error', 'GOVGATE_DEPTH_EXCEEDED', { path: pathOf(s, depth, s.slice(nameStart, nameEnd)), limit: maxDepth, line, column });
    }
    i = nameEnd;
    if (attrSpans.length !== 0) attrSpans.length = 0;
    let selfClosing = false;
    for (;;) {
      let spaced = false;
      while (i < n && isS(s.charCodeAt(i))) {
        i++;
        spaced = true;
      }
      c = s.charCodeAt(i);
      if (c === 0x3e) {
        i++;
        break;
      }
      if (c === 0x2f && s.charCodeAt(i + 1) === 0x3e) {
        i += 2;
        selfClosing = true;
        break;
      }
      if (!spaced) return syntaxAt(s, i, i >= n ? M.eof : M.tagEnd);
      const attrStart = i;
      const attrEnd = scanName(s, i, n);
      if (attrEnd === -1) return syntaxAt(s, i, M.attributeName);
      const attrLength = attrEnd - attrStart;
      if (isForbiddenAt(s, attrStart, attrEnd)) {
        const { line, column } = lineColumn(s, attrStart);
        return finding('error', 'GOVGATE_FORBIDDEN_KEY', { path: pathOf(s, depth, s.slice(nameStart, nameEnd)), key: s.slice(attrStart, attrEnd), line, column });
      }
      for (let k = 0; k < attrSpans.length; k += 2) {
        if (attrSpans[k + 1] === attrLength && sameText(s, attrSpans[k] as number, attrStart, attrLength)) {
          const attr = s.slice(attrStart, attrEnd);
          const { line, column } = lineColumn(s, attrStart);
          return finding('error', 'GOVGATE_XML_SYNTAX', {
            line, column, found: attr,
            detail: `属性 ${attr} 重复出现`, detailEn: `the attribute ${attr} appears twice`,
          });
        }
      }
      attrSpans.push(attrStart, attrLength);
      i = attrEnd;
      while (i < n && isS(s.charCodeAt(i))) i++;
      if (s.charCodeAt(i) !== 0x3d) return syntaxAt(s, i, M.eq);
      i++;
      while (i < n && isS(s.charCodeAt(i))) i++;
      const q = s.charCodeAt(i);
      if (q !== 0x22 && q !== 0x27) return syntaxAt(s, i, M.quote);
      i++;
      for (;;) {
        if (i >= n) return syntaxAt(s, attrStart, M.attrUnterminated);
        c = s.charCodeAt(i);
        if (c === q) break;
        if (c === 0x3c) return syntaxAt(s, i, M.attrLt);
        if (c === 0x26) {
          const r = checkReference(s, i, n, depth, nameStart, nameEnd);
          if (typeof r !== 'number') return r;
          i = r;
          continue;
        }
        if (c >= 0x20 && c < 0xd800) {
          i++;
          continue;
        }
        const len = xmlCharLength(s, i, n);
        if (len === 0) return badCharAt(s, i, pathOf(s, depth, s.slice(nameStart, nameEnd)));
        i += len;
      }
      i++;
    }
    if (depth === 0) root = s.slice(nameStart, nameEnd);
    if (selfClosing) {
      if (depth === 0) phase = 2;
      continue;
    }
    nameAt[depth] = nameStart;
    nameLength[depth] = nameEnd - nameStart;
    hasChild[depth] = 0;
    hasText[depth] = 0;
    depth++;
  }
}

function skipComment(s: string, i: number, n: number): number | Finding {
  // XML forbids '--' inside a comment, so the first '--' must be the start of '-->'.
  const dash = s.indexOf('--', i + 4);
  if (dash === -1 || s.charCodeAt(dash + 2) !== 0x3e) return syntaxAt(s, i, M.comment);
  const bad = firstBadChar(s, i + 4, dash);
  if (bad !== -1) return badCharAt(s, bad, '');
  return dash + 3 > n ? syntaxAt(s, i, M.comment) : dash + 3;
}

function processingInstruction(s: string, i: number, n: number, path: string): Finding {
  const end = scanName(s, i + 2, n);
  const target = end === -1 ? '' : s.slice(i + 2, end);
  if (target.toLowerCase() === 'xml') return syntaxAt(s, i, M.declarationLate);
  if (s.indexOf('?>', i + 2) === -1) return syntaxAt(s, i, M.piUnterminated);
  return unexpectedAt(s, i, path, [
    `不允许使用处理指令 <?${target}?>`,
    `processing instructions are not allowed (<?${target}?>)`,
  ]);
}

// ── building the tree ────────────────────────────────────────────────────────────────────────────

const PREDEFINED_VALUE: Readonly<Record<string, string>> = Object.assign(Object.create(null) as Record<string, string>, {
  lt: '<', gt: '>', amp: '&', apos: "'", quot: '"',
});

/**
 * Entity decoding for fast-xml-parser, built once. With `htmlEntities: true` the parser built a
 * new `EntityDecoder` on every `parse()`, merging the ~2,000-entry HTML entity table each time:
 * 28 µs of the ~130 µs it spent on the 2.6 KB benchmark record (Node 20.20, 50,000 constructions).
 * checkXml has already proven that every `&` starts one of the five predefined entities or a
 * numeric reference to a legal XML character, so nothing else is needed; DOCTYPE is refused before
 * parsing, so there are no input entities either. The algorithm is @nodable/entities 3.1's
 * `decode` (one pass; the `;` must come within 32 characters of the `&`, else the `&` stays
 * literal; NUL, surrogates and restricted C0 references are removed, out-of-range ones kept), so
 * the output is the same; test/perf-xml.test.ts compares it with the parser's own decoder.
 */
export function decodeXmlReferences(str: string): string {
  if (str.indexOf('&') === -1) return str;
  const len = str.length;
  let out = '';
  let last = 0;
  let i = 0;
  while (i < len) {
    if (str.charCodeAt(i) !== 0x26) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < len && str.charCodeAt(j) !== 0x3b && j - i <= 32) j++;
    if (j >= len || str.charCodeAt(j) !== 0x3b || j === i + 1) {
      i++;
      continue;
    }
    let replacement: string | undefined;
    if (str.charCodeAt(i + 1) === 0x23) {
      const second = str.charCodeAt(i + 2);
      const cp = second === 0x78 || second === 0x58 ? parseInt(str.slice(i + 3, j), 16) : parseInt(str.slice(i + 2, j), 10);
      if (Number.isNaN(cp) || cp < 0 || cp > 0x10ffff) replacement = undefined;
      else if (cp === 0 || (cp >= 0xd800 && cp <= 0xdfff) || (cp <= 0x1f && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d)) replacement = '';
      else replacement = String.fromCodePoint(cp);
    } else {
      replacement = PREDEFINED_VALUE[str.slice(i + 1, j)];
    }
    if (replacement === undefined) {
      i++;
      continue;
    }
    out += str.slice(last, i) + replacement;
    last = j + 1;
    i = last;
  }
  return last === 0 ? str : out + str.slice(last);
}

const ENTITY_DECODER = {
  setExternalEntities: (): void => {},
  addInputEntities: (): void => {},
  reset: (): void => {},
  setXmlVersion: (): void => {},
  decode: decodeXmlReferences,
};

const parsers = new Map<number, XMLParser>();

function parserFor(maxDepth: number): XMLParser {
  let p = parsers.get(maxDepth);
  if (p === undefined) {
    p = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '@_',
      textNodeName: '#text',
      parseTagValue: false,
      parseAttributeValue: false,
      trimValues: true,
      // DOCTYPE is rejected before parsing, so only the five XML entities and numeric references
      // (`&#20013;` → 中) remain: see ENTITY_DECODER.
      processEntities: true,
      entityDecoder: ENTITY_DECODER,
      allowBooleanAttributes: false,
      ignoreDeclaration: true,
      ignorePiTags: true,
      removeNSPrefix: false,
      strictReservedNames: true,
      maxNestedTags: maxDepth,
      // Callbacks get the matcher instead of a path string built for every tag (about 10% faster).
      jPath: false,
      onDangerousProperty: (name: string) => name,
    });
    if (parsers.size > 16) parsers.clear();
    parsers.set(maxDepth, p);
  }
  return p;
}

function fromParserError(err: unknown, maxDepth: number): Finding {
  const message = err instanceof Error ? err.message : String(err);
  const security = /^\[SECURITY\][^"]*"([^"]*)"/.exec(message);
  if (security !== null) return finding('error', 'GOVGATE_FORBIDDEN_KEY', { key: security[1] ?? '' });
  if (message.includes('Maximum nested tags')) return finding('error', 'GOVGATE_DEPTH_EXCEEDED', { limit: maxDepth });
  return finding('error', 'GOVGATE_XML_SYNTAX', {
    line: 1, column: 1, detail: `${M.internal[0]}：${message}`, detailEn: `${M.internal[1]}: ${message}`,
  });
}

/**
 * The tree, from text checkXml has accepted, without fast-xml-parser. On the 2.6 KB benchmark case
 * record fast-xml-parser took ~138 µs as configured before, ~110 µs even with ENTITY_DECODER (it
 * builds a tree of nodes, then a second one of objects, and collects text a character at a time),
 * with end-to-end XML intake at ~150 µs and, in 100-record batches, 16% more in the garbage
 * collector; this takes ~12 µs (Node 20.20, medians of 7 runs; test/perf-xml.test.ts prints both).
 *
 * It relies on the checks already done (well-formed, the accepted subset, depth, names, references)
 * and reproduces fast-xml-parser's output with the options in `parserFor` exactly, which
 * test/perf-xml.test.ts checks against fast-xml-parser on the hostile corpus, the spec examples
 * and random documents:
 * - CRLF and CR become LF everywhere first;
 * - text is collected up to the next tag, across comments, and "flushed" at each start tag, CDATA
 *   section and end tag: trimmed (String.prototype.trim), then references decoded; a CDATA
 *   section's content is added as it is; the element's text is everything flushed, concatenated;
 * - an element with neither child elements nor attributes is its text (`""` when empty); otherwise
 *   an object with the children in document order, then `#text` (if not empty), then the
 *   attributes as `@_name`, their values trimmed, then decoded;
 * - a repeated child becomes an array on its second occurrence.
 * Text outside the root (whitespace, comments, the declaration) is dropped.
 */
export function buildXmlTree(checked: string): XmlNode {
  const s = checked.indexOf('\r') === -1 ? checked : checked.replace(/\r\n?/g, '\n');
  const n = s.length;
  // Every search below finds what checkXml has seen; `at` turns a miss (a bug) into an exception,
  // which parseXmlSafe reports as a 400, rather than a loop that never ends.
  const at = (k: number): number => {
    if (k < 0 || k >= n) throw new Error('buildXmlTree: unexpected end of the document');
    return k;
  };
  // Per open element: its name, its children (created on the first), its attributes, its text.
  const names: string[] = [];
  const children: Array<Record<string, XmlNode | XmlNode[]> | undefined> = [];
  const attributes: Array<Record<string, string> | undefined> = [];
  const texts: string[] = [];
  let depth = 0;
  let pending = ''; // text since the last flush, raw
  let i = 0;
  for (;;) {
    const lt = at(s.indexOf('<', i));
    if (depth > 0 && lt > i) pending += s.slice(i, lt);
    const c1 = s.charCodeAt(lt + 1);
    if (c1 === 0x21) {
      if (s.charCodeAt(lt + 2) === 0x2d) {
        // A comment: dropped, and the text around it is one text.
        i = at(s.indexOf('-->', lt + 4)) + 3;
        continue;
      }
      // <![CDATA[ … ]]>
      const end = at(s.indexOf(']]>', lt + 9));
      if (pending !== '') pending = flush(pending, texts, depth - 1);
      texts[depth - 1] += s.slice(lt + 9, end);
      i = end + 3;
      continue;
    }
    if (c1 === 0x3f) {
      // The XML declaration, the only processing instruction checkXml lets through.
      i = at(s.indexOf('?>', lt + 2)) + 2;
      continue;
    }
    if (c1 === 0x2f) {
      const level = depth - 1;
      if (pending !== '') pending = flush(pending, texts, level);
      const value = elementValue(children[level], attributes[level], texts[level] as string);
      children[level] = undefined;
      attributes[level] = undefined;
      depth = level;
      if (depth === 0) return value;
      addChild(children, depth - 1, names[level] as string, value);
      i = at(s.indexOf('>', lt + 2)) + 1;
      continue;
    }

    // A start tag.
    if (pending !== '') pending = flush(pending, texts, depth - 1);
    let j = lt + 1;
    let c = s.charCodeAt(j);
    while (c !== 0x3e && c !== 0x2f && c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) c = s.charCodeAt(at(++j));
    const name = s.slice(lt + 1, j);
    let attrs: Record<string, string> | undefined;
    let selfClosing = false;
    for (;;) {
      c = s.charCodeAt(at(j));
      if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) {
        j++;
      } else if (c === 0x3e) {
        j++;
        break;
      } else if (c === 0x2f) {
        j += 2;
        selfClosing = true;
        break;
      } else {
        const attrStart = j;
        while (c !== 0x3d && c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) c = s.charCodeAt(at(++j));
        const attrName = s.slice(attrStart, j);
        while (s.charCodeAt(at(j)) !== 0x22 && s.charCodeAt(j) !== 0x27) j++; // past the '=' and blanks
        const valueEnd = at(s.indexOf(s[j] as string, j + 1));
        attrs ??= {};
        attrs[`@_${attrName}`] = decodeXmlReferences(s.slice(j + 1, valueEnd).trim());
        j = valueEnd + 1;
      }
    }
    i = j;
    if (selfClosing) {
      const value = elementValue(undefined, attrs, '');
      if (depth === 0) return value;
      addChild(children, depth - 1, name, value);
      continue;
    }
    names[depth] = name;
    attributes[depth] = attrs;
    texts[depth] = '';
    depth++;
  }
}

/** Adds the trimmed, decoded text to the element at `level`; returns the new pending text (''). */
function flush(pending: string, texts: string[], level: number): string {
  const trimmed = pending.trim();
  if (trimmed !== '' && level >= 0) texts[level] += decodeXmlReferences(trimmed);
  return '';
}

function elementValue(kids: Record<string, XmlNode | XmlNode[]> | undefined, attrs: Record<string, string> | undefined, text: string): XmlNode {
  if (kids === undefined && attrs === undefined) return text;
  const out = kids ?? {};
  if (text !== '') out['#text'] = text;
  if (attrs !== undefined) for (const key of Object.keys(attrs)) out[key] = attrs[key] as string;
  return out;
}

function addChild(children: Array<Record<string, XmlNode | XmlNode[]> | undefined>, level: number, name: string, value: XmlNode): void {
  let kids = children[level];
  if (kids === undefined) {
    kids = {};
    children[level] = kids;
  }
  // Own properties only: `toString` and the like are element names like any other.
  const prev = kids[name];
  if (prev === undefined || !Object.hasOwn(kids, name)) kids[name] = value;
  else if (Array.isArray(prev)) (prev as XmlNode[]).push(value);
  else kids[name] = [prev as XmlNode, value];
}

/**
 * Characters JavaScript's `\s` matches that XML also allows in names (U+1680 OGHAM SPACE MARK,
 * U+FEFF). fast-xml-parser splits tag and attribute names at `\s`, so where they occur its output
 * is not what buildXmlTree reproduces; such documents (none in practice) keep going through it.
 */
const NAME_SPLITTERS = ['\u1680', '\ufeff'] as const;

export function parseXmlSafe(text: string, opts: XmlOptions): XmlResult {
  const maxDepth = Math.max(1, Math.floor(opts.maxDepth));
  const checked = checkXml(text, maxDepth);
  if (typeof checked !== 'string') return { ok: false, finding: checked };
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.indexOf(NAME_SPLITTERS[0]) === -1 && body.indexOf(NAME_SPLITTERS[1]) === -1) {
    try {
      return { ok: true, root: checked, value: buildXmlTree(body) };
    } catch (err) {
      // Unreachable after checkXml; kept so that a bug here is a 400, not a 500.
      return { ok: false, finding: fromParserError(err, maxDepth) };
    }
  }
  let tree: unknown;
  try {
    tree = parserFor(maxDepth).parse(body);
  } catch (err) {
    // Unreachable after checkXml; kept so a disagreement between the two is a 400, not a 500.
    return { ok: false, finding: fromParserError(err, maxDepth) };
  }
  if (typeof tree !== 'object' || tree === null || !Object.hasOwn(tree, checked)) {
    return { ok: false, finding: fromParserError(new Error('no root element in the parsed tree'), maxDepth) };
  }
  return { ok: true, root: checked, value: (tree as Record<string, XmlNode>)[checked] as XmlNode };
}
