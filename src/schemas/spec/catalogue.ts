/**
 * The power item catalogue as the validator uses it: a set of implementation codes, loaded from a
 * file with one code per line (extra CSV columns after the first comma are ignored, `#` comments
 * and blank lines skipped). With a catalogue, a case must refer to a code in it.
 */
import { readFileSync } from 'node:fs';

export function loadCatalogue(file: string): (itemCode: string) => boolean {
  const codes = new Set(
    readFileSync(file, 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/)
      .map((line) => line.split(',')[0]!.trim())
      .filter((code) => code !== '' && !code.startsWith('#')),
  );
  return (itemCode) => codes.has(itemCode);
}
