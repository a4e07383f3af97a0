/**
 * YAML files with positions: every configuration mistake is reported as file, line and column,
 * because "server.port is invalid" sends an operator hunting while "govgate.yaml:12:9" does not.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { GovgateError } from '../errors.js';
import type { Problem } from './ajv.js';

export type ConfigErrorCode = 'GOVGATE_CONFIG_INVALID' | 'GOVGATE_MAPPING_INVALID';

export interface Position {
  readonly line: number;
  readonly column: number;
}

/** A problem with its place: the unit of every configuration error govgate reports. */
export interface LocatedProblem {
  readonly file: string;
  /** 1-based; absent when the value came from the environment or from no file at all. */
  readonly line?: number;
  readonly column?: number;
  /** Dotted path of the option, e.g. `server.port`, `keys[1].secret`. */
  readonly path: string;
  readonly zh: string;
  readonly en: string;
  readonly expected?: unknown;
  readonly found?: unknown;
}

/** Where a part of a document lives; mappings compiled from a sub-tree locate relative to it. */
export interface Locator {
  readonly file: string;
  position(path: readonly (string | number)[], opts?: { readonly atKey?: boolean }): Position | undefined;
  /** JavaScript type of the YAML scalar at `path` as written, when known. */
  scalarKind?(path: readonly (string | number)[], opts?: { readonly atKey?: boolean }): string | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class YamlSource implements Locator {
  private constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** `name` is how errors call the file; by default its path. */
  static readFile(path: string, code: ConfigErrorCode, name = path): YamlSource {
    const file = name;
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? { zh: '文件不存在', en: 'the file does not exist' } : { zh: '无法读取文件', en: 'the file cannot be read' };
      throw problemsError(code, [{ file, path: '', zh: `${reason.zh}：${file}`, en: `${reason.en}: ${file}` }], { cause: err });
    }
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch (err) {
      throw problemsError(code, [{
        file, path: '',
        zh: '文件不是有效的 UTF-8 编码（是否以 GBK 保存？请另存为 UTF-8）',
        en: 'the file is not valid UTF-8 (saved as GBK? save it as UTF-8)',
      }], { cause: err });
    }
    return YamlSource.parse(file, text, code);
  }

  static parse(file: string, text: string, code: ConfigErrorCode): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text.startsWith('\uFEFF') ? text.slice(1) : text, {
      lineCounter: lines,
      prettyErrors: true,
      uniqueKeys: true,
      version: '1.2',
    });
    // Warnings (unknown tags, odd directives) are errors here: a config must mean one thing.
    const issues = [...doc.errors, ...doc.warnings];
    if (issues.length > 0) {
      throw problemsError(code, issues.map((e) => {
        const pos = e.linePos?.[0];
        // The position is carried separately; yaml repeats it at the end of the first line.
        const msg = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
        return {
          file, path: '',
          ...(pos ? { line: pos.line, column: pos.col } : {}),
          zh: `YAML 语法错误：${msg}`,
          en: `YAML syntax error: ${msg}`,
        };
      }));
    }
    return new YamlSource(file, doc, lines);
  }

  toJS(): unknown {
    // Configs are written by hand; a hundred aliases is already far beyond any honest use.
    return this.doc.toJS({ maxAliasCount: 100 });
  }

  /**
   * Position of the node at `path`, or of its key with `atKey`. When the path runs out of the
   * document (a required option that is missing), the nearest ancestor that exists is returned.
   */
  position(path: readonly (string | number)[], opts: { readonly atKey?: boolean } = {}): Position | undefined {
    const hit = this.find(path);
    if (hit.complete && opts.atKey === true && hit.keyRange) return this.at(hit.keyRange[0]);
    return hit.range ? this.at(hit.range[0]) : undefined;
  }

  /**
   * The YAML type of the scalar at `path` (or of its key). `01:` and `'01':` both become the key
   * "1"/"01" in JavaScript; only the node knows whether the author wrote a number or a string.
   */
  scalarKind(path: readonly (string | number)[], opts: { readonly atKey?: boolean } = {}): string | undefined {
    const hit = this.find(path);
    if (!hit.complete) return undefined;
    const node = opts.atKey === true ? hit.key : hit.value;
    if (!isScalar(node)) return undefined;
    return node.value === null ? 'null' : typeof node.value;
  }

  private find(path: readonly (string | number)[]): { complete: boolean; range?: Range; keyRange?: Range; key?: unknown; value?: unknown } {
    let node: unknown = this.doc.contents;
    let range = rangeOf(node);
    let keyRange: Range | undefined;
    let key: unknown;
    for (const raw of path) {
      if (isAlias(node)) node = node.resolve(this.doc);
      const seg = String(raw);
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === seg);
        if (pair === undefined) return { complete: false, ...(range ? { range } : {}) };
        key = pair.key;
        keyRange = rangeOf(pair.key);
        const valueRange = rangeOf(pair.value);
        // `port:` with nothing after it has an empty value; point at the key instead.
        range = valueRange && valueRange[1] > valueRange[0] ? valueRange : keyRange ?? range;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (item === undefined) return { complete: false, ...(range ? { range } : {}) };
        key = undefined;
        keyRange = undefined;
        range = rangeOf(item) ?? range;
        node = item;
      } else {
        return { complete: false, ...(range ? { range } : {}) };
      }
    }
    return { complete: true, ...(range ? { range } : {}), ...(keyRange ? { keyRange } : {}), key, value: node };
  }

  private at(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }
}

type Range = readonly [number, number, number];

function rangeOf(node: unknown): Range | undefined {
  const r = (node as { range?: Range | null } | null | undefined)?.range;
  return r ?? undefined;
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

/** A locator into a sub-tree: mapping sections are compiled with paths relative to themselves. */
export function subLocator(parent: Locator, prefix: readonly (string | number)[]): Locator {
  return {
    file: parent.file,
    position: (path, opts) => parent.position([...prefix, ...path], opts),
    ...(parent.scalarKind ? { scalarKind: (path, opts) => parent.scalarKind?.([...prefix, ...path], opts) } : {}),
  };
}

/** `['keys', 1, 'secret']` → `keys[1].secret`; the form the docs use for options. */
export function dottedPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function locate(where: Locator | undefined, p: Problem, fallbackFile = '(内存 / in memory)'): LocatedProblem {
  const pos = where?.position(p.path, p.atKey === true ? { atKey: true } : {});
  return {
    file: where?.file ?? fallbackFile,
    ...(pos ? { line: pos.line, column: pos.column } : {}),
    path: dottedPath(p.path),
    zh: p.zh,
    en: p.en,
    ...(p.expected !== undefined ? { expected: p.expected } : {}),
    ...(p.found !== undefined ? { found: p.found } : {}),
  };
}

/** Reading order: by file, then line, then column; problems without a line come first. */
function byPlace(a: LocatedProblem, b: LocatedProblem): number {
  return a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

/** At most this many problems are carried: past that, the operator has a different problem. */
const MAX_PROBLEMS = 50;

/**
 * One error for all the problems of a load. The first problem fills the message template
 * (file, line, path, detail); `details.problems` lists every problem with both languages,
 * for the CLI to print one per line as `file:line:column path: message`.
 */
export function problemsError(code: ConfigErrorCode, problems: readonly LocatedProblem[], options?: { cause?: unknown }): GovgateError {
  const sorted = [...problems].sort(byPlace).slice(0, MAX_PROBLEMS);
  const first = sorted[0] ?? { file: '', path: '', zh: '未知错误', en: 'unknown error' };
  // The message templates have a single {detail} slot shared by both languages.
  const detail = `${first.zh} / ${first.en}`;
  return new GovgateError(code, {
    file: first.file,
    line: first.line ?? '-',
    column: first.column ?? '-',
    path: first.path === '' ? '/' : first.path,
    detail,
    ...(first.expected !== undefined ? { expected: first.expected } : {}),
    ...(first.found !== undefined ? { found: first.found } : {}),
    problems: sorted,
    ...(problems.length > MAX_PROBLEMS ? { omitted: problems.length - MAX_PROBLEMS } : {}),
  }, options);
}

/** `file:line:column path: 中文 / English` lines, for a terminal. */
export function formatProblems(err: GovgateError): string {
  const problems = err.details.problems as readonly LocatedProblem[] | undefined;
  if (problems === undefined) return `${err.code}: ${err.messages.zh} / ${err.messages.en}`;
  return problems
    .map((p) => {
      const where = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.column ?? 1}`;
      return `${where} ${p.path === '' ? '' : `${p.path}: `}${p.zh} / ${p.en}`;
    })
    .join('\n');
}

/** Freezes a plain-data tree in place; configuration is read-only once validated. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
