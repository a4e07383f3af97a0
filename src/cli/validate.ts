/**
 * `govgate validate <file|dir|->`: what a department engineer runs first. Reads JSON or XML in any
 * supported encoding, validates every record and says, per record, what to fix.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Finding } from '../schemas/findings.js';
import { intake, type IntakeResult } from '../pipeline/intake.js';
import type { Validator } from '../schemas/validate.js';

export interface FileReport {
  readonly file: string;
  readonly format?: string;
  readonly encoding?: string;
  readonly kind?: 'batch' | 'record';
  readonly batchId?: string;
  readonly records: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly warnings: number;
  readonly payloadFindings: readonly Finding[];
  readonly recordReports: ReadonlyArray<{ index: number; key?: string; recordType?: string; ok: boolean; findings: readonly Finding[] }>;
}

const SUPPORTED = new Set(['.json', '.xml']);

/** Files named on the command line, with directories expanded (sorted, for stable output). */
export function collectFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push(p);
      continue;
    }
    const st = statSync(p);
    if (st.isDirectory()) {
      const entries = readdirSync(p).sort();
      out.push(...collectFiles(entries.map((e) => join(p, e)).filter((e) => statSync(e).isDirectory() || SUPPORTED.has(extname(e).toLowerCase()))));
    } else out.push(p);
  }
  return out;
}

export function reportFor(file: string, res: IntakeResult): FileReport {
  const records = res.document?.records ?? [];
  const base = {
    file,
    records: records.length,
    accepted: records.filter((r) => r.ok).length,
    rejected: records.filter((r) => !r.ok).length,
    warnings: records.reduce((n, r) => n + r.findings.filter((f) => f.severity === 'warning').length, 0),
    payloadFindings: res.payloadFindings,
    recordReports: records.map((r) => ({
      index: r.index, ok: r.ok, findings: r.findings,
      ...(r.key === undefined ? {} : { key: r.key }),
      ...(r.recordType === undefined ? {} : { recordType: r.recordType }),
    })),
  };
  return {
    ...base,
    ...(res.format === undefined ? {} : { format: res.format }),
    ...(res.encoding === undefined ? {} : { encoding: res.encoding }),
    ...(res.document === undefined ? {} : { kind: res.document.kind }),
    ...(res.document?.envelope === undefined ? {} : { batchId: res.document.envelope.batchId }),
  };
}

export function validateFile(file: string, bytes: Uint8Array, validator: Validator, contentType?: string): FileReport {
  return reportFor(file, intake(bytes, { validator, ...(contentType === undefined ? {} : { contentType }) }));
}

const useColor = (): boolean => process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined;

function paint(code: string, s: string): string {
  return useColor() ? `\u001b[${code}m${s}\u001b[0m` : s;
}

function findingLines(f: Finding, indent: string): string[] {
  const mark = f.severity === 'error' ? paint('31', '✗ 错误 error') : paint('33', '! 警告 warning');
  const where = [f.path === '' ? '/' : f.path, f.line === undefined ? '' : `line ${f.line}${f.column === undefined ? '' : `:${f.column}`}`].filter((x) => x !== '').join('  ');
  return [
    `${indent}${mark}  ${f.code}  ${where}`,
    `${indent}    ${f.message.zh}`,
    `${indent}    ${f.message.en}`,
  ];
}

export function renderText(reports: readonly FileReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    const what = r.kind === 'batch' ? `批次 batch ${r.batchId ?? ''}`.trim() : r.kind === 'record' ? '单条记录 single record' : '';
    const head = [r.format?.toUpperCase(), r.encoding?.toUpperCase(), what].filter((x) => x !== undefined && x !== '').join(' · ');
    lines.push(`${paint('1', r.file)}  ${head}`);
    for (const f of r.payloadFindings) lines.push(...findingLines(f, '  '));
    for (const rec of r.recordReports) {
      if (rec.ok && rec.findings.length === 0) continue;
      const id = `第 ${rec.index + 1} 条 record #${rec.index + 1}${rec.recordType === undefined ? '' : `  ${rec.recordType}`}${rec.key === undefined ? '' : ` ${rec.key}`}`;
      lines.push(`  ${rec.ok ? paint('33', '通过（有警告）accepted with warnings') : paint('31', '拒收 rejected')}  ${id}`);
      for (const f of rec.findings) lines.push(...findingLines(f, '    '));
    }
    const verdict = r.payloadFindings.some((f) => f.severity === 'error')
      ? paint('31', '整个报文被拒收 the whole payload is rejected')
      : `记录 ${r.records} 条：通过 ${r.accepted}，拒收 ${r.rejected}，警告 ${r.warnings} / ${r.records} records: ${r.accepted} accepted, ${r.rejected} rejected, ${r.warnings} warnings`;
    lines.push(`  ${verdict}`, '');
  }
  const files = reports.length;
  const bad = reports.filter((r) => r.rejected > 0 || r.payloadFindings.some((f) => f.severity === 'error')).length;
  lines.push(`${files} 个文件，${bad} 个有错误 / ${files} files, ${bad} with errors`);
  return `${lines.join('\n')}\n`;
}

export const hasAnyError = (reports: readonly FileReport[]): boolean =>
  reports.some((r) => r.rejected > 0 || r.payloadFindings.some((f) => f.severity === 'error'));

export function readInput(file: string): Uint8Array {
  return file === '-' ? readFileSync(0) : readFileSync(file);
}
