import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERRORS } from '../src/errors.js';
import { PUBLISHED_EXAMPLES, exampleBatch, exampleCase, examplePowerItem, exampleSupervision } from '../src/schemas/spec/examples.js';
import { intake } from '../src/pipeline/intake.js';
import { createValidator } from '../src/schemas/validate.js';
import { documentToXml, type XmlEncoding } from '../src/schemas/xml-form.js';
import { canonicalJson } from '../src/schemas/canonical.js';
import { syncDocs } from '../src/cli/main.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const examplesDir = new URL('../docs/spec/examples/', import.meta.url);
const validator = createValidator();
const errorCodes = (fs: readonly { code: string; severity: string }[]) => [...new Set(fs.filter((f) => f.severity === 'error').map((f) => f.code))].sort();

t.test('generated docs, schemas, examples and types are up to date (run `npm run docs` if not)', async (t) => {
  t.same(syncDocs(root, false), []);
});

t.test('docs/errors.md lists every error code', async (t) => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  for (const code of Object.keys(ERRORS)) t.ok(doc.includes(`\`${code}\``), code);
});

t.test('every published example file validates as documented, in JSON, XML and GBK XML', async (t) => {
  const files = readdirSync(examplesDir);
  t.equal(files.length, PUBLISHED_EXAMPLES.length * 3);
  for (const ex of PUBLISHED_EXAMPLES) {
    for (const [suffix, expectEncoding] of [['.json', 'utf-8'], ['.xml', 'utf-8'], ['-gbk.xml', 'gbk']] as const) {
      const bytes = readFileSync(new URL(`${ex.name}${suffix}`, examplesDir));
      const res = intake(bytes, { validator });
      t.same(res.payloadFindings, [], `${ex.name}${suffix} reads`);
      t.equal(res.encoding, expectEncoding, `${ex.name}${suffix} encoding`);
      const records = res.document?.records ?? [];
      t.equal(records.length, ex.expect.length);
      records.forEach((r, i) => t.same(errorCodes(r.findings), [...new Set(ex.expect[i])].sort(), `${ex.name}${suffix} record ${i}`));
    }
  }
});

t.test('JSON → XML → JSON is lossless, in UTF-8, GBK and GB18030', async (t) => {
  const docs = [exampleCase(), examplePowerItem(), exampleSupervision(), exampleBatch([exampleCase(), examplePowerItem(), exampleSupervision()])];
  // Characters a round trip must keep: markup characters, rare characters outside GBK (GB18030 only), empty lists.
  docs.push(exampleCase({ remark: 'a < b & c > d "引号" \'单引号\' 𠀀', documents: [] }));
  for (const encoding of ['UTF-8', 'GBK', 'GB18030'] as XmlEncoding[]) {
    for (const [i, doc] of docs.entries()) {
      if (encoding === 'GBK' && i === 4) continue; // 𠀀 has no GBK form
      const original = JSON.parse(canonicalJson(doc)) as Record<string, unknown>;
      const xml = documentToXml(original, encoding);
      const res = intake(xml, { validator: createValidator() });
      t.same(res.payloadFindings, [], `${encoding} doc ${i} reads`);
      const back = res.document?.kind === 'batch'
        ? { ...res.document.envelope, records: res.document.records.map((r) => r.record) }
        : res.document?.records[0]?.record;
      t.equal(canonicalJson(back), canonicalJson(original), `${encoding} doc ${i} round-trips`);
    }
  }
});

t.test('XML text stays text: leading zeros are kept, numbers are typed only where the spec says', async (t) => {
  const doc = JSON.parse(canonicalJson(exampleCase())) as Record<string, unknown>;
  const xml = documentToXml(doc).toString('utf8').replace('<caseType>2</caseType>', '<caseType>02</caseType>').replace('<dataVer>3</dataVer>', '<dataVer>0003</dataVer>');
  const r = intake(Buffer.from(xml), { validator }).document!.records[0]!;
  t.same(errorCodes(r.findings), ['GOVGATE_FIELD_CODE']);
  t.match(r.findings[0]!.message.en, /"02"/);
});
