#!/usr/bin/env node
// Writes docs/asyncapi.yaml and docs/schemas/<type>.json from the built contracts lib, so the
// documents always come from the same zod schemas as the TS types and the decoders. Build first:
// `npm run asyncapi` does both.
//   node scripts/generate-asyncapi.mjs          → write the files
//   node scripts/generate-asyncapi.mjs --check  → exit 1 if a checked-in file is stale or extra
import { readFileSync, writeFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = new URL('../', import.meta.url);
const lib = new URL('libs/contracts/dist/index.js', root);
if (!existsSync(fileURLToPath(lib))) {
  console.error('libs/contracts is not built: run `npx tsc -b libs/contracts` first');
  process.exit(1);
}
const { renderAsyncApiYaml, renderEventJsonSchemas } = await import(lib.href);
const docs = fileURLToPath(new URL('docs/', root));
const wanted = new Map([['asyncapi.yaml', renderAsyncApiYaml()], ...renderEventJsonSchemas()]);
const schemaDir = join(docs, 'schemas');
const extra = existsSync(schemaDir)
  ? readdirSync(schemaDir)
      .map((f) => `schemas/${f}`)
      .filter((f) => !wanted.has(f))
  : [];

if (process.argv.includes('--check')) {
  const stale = [...wanted]
    .filter(([path, text]) => !existsSync(join(docs, path)) || readFileSync(join(docs, path), 'utf8') !== text)
    .map(([path]) => path);
  if (stale.length || extra.length) {
    console.error(`stale in docs/: ${[...stale, ...extra].join(', ')} — run \`npm run asyncapi\``);
    process.exit(1);
  }
  console.log(`docs/asyncapi.yaml and ${wanted.size - 1} JSON Schemas are up to date`);
} else {
  mkdirSync(schemaDir, { recursive: true });
  for (const [path, text] of wanted) writeFileSync(join(docs, path), text);
  for (const path of extra) rmSync(join(docs, path));
  console.log(
    `wrote docs/asyncapi.yaml and ${wanted.size - 1} schemas under docs/schemas/${extra.length ? `; removed ${extra.join(', ')}` : ''}`,
  );
}
