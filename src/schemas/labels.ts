/** Field lookups by JSON Pointer, so every finding can name the field in Chinese and English. */
import { RECORD_SPECS, walkFields, type Field, type RecordType } from './spec/index.js';

const byType = new Map<RecordType, Map<string, Field>>();
for (const [type, spec] of Object.entries(RECORD_SPECS) as [RecordType, (typeof RECORD_SPECS)[RecordType]][]) {
  const m = new Map<string, Field>();
  for (const { path, field } of walkFields(spec.fields)) m.set(path, field);
  byType.set(type, m);
}

/** `/steps/3/result` → `steps[].result` */
export function fieldKey(pointer: string): string {
  let out = '';
  for (const seg of pointer.split('/')) {
    if (seg === '') continue;
    if (/^\d+$/.test(seg)) out += '[]';
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

export function fieldAt(type: RecordType, pointer: string): Field | undefined {
  return byType.get(type)?.get(fieldKey(pointer));
}

/** The field's names for messages: `label` in Chinese, `labelEn` in English. */
export function labelsAt(type: RecordType | undefined, pointer: string): { label: string; labelEn: string } {
  if (pointer === '' || pointer === '/') return { label: '记录', labelEn: 'record' };
  const f = type === undefined ? undefined : fieldAt(type, pointer);
  if (f === undefined) return { label: pointer, labelEn: pointer };
  return { label: f.zh, labelEn: f.en.split(/[;:(]/)[0]!.trim() };
}
