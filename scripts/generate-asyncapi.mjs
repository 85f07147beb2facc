#!/usr/bin/env node
// Writes docs/asyncapi.yaml from the built contracts lib, so the document always comes from the
// same zod schemas as the TS types and the decoders. Build first: `npm run asyncapi` does both.
//   node scripts/generate-asyncapi.mjs          → write the file
//   node scripts/generate-asyncapi.mjs --check  → exit 1 if the checked-in file is stale
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const lib = new URL('libs/contracts/dist/index.js', root);
if (!existsSync(fileURLToPath(lib))) {
  console.error('libs/contracts is not built: run `npx tsc -b libs/contracts` first');
  process.exit(1);
}
const { renderAsyncApiYaml } = await import(lib.href);
const target = fileURLToPath(new URL('docs/asyncapi.yaml', root));
const yaml = renderAsyncApiYaml();

if (process.argv.includes('--check')) {
  const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
  if (current !== yaml) {
    console.error('docs/asyncapi.yaml is stale: run `npm run asyncapi`');
    process.exit(1);
  }
  console.log('docs/asyncapi.yaml is up to date');
} else {
  writeFileSync(target, yaml);
  console.log(`wrote ${target}`);
}
