#!/usr/bin/env node
// Fails when the README, CONTRIBUTING, ARCHITECTURE or docs/ name a file or
// folder of this repository (lib/..., native/..., test/..., examples/...,
// bench/..., scripts/...) that does not exist: moved code must not leave
// the documentation pointing at nothing.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { documentFiles } from './lib/documents.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// Made by a run, not kept in git.
const GENERATED = /^(bench\/results|docs\/reference)(\/|$)/;
const PATH = /(?<![\w/.-])((?:lib|native|test|examples|bench|scripts|docs)\/[A-Za-z0-9_./*-]*[A-Za-z0-9_/])/g;

const files = documentFiles(root);
const problems = [];
let checked = 0;
for (const file of files) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  lines.forEach((line, index) => {
    for (const match of line.matchAll(PATH)) {
      const path = match[1];
      if (GENERATED.test(path) || path.includes('*')) continue;
      checked++;
      if (!existsSync(join(root, path))) problems.push(`${file}:${index + 1}: names ${path}, which does not exist`);
    }
  });
}
if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\ncheck-doc-paths: ${problems.length} of ${checked} paths do not exist\n`);
  process.exit(1);
}
console.log(`check-doc-paths: ${checked} repository paths named in ${files.length} documents exist`);
