/**
 * `file-export`: the outbound half of the one-way ferry (网闸/光闸). Each send writes one batch
 * file (the spec's JSON envelope, or its XML form) and then, last, a manifest in exactly the format
 * `file-drop` reads (src/adapters/pull/file-drop.ts, docs/pulling.md), optionally signed. The ferry
 * carries both across; a govgate there ingests them with `file-drop`, or a department system reads them.
 *
 * Durability: every file is written under a temporary name (`.tmp-…`, never ending in the manifest
 * suffix, so no reader takes it for a manifest), fsynced, renamed into place, and the directory is
 * fsynced — the batch file first, the manifest last. A reader that sees a manifest therefore sees
 * its batch file complete, even after a power cut. Only then are the records `delivered`.
 *
 * Exactly once: the batch id is a digest of the department and the records' idempotency keys, and
 * the bytes are a function of the records alone (records sorted by key, `sentAt`/`createdAt` = when
 * the newest of them was accepted here, not the wall clock). A resend of the same set — a crash
 * before the outbox was settled, a lease that ran out mid-write — rewrites the same names with the
 * same bytes (or finds the manifest already there and writes nothing), so the ferry never sees two
 * different batches for one set of versions; the far side's file-drop ledger recognises a batch
 * it already took. A different grouping of versions already sent carries their `idempotencyKeys`,
 * and the receiving store answers `unchanged` for content it already holds.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, stat, statfs, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import iconv from 'iconv-lite';
import { secretPair, secretProblems, secretValue } from '../secrets.js';
import type { SigningAlgorithm } from '../../client/sign.js';
import { HMAC_ALGORITHMS, MIN_SECRET_LENGTH, type SchemaNode } from '../../config/schema.js';
import { errorMessage } from '../../errors.js';
import { SPEC_VERSION } from '../../schemas/spec/index.js';
import { documentToXmlText, type XmlEncoding } from '../../schemas/xml-form.js';
import { signManifest, type Manifest, type ManifestFile } from '../pull/file-drop.js';
import type { BatchVerdict, CheckResult, Destination, DestinationKind, Doc, OutboundRecord, RecordVerdict } from '../types.js';

export interface FileExportOptions {
  readonly dir: string;
  readonly format: 'json' | 'xml';
  readonly encoding: XmlEncoding;
  readonly filePrefix: string;
  readonly manifestSuffix: string;
  readonly sm3: boolean;
  readonly keyId?: string;
  readonly secret?: string;
  readonly secretEnv?: string;
  readonly algorithm: SigningAlgorithm;
  readonly fsync: boolean;
  readonly fileMode?: string;
  readonly departmentDirs: boolean;
}

const optionsSchema: SchemaNode = {
  type: 'object', additionalProperties: false, required: ['dir'],
  'x-doc': { zh: '文件摆渡导出目的地的选项', en: 'Options of a file-export (outbound ferry) destination' },
  properties: {
    dir: {
      type: 'string', minLength: 1, maxLength: 4096, examples: ['/data/ferry/out/hall'], 'x-path': true,
      'x-doc': {
        zh: '导出目录（网闸摆渡的发送目录），须已存在且可写。相对路径按网关启动时的工作目录解析。批次文件与清单直接写在此目录中。',
        en: 'Export directory (where the ferry picks up), which must exist and be writable. A relative path resolves against the gateway\'s working directory at start. Batch files and manifests are written directly in it.',
      },
    },
    format: {
      type: 'string', enum: ['json', 'xml'], default: 'json', examples: ['xml'],
      'x-doc': {
        zh: '批次文件格式：json 为规范的批次信封（UTF-8）；xml 为规范的 XML 形式。两者都带 idempotencyKeys。',
        en: 'Batch file format: json is the spec\'s batch envelope (UTF-8); xml is the spec\'s XML form. Both carry idempotencyKeys.',
      },
    },
    encoding: {
      type: 'string', enum: ['UTF-8', 'GBK', 'GB18030'], default: 'UTF-8', examples: ['GB18030'],
      'x-doc': {
        zh: 'XML 文件的字符集（仅 format: xml）。GBK 无法表示的字符（生僻字）会使目的地暂停并告警，建议用 GB18030。',
        en: 'Charset of XML files (format: xml only). A character GBK cannot express (rare hanzi) pauses the destination with an alert; prefer GB18030.',
      },
    },
    filePrefix: {
      type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$', default: 'govgate', examples: ['city-gw'],
      'x-doc': {
        zh: '批次号与文件名的前缀：批次号为 <前缀>-<32 位十六进制摘要>，文件为 <批次号>.json|.xml 与 <批次号><清单后缀>。',
        en: 'Prefix of batch ids and file names: the batch id is <prefix>-<32 hex digits>, the files <batch id>.json|.xml and <batch id><manifest suffix>.',
      },
    },
    manifestSuffix: {
      type: 'string', pattern: '^[A-Za-z0-9._-]{1,32}$', default: '.manifest.json', examples: ['.manifest.json'],
      'x-doc': { zh: '清单文件名的后缀；须与接收端 file-drop 的 manifestSuffix 相同。', en: 'Suffix of manifest file names; must equal manifestSuffix of the receiving file-drop.' },
    },
    sm3: {
      type: 'boolean', default: true, examples: [false],
      'x-doc': { zh: '清单中除 SHA-256 外同时给出 SM3 摘要（接收端给出即校验）。', en: 'Also give each file\'s SM3 digest in the manifest, beside SHA-256 (checked by the receiver when given).' },
    },
    keyId: {
      type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$', minLength: 1, maxLength: 64, examples: ['city-gw-2026'],
      'x-default-doc': { zh: '无：清单不签名', en: 'none: manifests are not signed' },
      'x-doc': {
        zh: '清单签名的密钥编号（接收端 file-drop 的 signatureKeys 中须有同一编号与密钥）。给出时须同时给出 secret 或 secretEnv。',
        en: 'Key id manifests are signed with (the receiving file-drop lists the same id and secret in signatureKeys). With it, give secret or secretEnv.',
      },
    },
    ...secretPair('secret', { zh: '清单签名密钥', en: 'Manifest signing secret' }, 'GOVGATE_FERRY_SECRET', MIN_SECRET_LENGTH),
    algorithm: {
      type: 'string', enum: HMAC_ALGORITHMS, default: 'hmac-sha256', examples: ['hmac-sm3'],
      'x-doc': { zh: '清单签名算法。', en: 'Manifest signature algorithm.' },
    },
    fsync: {
      type: 'boolean', default: true, examples: [false],
      'x-doc': {
        zh: '每个文件及目录写入后执行 fsync，断电也不会留下“有清单、缺文件”的批次。仅在无持久化要求的环境（如测试用 tmpfs）关闭。',
        en: 'fsync every file and the directory after writing, so not even a power cut leaves a manifest without its complete batch file. Turn off only where durability does not matter (a test tmpfs).',
      },
    },
    departmentDirs: {
      type: 'boolean', default: false, examples: [true],
      'x-doc': {
        zh: '每个部门写入导出目录下的 <部门代码>/ 子目录（按需创建）。接收端的 file-drop 每个适配器只接收一个部门，多个部门共用一个目的地时应打开此项，并为每个子目录配置一个 file-drop。',
        en: 'Write each department\'s batches into a <department code>/ sub-directory of the export directory (created when needed). A receiving file-drop adapter takes one department, so when one destination carries several departments turn this on and give each sub-directory its own file-drop.',
      },
    },
    fileMode: {
      type: 'string', pattern: '^0?[0-7]{3}$', examples: ['0640'],
      'x-default-doc': { zh: '由进程 umask 决定', en: 'as the process umask gives' },
      'x-doc': { zh: '写出文件的权限（八进制），使摆渡程序的账户可以读取。', en: 'Permissions of the files written (octal), so the ferry\'s account can read them.' },
    },
  },
};

/** Leftovers of writes a crash interrupted are removed after this long (never a write in progress). */
const STALE_TEMP_MS = 3_600_000;

interface FileErrorRule {
  readonly class: 'transient' | 'config';
  readonly why: Doc;
}

const transient = (zh: string, en: string): FileErrorRule => ({ class: 'transient', why: { zh, en } });
const config = (zh: string, en: string): FileErrorRule => ({ class: 'config', why: { zh, en } });

/**
 * File-system errors by errno. Transient: the disk or the mount is in trouble but will recover
 * (space is freed, the NFS server returns) — retried with backoff, and a dead letter only after
 * delivery.maxRetryHours. Config: the directory itself is wrong (missing, not writable, read-only)
 * — the destination pauses and alerts, no attempt is counted. Anything else is transient.
 */
export const FILE_ERRORS: Readonly<Record<string, FileErrorRule>> = {
  ENOSPC: transient('磁盘空间已满', 'no space left on the device'),
  EDQUOT: transient('超出磁盘配额', 'disk quota exceeded'),
  EIO: transient('磁盘 I/O 错误', 'I/O error'),
  EAGAIN: transient('资源暂时不可用', 'resource temporarily unavailable'),
  EWOULDBLOCK: transient('资源暂时不可用', 'resource temporarily unavailable'),
  EBUSY: transient('设备或资源忙', 'device or resource busy'),
  EINTR: transient('系统调用被中断', 'interrupted system call'),
  EMFILE: transient('本进程打开的文件过多', 'too many open files in the process'),
  ENFILE: transient('系统打开的文件过多', 'too many open files in the system'),
  ENOMEM: transient('内存不足', 'out of memory'),
  ETIMEDOUT: transient('网络文件系统超时', 'network file system timed out'),
  ESTALE: transient('网络文件系统句柄失效', 'stale network file system handle'),
  EEXIST: transient('临时文件名冲突', 'temporary file name collision'),
  EACCES: config('无权写入导出目录', 'no permission to write in the export directory'),
  EPERM: config('操作不被允许', 'operation not permitted'),
  ENOENT: config('导出目录不存在', 'the export directory does not exist'),
  ENOTDIR: config('导出路径不是目录', 'the export path is not a directory'),
  EROFS: config('导出目录所在文件系统为只读', 'the export directory is on a read-only file system'),
  EISDIR: config('目标是一个目录', 'the target is a directory'),
  ENAMETOOLONG: config('路径过长', 'the path is too long'),
  ELOOP: config('路径中符号链接过多', 'too many symbolic links in the path'),
  EINVAL: config('文件系统不支持该操作', 'the file system does not support the operation'),
};

const UNKNOWN_FILE_ERROR: FileErrorRule = transient('文件系统错误', 'file-system error');

/** Directory fsync is not offered by every file system (some network and FUSE ones): not worth a pause. */
const DIR_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EPERM']);

function resolveSecret(name: string, o: FileExportOptions, env: NodeJS.ProcessEnv): string | undefined {
  if (o.keyId === undefined) return undefined;
  const secret = secretValue(o as unknown as Record<string, unknown>, 'secret', env);
  // Checked by validate() at start; reaching here means the environment changed under us.
  if (secret === undefined) throw new Error(`destination ${name}: its signing secret is no longer set`);
  return secret;
}

const byKey = (a: OutboundRecord, b: OutboundRecord) => (a.idempotencyKey < b.idempotencyKey ? -1 : a.idempotencyKey > b.idempotencyKey ? 1 : 0);

/** The first record (in batch order) with a character `encoding` cannot express, and that character. */
function unencodable(records: readonly OutboundRecord[], encoding: 'gbk' | 'gb18030'): { record: OutboundRecord; char: string } | undefined {
  for (const r of records) {
    const text = r.contentJson;
    // iconv-lite writes '?' for what it cannot encode instead of failing: compare a round trip.
    if (iconv.decode(iconv.encode(text, encoding), encoding) === text) continue;
    for (const ch of text) {
      if (iconv.decode(iconv.encode(ch, encoding), encoding) !== ch) return { record: r, char: ch };
    }
  }
  return undefined;
}

export const fileExportDestination: DestinationKind<FileExportOptions> = {
  kind: 'file-export',
  direction: 'destination',
  doc: {
    zh: '文件摆渡导出（网闸/光闸的发送端）：每批记录写成一个批次文件（规范 JSON 信封或 XML 形式，带幂等键），最后写清单（文件名、记录数、字节数、SHA-256/SM3 摘要，可选 HMAC 签名），格式与 file-drop 读取的完全相同。',
    en: 'File export (the sending side of the one-way ferry): each batch of records becomes one batch file (the spec\'s JSON envelope or XML form, with idempotency keys) and, last, a manifest (file name, record count, size, SHA-256/SM3 digests, an optional HMAC signature) in exactly the format file-drop reads.',
    details: {
      zh: '每个文件先写入临时名（.tmp-…），fsync 文件与目录后改名到位，清单最后改名：读取方看到清单时其批次文件必已完整。批次号由部门与各记录幂等键计算，内容只取决于记录本身，因此同一组记录重发时写出同名、同字节的文件（清单已在则不再写），接收端按台账或内容摘要识别为重复（unchanged）。写成功则每条记录为 delivered；ENOSPC、EIO、EAGAIN 等为暂时性失败（退避重试）；EACCES、EPERM、ENOENT、EROFS 等为配置错误（暂停目的地并告警）。详见 docs/forwarding.md。',
      en: 'Each file is written under a temporary name (.tmp-…), fsynced with its directory and renamed into place, the manifest last: a reader that sees a manifest sees its batch file complete. The batch id is computed from the department and the records\' idempotency keys and the content depends on the records alone, so a resend of the same records writes the same names with the same bytes (nothing at all when the manifest is already there), and the receiver recognises it as a duplicate (unchanged) by its ledger or content digests. A successful write makes every record delivered; ENOSPC, EIO, EAGAIN and the like are transient (retried with backoff); EACCES, EPERM, ENOENT, EROFS and the like are configuration errors (the destination pauses and alerts). See docs/forwarding.md.',
    },
  },
  optionsSchema,

  validate(o, env) {
    const problems: { path: string; zh: string; en: string }[] = [];
    const hasSecret = o.secret !== undefined || o.secretEnv !== undefined;
    if (o.keyId === undefined) {
      if (hasSecret) problems.push({ path: 'keyId', zh: '给出了签名密钥却没有 keyId：签名需要密钥编号', en: 'a signing secret is given without keyId: a signature needs the key id' });
    } else {
      problems.push(...secretProblems(o as unknown as Record<string, unknown>, 'secret', env, true, '', MIN_SECRET_LENGTH));
    }
    if (o.format === 'json' && o.encoding !== 'UTF-8') {
      problems.push({ path: 'encoding', zh: 'JSON 文件总是 UTF-8；encoding 只用于 format: xml', en: 'JSON files are always UTF-8; encoding applies to format: xml only' });
    }
    if (`.${o.format}`.endsWith(o.manifestSuffix) || o.manifestSuffix.startsWith('.tmp-')) {
      problems.push({ path: 'manifestSuffix', zh: `清单后缀 ${o.manifestSuffix} 会与批次文件或临时文件混淆`, en: `the manifest suffix ${o.manifestSuffix} would be confused with batch or temporary files` });
    }
    return problems;
  },

  create(name, o, context): Destination {
    const log = context.logger;
    // Resolved once, against the working directory at start (as the gateway config's paths are).
    const dir = resolve(o.dir);
    const secret = resolveSecret(name, o, context.env);
    const mode = o.fileMode === undefined ? undefined : parseInt(o.fileMode, 8);
    const tempPrefix = `.tmp-${o.filePrefix}-`;
    /** Directories already swept of stale temporary files (and, for department directories, known to exist). */
    const ready = new Set<string>();

    async function syncDir(where: string): Promise<void> {
      if (!o.fsync) return;
      const fh = await open(where, 'r');
      try {
        await fh.sync();
      } catch (err) {
        if (!DIR_SYNC_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      } finally {
        await fh.close();
      }
    }

    /** Temporary name, fsync, rename into place: a reader sees the old file or the whole new one. */
    async function writeDurably(where: string, fileName: string, bytes: Buffer): Promise<void> {
      // The random tail keeps concurrent writers (another worker, another instance) apart and keeps
      // the temporary name from ending in the manifest suffix.
      const temp = join(where, `.tmp-${fileName}.${randomBytes(6).toString('hex')}`);
      try {
        const fh = await open(temp, 'wx', mode ?? 0o666);
        try {
          await fh.writeFile(bytes);
          if (o.fsync) await fh.sync();
        } finally {
          await fh.close();
        }
        // open()'s mode passes through the umask; an explicit fileMode is meant as written.
        if (mode !== undefined) await chmod(temp, mode);
        await rename(temp, join(where, fileName));
      } catch (err) {
        await unlink(temp).catch(() => undefined);
        throw err;
      }
    }

    /** Removes temporary files a crash left behind, old enough that no write can still own them. */
    async function sweepTemp(where: string): Promise<number> {
      let removed = 0;
      for (const f of await readdir(where)) {
        if (!f.startsWith(tempPrefix)) continue;
        const p = join(where, f);
        const st = await stat(p).catch(() => undefined);
        if (st !== undefined && Date.now() - st.mtimeMs > STALE_TEMP_MS && (await unlink(p).then(() => true, () => false))) removed++;
      }
      return removed;
    }

    function failure(err: unknown, step: string, where: string): BatchVerdict {
      const code = (err as NodeJS.ErrnoException).code ?? 'ERR_UNKNOWN';
      const rule = FILE_ERRORS[code] ?? UNKNOWN_FILE_ERROR;
      log.warn({ destination: name, dir: where, step, code, class: rule.class }, 'file export failed');
      return {
        class: rule.class,
        reason: { code, message: { zh: `${rule.why.zh}（${step}，${where}）`, en: `${rule.why.en} (${step}, ${where})` } },
        answer: { error: code, body: (err as Error).message?.slice(0, 500) ?? String(err) },
      };
    }

    const aborted = (): BatchVerdict => ({
      class: 'transient', reason: { code: 'ABORTED', message: { zh: '网关正在停止', en: 'the gateway is stopping' } }, answer: { error: 'ABORTED' },
    });

    return {
      name,
      kind: 'file-export',

      async send(records, signal): Promise<BatchVerdict> {
        if (signal.aborted) return aborted();
        const sorted = [...records].sort(byKey);
        const dept = sorted[0]!.deptCode;
        const keys = sorted.map((r) => r.idempotencyKey);
        const batchId = `${o.filePrefix}-${createHash('sha256').update(`${dept}\n${keys.join('\n')}`).digest('hex').slice(0, 32)}`;
        // Not the wall clock: the bytes must be the same on every resend of these versions.
        const asOf = new Date(Math.max(...sorted.map((r) => r.receivedAt.getTime()))).toISOString();
        const fileName = `${batchId}.${o.format}`;
        const where = o.departmentDirs ? join(dir, dept) : dir;
        const manifestName = `${batchId}${o.manifestSuffix}`;

        let body: Buffer;
        if (o.format === 'json') {
          // The records go in as the JSON text they were stored as, like the standard protocol.
          body = Buffer.from(`{"specVersion":${JSON.stringify(SPEC_VERSION)},"batchId":${JSON.stringify(batchId)},"senderDept":${JSON.stringify(dept)},` +
            `"sentAt":${JSON.stringify(asOf)},"records":[${sorted.map((r) => r.contentJson).join(',')}],"idempotencyKeys":${JSON.stringify(keys)}}`, 'utf8');
        } else {
          if (o.encoding !== 'UTF-8') {
            const bad = unencodable(sorted, o.encoding === 'GBK' ? 'gbk' : 'gb18030');
            if (bad !== undefined) {
              const details = { key: bad.record.businessKey, found: `U+${bad.char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} "${bad.char}"`, encoding: o.encoding, destination: name };
              return { class: 'config', reason: { code: 'GOVGATE_FILE_EXPORT_UNENCODABLE', message: errorMessage('GOVGATE_FILE_EXPORT_UNENCODABLE', details) }, answer: { error: 'GOVGATE_FILE_EXPORT_UNENCODABLE' } };
            }
          }
          const text = documentToXmlText({
            specVersion: SPEC_VERSION, batchId, senderDept: dept, sentAt: asOf, records: sorted.map((r) => r.content), idempotencyKeys: keys,
          }, o.encoding);
          body = o.encoding === 'UTF-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, o.encoding === 'GBK' ? 'gbk' : 'gb18030');
        }

        const file: ManifestFile = {
          name: fileName, format: o.format, records: sorted.length, bytes: body.length,
          sha256: createHash('sha256').update(body).digest('hex'),
          ...(o.sm3 ? { sm3: createHash('sm3').update(body).digest('hex') } : {}),
        };
        const unsigned = { manifestVersion: 1 as const, batchId, deptCode: dept, createdAt: asOf, files: [file] };
        const manifest: Manifest = secret === undefined || o.keyId === undefined
          ? unsigned
          : { ...unsigned, signature: signManifest(unsigned, { keyId: o.keyId, algorithm: o.algorithm, secret }) };
        const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');

        const delivered = (duplicate: boolean): BatchVerdict => ({
          class: 'ok',
          records: sorted.map((r, i): RecordVerdict => ({
            entryId: r.entryId, class: 'delivered', receiverRef: `${batchId}#${i}`,
            ...(duplicate ? { reason: { code: 'DUPLICATE', message: { zh: '该批次已在导出目录中', en: 'the batch is already in the export directory' } } } : {}),
          })),
          answer: { body: `${duplicate ? 'already exported' : 'exported'}: ${join(where, manifestName)}` },
        });

        let step = 'read';
        try {
          if (!ready.has(where)) {
            if (where !== dir) {
              step = 'department directory';
              // Not recursive: a missing export directory must stay ENOENT (a configuration error).
              const made = await mkdir(where).then(() => true, (err: NodeJS.ErrnoException) => {
                if (err.code === 'EEXIST') return false;
                throw err;
              });
              if (made) await syncDir(dir);
            }
            const removed = await sweepTemp(where);
            if (removed > 0) log.warn({ destination: name, dir: where, removed }, 'removed temporary files left by an interrupted export');
            ready.add(where);
            step = 'read';
          }
          // The manifest is renamed in only after its batch file is durable, so an identical
          // manifest means this very batch was exported completely before (the answer was lost).
          // Its batch file may already be on its way across: do not write it again.
          const existing = await readFile(join(where, manifestName)).catch(() => undefined);
          if (existing !== undefined && existing.equals(manifestBytes)) {
            const batchFile = await stat(join(where, fileName)).catch(() => undefined);
            if (batchFile === undefined || batchFile.size === body.length) return delivered(true);
          }
          step = 'batch file';
          await writeDurably(where, fileName, body);
          await syncDir(where);
          if (signal.aborted) return aborted(); // a batch file without a manifest is inert; a resend rewrites it
          step = 'manifest';
          await writeDurably(where, manifestName, manifestBytes);
          await syncDir(where);
        } catch (err) {
          return failure(err, step, where);
        }
        log.debug({ destination: name, dir: where, batchId, records: sorted.length, bytes: body.length }, 'batch exported');
        return delivered(false);
      },

      async check(): Promise<CheckResult> {
        const probe = join(dir, `${tempPrefix}probe.${randomBytes(6).toString('hex')}`);
        try {
          const st = await stat(dir);
          if (!st.isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
          const fh = await open(probe, 'wx');
          try {
            await fh.writeFile('govgate probe\n');
            if (o.fsync) await fh.sync();
          } finally {
            await fh.close();
          }
          await unlink(probe);
          const fs = await statfs(dir).catch(() => undefined);
          const freeBytes = fs === undefined ? undefined : fs.bavail * fs.bsize;
          const free = freeBytes === undefined ? '' : `${Math.floor(freeBytes / 1_048_576)} MB`;
          return {
            ok: true,
            message: { zh: `${name}：导出目录可写${free === '' ? '' : `，剩余 ${free}`}`, en: `${name}: the export directory is writable${free === '' ? '' : `, ${free} free`}` },
            detail: { dir, ...(freeBytes === undefined ? {} : { freeBytes }) },
          };
        } catch (err) {
          await unlink(probe).catch(() => undefined);
          const code = (err as NodeJS.ErrnoException).code ?? 'ERR_UNKNOWN';
          const rule = FILE_ERRORS[code] ?? UNKNOWN_FILE_ERROR;
          return { ok: false, message: { zh: `${name}：${rule.why.zh}（${code}）：${dir}`, en: `${name}: ${rule.why.en} (${code}): ${dir}` }, detail: { dir, error: code } };
        }
      },

      async close() {
        // Nothing is held open between sends.
      },
    };
  },
};
