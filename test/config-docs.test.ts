import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAPPING_EXAMPLE, renderConfigDocs, renderExampleConfig } from '../src/config/docs.js';
import { loadConfig } from '../src/config/load.js';
import { configSchema, departmentSchema, walkSchema, type SchemaNode } from '../src/config/schema.js';
import { compileMappingYaml, TRANSFORMS } from '../src/pipeline/mapping.js';

const repoFile = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

t.test('every option of both schemas is documented, with both languages', async (t) => {
  const docs = renderConfigDocs();
  for (const schema of [configSchema, departmentSchema] as SchemaNode[]) {
    for (const leaf of walkSchema(schema)) {
      if (leaf.section && leaf.node.type === 'object') continue;
      const path = leaf.path.join('.').replace(/\.\*/g, '[]');
      t.ok(docs.includes(`\`${path}\``), path);
      t.ok(leaf.node['x-doc'].zh.length > 0 && leaf.node['x-doc'].en.length > 0, `${path} has zh and en`);
      if (leaf.node['x-env']) t.ok(docs.includes(`\`${leaf.node['x-env']}\``), `${path} env`);
    }
  }
  for (const tr of TRANSFORMS) t.ok(docs.includes(`\`${tr.name}\``), `transform ${tr.name}`);
});

t.test('the example config lists every option and loads to the defaults', async (t) => {
  const example = renderExampleConfig();
  for (const leaf of walkSchema(configSchema as SchemaNode)) {
    if (leaf.section) continue;
    const key = leaf.path[leaf.path.length - 1] ?? '';
    t.match(example, new RegExp(`^ +(# )?(- |  )?${key}:`, 'm'), leaf.path.join('.'));
  }
  const dir = mkdtempSync(join(tmpdir(), 'govgate-example-'));
  const file = join(dir, 'govgate.example.yaml');
  writeFileSync(file, example);
  const fromExample = loadConfig({ file, env: {}, cwd: '/srv' });
  const defaults = loadConfig({ env: {}, cwd: '/srv' });
  t.same(fromExample, { ...defaults, demo: { enabled: false, hallSim: true } }, 'the example changes nothing but what a file implies');
});

t.test('the mapping example in the docs compiles', async (t) => {
  const m = compileMappingYaml(MAPPING_EXAMPLE, 'docs/configuration.md');
  t.equal(m.recordType, 'case');
});

t.test('the committed files are up to date', async (t) => {
  const stale = 'stale generated file: run `npm run docs` (or renderConfigDocs / renderExampleConfig)';
  t.equal(repoFile('docs/configuration.md'), renderConfigDocs(), stale);
  t.equal(repoFile('config/govgate.example.yaml'), renderExampleConfig(), stale);
});
