/**
 * The sending side of the one-way ferry, for tests and the demo: writes batch files and then,
 * last, their manifest into a landing directory, as a department's export job does.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { sm3 } from '../../../store/chain.js';
import type { ManifestFile } from '../file-drop.js';
import type { EaJcRow } from './ea-jc.js';

export interface FerryFile {
  readonly name: string;
  readonly format: ManifestFile['format'];
  readonly body: Buffer;
  readonly records: number;
}

/** Rows as CSV with Chinese headers (`header` maps column → header), in UTF-8 or GBK. */
export function csvOf(rows: readonly EaJcRow[], header: Readonly<Record<string, string>>, encoding: 'utf-8' | 'gbk' = 'utf-8'): Buffer {
  const cols = Object.keys(rows[0] ?? {});
  const q = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const text = [cols.map((c) => q(header[c] ?? c)).join(','), ...rows.map((r) => cols.map((c) => q((r as Record<string, string>)[c] ?? '')).join(','))].join('\r\n') + '\r\n';
  return encoding === 'gbk' ? iconv.encode(text, 'gbk') : Buffer.from(text, 'utf8');
}

export function jsonOf(rows: readonly EaJcRow[]): Buffer {
  return Buffer.from(JSON.stringify(rows), 'utf8');
}

/**
 * Writes the files, then the manifest (`<batchId>.manifest.json`). `tamper` changes a file after
 * its digest was taken (a corrupted transfer); `withhold` leaves a file out (still in transit).
 */
export function dropBatch(dir: string, batch: { batchId: string; deptCode: string; files: readonly FerryFile[] }, o: { tamper?: string; withhold?: string; sm3?: boolean } = {}): string {
  const manifest = {
    manifestVersion: 1, batchId: batch.batchId, deptCode: batch.deptCode, createdAt: new Date().toISOString(),
    files: batch.files.map((f) => ({
      name: f.name, format: f.format, records: f.records, bytes: f.body.length,
      sha256: createHash('sha256').update(f.body).digest('hex'),
      ...(o.sm3 === true ? { sm3: sm3(f.body).toString('hex') } : {}),
    })),
  };
  for (const f of batch.files) {
    if (f.name === o.withhold) continue;
    const body = f.name === o.tamper ? Buffer.from(f.body.toString('latin1').replace(/1/, '7'), 'latin1') : f.body;
    writeFileSync(join(dir, f.name), body);
  }
  const name = `${batch.batchId}.manifest.json`;
  writeFileSync(join(dir, name), JSON.stringify(manifest, null, 2));
  return name;
}
