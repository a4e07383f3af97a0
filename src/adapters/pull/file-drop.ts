/**
 * file-drop: the landing directory of the one-way ferry (网闸) between the government intranet
 * and the internet. A department drops batch files (JSON, XML, or CSV with a header mapping) and,
 * last, a manifest naming each file with its record count, size and digest. A batch is taken only
 * when its manifest is complete and every digest matches; it then moves to `done/<batch>/` (or
 * `failed/<batch>/`) with a report file next to it.
 *
 * Crash safety: each file's ledger entry (`<batchId>/<file>` + sha256) commits with its payload.
 * A crash before the move leaves the batch in the landing directory; the next run finds its files
 * in the ledger, does not ingest them again, and finishes the move.
 *
 * Manifest (`<anything>.manifest.json`, UTF-8 JSON; docs/pulling.md):
 *   { "manifestVersion": 1, "batchId": "FERRY-20260310-0001", "deptCode": "11330100002489671K",
 *     "createdAt": "2026-03-10T17:00:00+08:00",
 *     "files": [ { "name": "cases-1.csv", "format": "csv", "records": 120, "bytes": 48211,
 *                  "sha256": "<hex>", "sm3": "<hex, optional>" } ],
 *     "signature": { "keyId": "city-gw-2026", "algorithm": "hmac-sm3", "value": "<base64>" } }
 *
 * `signature` is optional: an HMAC (src/client/sign.ts) over the manifest without `signature` in
 * canonical JSON (RFC 8785). The manifest names every file's digests, so it covers the files too.
 * With `signatureKeys` configured a manifest must carry a valid one (unless `requireSignature` is
 * false); without keys, signed and unsigned manifests are both taken, as before signatures existed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { validatorFor } from '../../config/ajv.js';
import { sign, type SigningAlgorithm } from '../../client/sign.js';
import { HMAC_ALGORITHMS, MIN_SECRET_LENGTH } from '../../config/schema.js';
import { canonicalJson } from '../../schemas/canonical.js';
import { GovgateError, errorMessage, type ErrorCode } from '../../errors.js';
import { sm3 } from '../../store/chain.js';
import type { SchemaNode } from '../../config/schema.js';
import type { CheckResult, Doc, LedgerEntry, PullAdapter, PullAdapterContext, PullAdapterSpec, PullKind, PullRun } from '../types.js';
import { aborted, type OptionProblem } from './common.js';

export interface FileDropOptions {
  readonly dir: string;
  readonly doneDir?: string;
  readonly failedDir?: string;
  readonly manifestSuffix: string;
  readonly incompleteTimeoutSeconds: number;
  readonly maxBatchesPerRun: number;
  readonly csv: {
    readonly delimiter: string;
    readonly encoding: 'utf-8' | 'gbk' | 'gb18030';
    readonly columns: Readonly<Record<string, string>>;
  };
  readonly signatureKeys?: readonly SignatureKey[];
  readonly requireSignature: boolean;
}

/** A key manifests may be signed with: the sender's key id and the shared secret. */
export interface SignatureKey {
  readonly keyId: string;
  readonly algorithm: SigningAlgorithm;
  readonly secret?: string;
  readonly secretEnv?: string;
}

const optionsSchema: SchemaNode = {
  type: 'object', additionalProperties: false, required: ['dir'],
  'x-doc': { zh: 'file-drop 选项', en: 'file-drop options' },
  properties: {
    dir: { type: 'string', minLength: 1, maxLength: 4096, examples: ['/data/ferry/in/scjg'], 'x-path': true, 'x-doc': { zh: '落地目录（网闸摆渡的接收目录）。', en: 'Landing directory (where the ferry delivers).' } },
    doneDir: { type: 'string', minLength: 1, maxLength: 4096, examples: ['/data/ferry/done/scjg'], 'x-path': true, 'x-default-doc': { zh: '落地目录下的 done/', en: 'done/ under the landing directory' }, 'x-doc': { zh: '处理完成的批次移入此目录（每批一个子目录，含报告）；须与落地目录在同一文件系统。', en: 'Where handled batches go (one sub-directory per batch, with its report); on the landing directory\'s file system.' } },
    failedDir: { type: 'string', minLength: 1, maxLength: 4096, examples: ['/data/ferry/failed/scjg'], 'x-path': true, 'x-default-doc': { zh: '落地目录下的 failed/', en: 'failed/ under the landing directory' }, 'x-doc': { zh: '失败的批次移入此目录，附报告说明原因。', en: 'Where failed batches go, with a report saying why.' } },
    manifestSuffix: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,32}$', default: '.manifest.json', examples: ['.manifest.json'], 'x-doc': { zh: '清单文件名的后缀。', en: 'Suffix of manifest file names.' } },
    incompleteTimeoutSeconds: { type: 'integer', minimum: 10, maximum: 30 * 86_400, default: 3600, examples: [3600], 'x-doc': { zh: '清单出现后，批次在此时间内仍未到齐（文件缺失、未写完或清单不完整）则判为失败。', en: 'A batch still incomplete this long after its manifest appeared (files missing or short, manifest unreadable) fails.' } },
    maxBatchesPerRun: { type: 'integer', minimum: 1, maximum: 100_000, default: 100, examples: [100], 'x-doc': { zh: '单次运行最多处理的批次数。', en: 'Most batches one run handles.' } },
    csv: {
      type: 'object', additionalProperties: false, default: {},
      'x-doc': { zh: 'CSV 文件', en: 'CSV files' },
      properties: {
        delimiter: { type: 'string', minLength: 1, maxLength: 1, default: ',', examples: ['|'], 'x-doc': { zh: '分隔符。', en: 'Delimiter.' } },
        encoding: { type: 'string', enum: ['utf-8', 'gbk', 'gb18030'], default: 'utf-8', examples: ['gbk'], 'x-doc': { zh: '字符集（严格解码，非法字节使文件失败）。', en: 'Charset (decoded strictly: an invalid byte fails the file).' } },
        columns: {
          type: 'object', default: {}, additionalProperties: { type: 'string', minLength: 1, maxLength: 64, 'x-doc': { zh: '字段名', en: 'Field name' } },
          examples: [{ 办件编号: 'PROJID', 申请人: 'APPLYNAME' }],
          'x-doc': { zh: '表头 → 字段名（部门映射所读的名称）；未列出的表头原样使用。', en: 'Header → field name (the name the department mapping reads); headers not listed are used as they are.' },
        },
      },
    },
    signatureKeys: {
      type: 'array', minItems: 1, maxItems: 8,
      'x-default-doc': { zh: '无：不验签，签名与未签名的清单都接收', en: 'none: signatures are not checked; signed and unsigned manifests are both taken' },
      'x-doc': {
        zh: '验证清单签名的密钥（发送方 file-export 的 keyId 与密钥）。配置后清单须带有效签名，否则整批移入 failed/；可同时列出新旧两把密钥以便轮换。',
        en: 'Keys to verify manifest signatures with (the keyId and secret of the sending file-export). With keys, a manifest must carry a valid signature or the batch goes to failed/; list the old and the new key together to rotate.',
      },
      items: {
        type: 'object', additionalProperties: false, required: ['keyId'],
        'x-doc': { zh: '验签密钥', en: 'Verification key' },
        properties: {
          keyId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$', minLength: 1, maxLength: 64, examples: ['city-gw-2026'], 'x-doc': { zh: '密钥编号，与清单 signature.keyId 比对。', en: 'Key id, matched against the manifest\'s signature.keyId.' } },
          algorithm: { type: 'string', enum: HMAC_ALGORITHMS, default: 'hmac-sha256', examples: ['hmac-sm3'], 'x-doc': { zh: '该密钥的签名算法；清单声明的算法须与之相同。', en: 'The key\'s algorithm; the manifest must name the same one.' } },
          secret: {
            type: 'string', minLength: MIN_SECRET_LENGTH, maxLength: 512, 'x-secret': true, examples: ['（仅演示 / demo only）'],
            'x-doc': { zh: '密钥明文（机密）。仅供演示，生产环境请用 secretEnv。与 secretEnv 二选一。', en: 'The secret itself. Demo only: use secretEnv in production. Give either this or secretEnv.' },
          },
          secretEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$', minLength: 1, maxLength: 128, examples: ['GOVGATE_FERRY_SECRET'], 'x-doc': { zh: '保存密钥的环境变量名，启动时读取。', en: 'Environment variable holding the secret, read at start.' } },
        },
      },
    },
    requireSignature: {
      type: 'boolean', default: true, examples: [false],
      'x-doc': {
        zh: '配置了 signatureKeys 时是否拒收未签名的清单。仅在发送方逐步启用签名的过渡期设为 false；带签名的清单无论如何都要验证通过。未配置密钥时不起作用。',
        en: 'With signatureKeys, whether an unsigned manifest is refused. Set false only while senders are switching signatures on; a signed manifest must verify either way. No effect without keys.',
      },
    },
  },
};

// ── manifest ─────────────────────────────────────────────────────────────────────────────────────

export interface ManifestFile {
  readonly name: string;
  readonly format: 'json' | 'xml' | 'csv';
  readonly records: number;
  readonly bytes: number;
  readonly sha256: string;
  readonly sm3?: string;
}

export interface ManifestSignature {
  readonly keyId: string;
  readonly algorithm: SigningAlgorithm;
  /** Base64 HMAC of `manifestSigningText(manifest)`. */
  readonly value: string;
}

export interface Manifest {
  readonly manifestVersion: 1;
  readonly batchId: string;
  readonly deptCode: string;
  readonly createdAt?: string;
  readonly files: readonly ManifestFile[];
  readonly signature?: ManifestSignature;
}

/**
 * What a manifest signature covers: the manifest without `signature`, in canonical JSON (RFC 8785),
 * so whitespace and key order chosen by the writer do not matter. The file digests are inside it:
 * signing the manifest signs the files.
 */
export function manifestSigningText(manifest: Readonly<Record<string, unknown>>): string {
  const { signature: _signature, ...signed } = manifest;
  return canonicalJson(signed);
}

/** The `signature` block for a manifest (the one file-export writes and file-drop checks). */
export function signManifest(manifest: Readonly<Record<string, unknown>>, key: { keyId: string; algorithm: SigningAlgorithm; secret: string }): ManifestSignature {
  return { keyId: key.keyId, algorithm: key.algorithm, value: sign(key.algorithm, key.secret, manifestSigningText(manifest)) };
}

const doc = (zh: string, en: string) => ({ 'x-doc': { zh, en } });
const HEX64 = '^[0-9a-fA-F]{64}$';

/** The manifest format, as JSON Schema (also printed in docs/pulling.md). */
export const manifestSchema: SchemaNode = {
  type: 'object', additionalProperties: false, required: ['manifestVersion', 'batchId', 'deptCode', 'files'], ...doc('清单', 'Manifest'),
  properties: {
    manifestVersion: { type: 'integer', enum: [1], ...doc('清单格式版本，现为 1', 'Manifest format version, 1') },
    batchId: { type: 'string', pattern: '^[0-9A-Za-z_.:-]{1,64}$', ...doc('批次号，发送方内唯一', 'Batch id, unique per sender') },
    deptCode: { type: 'string', minLength: 2, maxLength: 32, ...doc('部门代码', 'Department code') },
    createdAt: { type: 'string', maxLength: 40, ...doc('生成时间', 'When it was made') },
    files: {
      type: 'array', minItems: 1, maxItems: 10_000, ...doc('批次中的文件', 'Files of the batch'),
      items: {
        type: 'object', additionalProperties: false, required: ['name', 'format', 'records', 'bytes', 'sha256'], ...doc('文件', 'File'),
        properties: {
          name: { type: 'string', pattern: '^[^/\\\\]{1,255}$', ...doc('文件名（同一目录，不含路径）', 'File name (same directory, no path)') },
          format: { type: 'string', enum: ['json', 'xml', 'csv'], ...doc('格式', 'Format') },
          records: { type: 'integer', minimum: 0, maximum: 10_000_000, ...doc('记录数', 'Record count') },
          bytes: { type: 'integer', minimum: 0, maximum: 2 ** 40, ...doc('字节数', 'Size in bytes') },
          sha256: { type: 'string', pattern: HEX64, ...doc('SHA-256 摘要（十六进制）', 'SHA-256 digest (hex)') },
          sm3: { type: 'string', pattern: HEX64, ...doc('SM3 摘要（十六进制，可选，给出则同样校验）', 'SM3 digest (hex, optional; checked when given)') },
        },
      },
    },
    signature: {
      type: 'object', additionalProperties: false, required: ['keyId', 'algorithm', 'value'],
      ...doc('签名（可选）：对去掉 signature 的清单的规范 JSON（RFC 8785）计算的 HMAC', 'Signature (optional): an HMAC over the manifest without signature, as canonical JSON (RFC 8785)'),
      properties: {
        keyId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$', ...doc('密钥编号', 'Key id') },
        algorithm: { type: 'string', enum: HMAC_ALGORITHMS, ...doc('签名算法', 'Signature algorithm') },
        value: { type: 'string', pattern: '^[A-Za-z0-9+/]{2,200}={0,2}$', ...doc('签名值（Base64）', 'Signature value (base64)') },
      },
    },
  },
};

const CONTENT_TYPE: Record<ManifestFile['format'], string> = { json: 'application/json', xml: 'application/xml', csv: 'text/csv' };

interface Problem {
  readonly code: ErrorCode;
  readonly message: Doc;
  readonly file?: string;
}

const problem = (code: ErrorCode, details: Record<string, unknown>): Problem => ({
  code, message: errorMessage(code, details), ...(typeof details.file === 'string' ? { file: details.file } : {}),
});

/** What the report says about a manifest's signature. */
type SignatureNote = { readonly keyId: string; readonly verified: boolean } | null;

type Verdict =
  | { readonly kind: 'ready'; readonly manifest: Manifest; readonly files: ReadonlyMap<string, Buffer>; readonly signature: SignatureNote }
  | { readonly kind: 'wait'; readonly why: Problem }
  | { readonly kind: 'fail'; readonly manifest?: Manifest; readonly problems: readonly Problem[] };

function validate(o: FileDropOptions, env: NodeJS.ProcessEnv): OptionProblem[] {
  const problems: OptionProblem[] = [];
  if (o.csv.delimiter === '"') problems.push({ path: 'csv.delimiter', zh: '分隔符不能是双引号', en: 'the delimiter cannot be a double quote' });
  const ids = new Set<string>();
  (o.signatureKeys ?? []).forEach((k, i) => {
    const at = `signatureKeys.${i}`;
    if (ids.has(k.keyId)) problems.push({ path: `${at}.keyId`, zh: `密钥编号 ${k.keyId} 重复`, en: `the key id ${k.keyId} is listed twice` });
    ids.add(k.keyId);
    if ((k.secret === undefined) === (k.secretEnv === undefined)) {
      problems.push({ path: `${at}.secret`, zh: 'secret 与 secretEnv 须且只能给出一个', en: 'give exactly one of secret and secretEnv' });
    } else if (k.secretEnv !== undefined) {
      const v = env[k.secretEnv];
      if (v === undefined || v === '') problems.push({ path: `${at}.secretEnv`, zh: `环境变量 ${k.secretEnv} 未设置`, en: `environment variable ${k.secretEnv} is not set` });
      else if (v.length < MIN_SECRET_LENGTH) problems.push({ path: `${at}.secretEnv`, zh: `环境变量 ${k.secretEnv} 中的密钥短于 ${MIN_SECRET_LENGTH} 个字符`, en: `the secret in ${k.secretEnv} is shorter than ${MIN_SECRET_LENGTH} characters` });
    }
  });
  return problems;
}

interface VerifyKey {
  readonly algorithm: SigningAlgorithm;
  readonly secret: string;
}

class FileDrop implements PullAdapter {
  readonly kind = 'file-drop';
  private readonly doneDir: string;
  private readonly failedDir: string;
  /** Verification keys by id; empty when signatures are not checked. */
  private readonly keys: ReadonlyMap<string, VerifyKey>;

  constructor(readonly name: string, private readonly o: FileDropOptions, private readonly ctx: PullAdapterContext) {
    this.doneDir = o.doneDir ?? join(o.dir, 'done');
    this.failedDir = o.failedDir ?? join(o.dir, 'failed');
    this.keys = new Map((o.signatureKeys ?? []).map((k) => {
      const secret = k.secret ?? (k.secretEnv === undefined ? undefined : ctx.env[k.secretEnv]);
      // validate() checked the variable at start; reaching here means the environment changed under us.
      if (secret === undefined || secret.length < MIN_SECRET_LENGTH) throw new Error(`file-drop ${name}: the secret of key ${k.keyId} is not set or too short`);
      return [k.keyId, { algorithm: k.algorithm, secret }];
    }));
  }

  /**
   * Checks the manifest's signature against the configured keys. Returns the problem that fails
   * the batch, or what the report should say. A signature is a yes-or-no matter: nothing to wait for.
   */
  private checkSignature(manifestName: string, manifest: Manifest): Problem | SignatureNote {
    const sig = manifest.signature;
    if (this.keys.size === 0) return sig === undefined ? null : { keyId: sig.keyId, verified: false };
    if (sig === undefined) {
      return this.o.requireSignature ? problem('GOVGATE_FILE_DROP_SIGNATURE_MISSING', { file: manifestName }) : null;
    }
    const invalid = (zh: string, en: string) => problem('GOVGATE_FILE_DROP_SIGNATURE_INVALID', { file: manifestName, detail: `${zh} / ${en}` });
    const key = this.keys.get(sig.keyId);
    if (key === undefined) return invalid(`未知的密钥编号 ${sig.keyId}`, `unknown key id ${sig.keyId}`);
    if (key.algorithm !== sig.algorithm) return invalid(`密钥 ${sig.keyId} 的算法为 ${key.algorithm}，清单声明 ${sig.algorithm}`, `key ${sig.keyId} is ${key.algorithm}, the manifest says ${sig.algorithm}`);
    const expected = Buffer.from(sign(key.algorithm, key.secret, manifestSigningText(manifest as unknown as Record<string, unknown>)), 'base64');
    const found = Buffer.from(sig.value, 'base64');
    if (found.length !== expected.length || !timingSafeEqual(found, expected)) {
      return invalid('签名与清单内容不符（清单或其所列摘要被改动，或密钥不同）', 'the signature does not match the manifest (the manifest or its digests were changed, or the key differs)');
    }
    return { keyId: sig.keyId, verified: true };
  }

  async check(): Promise<CheckResult> {
    try {
      await access(this.o.dir, constants.R_OK | constants.W_OK);
      await mkdir(this.doneDir, { recursive: true });
      await mkdir(this.failedDir, { recursive: true });
      await access(this.doneDir, constants.W_OK);
      await access(this.failedDir, constants.W_OK);
      const waiting = (await readdir(this.o.dir)).filter((f) => f.endsWith(this.o.manifestSuffix)).length;
      return { ok: true, message: { zh: `落地目录可读写，待处理清单 ${waiting} 个`, en: `the landing directory is readable and writable; ${waiting} manifests waiting` }, detail: { dir: this.o.dir, waiting } };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return { ok: false, message: { zh: `落地目录不可用（${code}）：${this.o.dir}`, en: `the landing directory cannot be used (${code}): ${this.o.dir}` }, detail: { code: 'GOVGATE_PULL_SOURCE_UNAVAILABLE' } };
    }
  }

  /** Reads a manifest and its files and decides: take it, wait for the ferry, or fail it. */
  private async examine(manifestName: string): Promise<Verdict> {
    const path = join(this.o.dir, manifestName);
    const age = (Date.now() - (await stat(path)).mtimeMs) / 1000;
    const overdue = age > this.o.incompleteTimeoutSeconds;
    const waitOrFail = (p: Problem, manifest?: Manifest): Verdict => (overdue
      ? { kind: 'fail', ...(manifest === undefined ? {} : { manifest }), problems: [problem('GOVGATE_FILE_DROP_INCOMPLETE', { file: manifestName, limit: this.o.incompleteTimeoutSeconds, detail: `${p.message.zh} / ${p.message.en}` })] }
      : { kind: 'wait', why: p });

    let manifest: Manifest;
    try {
      const parsed = JSON.parse((await readFile(path)).toString('utf8')) as unknown;
      const check = validatorFor(manifestSchema);
      if (!check(parsed)) {
        const e = check.errors?.[0];
        return { kind: 'fail', problems: [problem('GOVGATE_FILE_DROP_MANIFEST_INVALID', { file: manifestName, detail: `${e?.instancePath || '/'} ${e?.message ?? ''}` })] };
      }
      manifest = parsed as Manifest;
    } catch (err) {
      // Unreadable JSON may be a manifest still being written: wait, then fail.
      return waitOrFail(problem('GOVGATE_FILE_DROP_MANIFEST_INVALID', { file: manifestName, detail: (err as Error).message }));
    }
    // Before anything in the manifest is believed (its department, its digests): who wrote it.
    const signature = this.checkSignature(manifestName, manifest);
    if (signature !== null && 'code' in signature) return { kind: 'fail', manifest, problems: [signature] };
    if (manifest.deptCode !== this.ctx.department.code) {
      return { kind: 'fail', manifest, problems: [problem('GOVGATE_FORBIDDEN_DEPARTMENT', { expected: this.ctx.department.code, found: manifest.deptCode, path: `${manifestName}#/deptCode` })] };
    }
    const names = new Set<string>();
    const files = new Map<string, Buffer>();
    const problems: Problem[] = [];
    for (const f of manifest.files) {
      if (names.has(f.name) || f.name === '.' || f.name === '..' || f.name !== basename(f.name) || f.name === manifestName) {
        problems.push(problem('GOVGATE_FILE_DROP_MANIFEST_INVALID', { file: manifestName, detail: `文件名 ${f.name} 重复或不允许 / file name ${f.name} repeated or not allowed` }));
        continue;
      }
      names.add(f.name);
      let bytes: Buffer;
      try {
        bytes = await readFile(join(this.o.dir, f.name));
      } catch {
        return waitOrFail(problem('GOVGATE_FILE_DROP_INCOMPLETE', { file: f.name, limit: this.o.incompleteTimeoutSeconds, detail: '文件尚未到达 / the file has not arrived' }), manifest);
      }
      if (bytes.length < f.bytes) {
        return waitOrFail(problem('GOVGATE_FILE_DROP_DIGEST_MISMATCH', { file: f.name, what: 'bytes', expected: f.bytes, found: bytes.length }), manifest);
      }
      if (bytes.length !== f.bytes) problems.push(problem('GOVGATE_FILE_DROP_DIGEST_MISMATCH', { file: f.name, what: 'bytes', expected: f.bytes, found: bytes.length }));
      else {
        const sha = createHash('sha256').update(bytes).digest('hex');
        if (sha !== f.sha256.toLowerCase()) problems.push(problem('GOVGATE_FILE_DROP_DIGEST_MISMATCH', { file: f.name, what: 'sha256', expected: f.sha256, found: sha }));
        if (f.sm3 !== undefined) {
          const s = sm3(bytes).toString('hex');
          if (s !== f.sm3.toLowerCase()) problems.push(problem('GOVGATE_FILE_DROP_DIGEST_MISMATCH', { file: f.name, what: 'sm3', expected: f.sm3, found: s }));
        }
      }
      files.set(f.name, bytes);
    }
    if (problems.length > 0) return { kind: 'fail', manifest, problems };
    return { kind: 'ready', manifest, files, signature };
  }

  /** CSV → the rows as JSON objects keyed by the mapped header names. */
  private csvDocument(bytes: Buffer): Buffer {
    const c = this.o.csv;
    let text: string;
    try {
      text = new TextDecoder(c.encoding, { fatal: true }).decode(bytes);
    } catch {
      throw new GovgateError('GOVGATE_CSV_INVALID', { line: '?', detail: `不是有效的 ${c.encoding} 文本`, detailEn: `not valid ${c.encoding} text` });
    }
    try {
      const rows = parseCsv(text, {
        bom: true, delimiter: c.delimiter, skip_empty_lines: true, trim: false,
        columns: (header: string[]) => header.map((h) => c.columns[h.trim()] ?? h.trim()),
      }) as Record<string, string>[];
      return Buffer.from(JSON.stringify(rows), 'utf8');
    } catch (err) {
      const e = err as { lines?: number; message?: string };
      throw new GovgateError('GOVGATE_CSV_INVALID', { line: e.lines ?? '?', detail: e.message ?? String(err) });
    }
  }

  private async move(manifestName: string, manifest: Manifest | undefined, toFailed: boolean, report: unknown): Promise<string> {
    const stem = manifestName.slice(0, -this.o.manifestSuffix.length) || manifestName;
    const base = join(toFailed ? this.failedDir : this.doneDir, stem);
    let target = base;
    for (let i = 2; await stat(target).then(() => true, () => false); i++) target = `${base}-${i}`;
    await mkdir(target, { recursive: true });
    // The report first: a batch in done/ or failed/ always says what happened to it.
    await writeFile(join(target, `${stem}.report.json`), `${JSON.stringify(report, null, 2)}\n`);
    for (const f of manifest?.files ?? []) {
      // A refused manifest may name anything: only plain names in the landing directory move.
      if (f.name === '.' || f.name === '..' || f.name !== basename(f.name) || f.name === manifestName) continue;
      await rename(join(this.o.dir, f.name), join(target, f.name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    await rename(join(this.o.dir, manifestName), join(target, manifestName));
    return target;
  }

  async run(run: PullRun): Promise<void> {
    if (run.window !== undefined) throw new GovgateError('GOVGATE_PULL_BACKFILL_UNSUPPORTED', { kind: this.kind });
    const manifests = (await readdir(this.o.dir, { withFileTypes: true }))
      .filter((d) => d.isFile() && d.name.endsWith(this.o.manifestSuffix))
      .map((d) => d.name)
      .sort();
    let done = 0;
    let failed = 0;
    let waiting = 0;
    for (const name of manifests.slice(0, this.o.maxBatchesPerRun)) {
      if (run.signal.aborted) throw aborted(this.name);
      const verdict = await this.examine(name);
      const base = { adapter: this.name, manifest: name, processedAt: new Date().toISOString() };
      if (verdict.kind === 'wait') {
        waiting++;
        continue;
      }
      if (verdict.kind === 'fail') {
        failed++;
        const where = await this.move(name, verdict.manifest, true, { ...base, status: 'failed', batchId: verdict.manifest?.batchId ?? null, problems: verdict.problems, files: [] });
        this.ctx.logger.warn({ adapter: this.name, manifest: name, moved: where, codes: verdict.problems.map((p) => p.code) }, 'file-drop batch failed');
        continue;
      }
      const { manifest, files, signature } = verdict;
      const itemKeys = manifest.files.map((f) => `${manifest.batchId}/${f.name}`);
      const known = await run.ledger.lookup(itemKeys);
      const fileReports: Record<string, unknown>[] = [];
      const entries: LedgerEntry[] = [];
      let anyRejected = false;
      for (const f of manifest.files) {
        if (run.signal.aborted) throw aborted(this.name);
        const itemKey = `${manifest.batchId}/${f.name}`;
        const bytes = files.get(f.name)!;
        const digest = createHash('sha256').update(bytes).digest('hex');
        const hit = known.get(`${itemKey} ${digest}`);
        if (hit !== undefined) {
          // Stored by an earlier run that stopped before the move.
          run.skipped(f.records);
          entries.push(hit);
          anyRejected ||= hit.outcome === 'rejected';
          fileReports.push({ name: f.name, status: hit.outcome, receiptId: hit.receiptId, note: 'stored by an earlier run' });
          continue;
        }
        let document: { body: Buffer; contentType: string } | undefined;
        if (f.format === 'csv') {
          try {
            document = { body: this.csvDocument(bytes), contentType: 'application/json; charset=utf-8' };
          } catch (err) {
            const e = err as GovgateError;
            // An unreadable CSV is still a payload the department sent: keep it and reject it.
            document = { body: Buffer.alloc(0), contentType: 'application/json' };
            fileReports.push({ name: f.name, status: 'rejected', problems: [{ code: e.code, message: e.messages }] });
          }
        }
        const raw = { body: bytes, contentType: `${CONTENT_TYPE[f.format]}${f.format === 'csv' ? `; charset=${this.o.csv.encoding}` : ''}`, ...(f.format === 'csv' ? { encoding: this.o.csv.encoding } : {}) };
        let entry: LedgerEntry | undefined;
        const res = await run.emit({ raw, ...(document === undefined ? {} : { document }), batchId: `${manifest.batchId}/${f.name}`.slice(0, 200) }, {
          expectRecords: f.records, tolerateRejection: true,
          ledger: (receipt) => {
            entry = {
              itemKey, digest, receiptId: receipt.receiptId,
              outcome: receipt.findings.some((x) => x.severity === 'error') ? 'rejected' : 'accepted',
              ...(receipt.findings[0] === undefined ? {} : { reason: receipt.findings[0].code }),
            };
            return [entry];
          },
        });
        if (entry !== undefined) entries.push(entry);
        anyRejected ||= res.wholeRejected;
        const existing = fileReports.find((r) => r['name'] === f.name);
        const report = { name: f.name, status: res.wholeRejected ? 'rejected' : 'accepted', receiptId: res.receipt.receiptId, counts: res.receipt.counts, findings: res.receipt.findings };
        if (existing === undefined) fileReports.push(report);
        else Object.assign(existing, { receiptId: res.receipt.receiptId, counts: res.receipt.counts, findings: res.receipt.findings });
      }
      const where = await this.move(name, manifest, anyRejected, { ...base, status: anyRejected ? 'failed' : 'done', batchId: manifest.batchId, signature, files: fileReports });
      await run.ledger.ack(entries);
      if (anyRejected) failed++;
      else done++;
      this.ctx.logger.info({ adapter: this.name, manifest: name, moved: where }, 'file-drop batch handled');
    }
    run.note({ batchesDone: done, batchesFailed: failed, batchesWaiting: waiting });
  }

  async close(): Promise<void> {
    // Nothing held open between runs.
  }
}

export const fileDrop: PullKind<FileDropOptions> = {
  kind: 'file-drop',
  direction: 'pull',
  doc: {
    zh: '监视网闸摆渡的落地目录：批次文件（JSON、XML、带表头映射的 CSV）加一个清单（文件名、记录数、字节数、摘要）。清单完整且摘要全部相符才处理，处理后连同报告移入 done/ 或 failed/。',
    en: 'Watches the landing directory of the one-way ferry: batch files (JSON, XML, CSV with a header mapping) plus a manifest (file names, record counts, sizes, digests). A batch is handled only when its manifest is complete and every digest matches; then it moves to done/ or failed/ with a report.',
    details: {
      zh: '每个文件的台账记录（批次号/文件名 + SHA-256）与其数据在同一事务中提交；移动前崩溃时，下次运行不会重复接收，只完成移动。配置 signatureKeys 后，清单须带有效签名（HMAC-SHA256 或 HMAC-SM3，覆盖清单及其所列摘要），签名缺失或不符的批次整批移入 failed/ 并在报告中说明。清单格式见 docs/pulling.md；另一台 govgate 的 file-export 目的地写出的正是这种格式。',
      en: 'Each file\'s ledger entry (batch id/file name + SHA-256) commits with its data; after a crash before the move, the next run takes nothing twice and only finishes the move. With signatureKeys, a manifest must carry a valid signature (HMAC-SHA256 or HMAC-SM3 over the manifest and so its digests); a batch whose signature is missing or wrong moves to failed/ whole, with a report saying so. Manifest format: docs/pulling.md; the file-export destination of another govgate writes exactly this format.',
    },
  },
  optionsSchema,
  backfill: false,
  validate,
  create(spec: PullAdapterSpec<FileDropOptions>, context: PullAdapterContext): PullAdapter {
    return new FileDrop(spec.name, spec.options, context);
  },
};
