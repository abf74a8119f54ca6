#!/usr/bin/env node
// Fails when a comment in the published JavaScript or types (dist/) names a
// file that does not exist, or a lib/ or native/ file the package does not
// ship: users reading the .d.ts in their editor must be able to open what
// it points at. The package ships lib/ (the TypeScript sources the source
// maps point at) and native/; test/ and bench/ paths only need to exist.
// Run after `npm run build:ts`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const shipped = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).files.map((entry) => entry.replace(/\/$/, ''));
const PATH = /(?<![\w/.-])((?:lib|native|test|scripts|bench)\/[A-Za-z0-9_./-]*[A-Za-z0-9_])/g;

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (/\.(d\.ts|js)$/.test(entry.name)) yield path;
  }
}

const problems = [];
let checked = 0;
for (const file of files(join(root, 'dist'))) {
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(PATH)) {
    const path = match[1].replace(/\.$/, '');
    checked++;
    const line = text.slice(0, match.index).split('\n').length;
    const where = `${relative(root, file)}:${line}`;
    if (!existsSync(join(root, path))) problems.push(`${where}: names ${path}, which does not exist`);
    else if (/^(lib|native)\//.test(path) && !shipped.some((entry) => path === entry || path.startsWith(`${entry}/`))) {
      problems.push(`${where}: names ${path}, which the package does not ship (package.json "files")`);
    }
  }
}
if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\ncheck-shipped-paths: ${problems.length} of ${checked} paths are wrong\n`);
  process.exit(1);
}
console.log(`check-shipped-paths: ${checked} source paths named in dist/ exist and ship`);
