#!/usr/bin/env node
// Typechecks every JavaScript/TypeScript code block of the README and docs/
// against the published types (dist/index.d.ts, through the package's own
// "exports", as a user's `require('hvsock')` sees them), in strict mode, so
// documentation examples cannot rot. Run after `npm run build:ts`.
//
// Each ```js / ```cjs / ```mjs / ```ts block becomes its own module under
// .cache/doc-blocks/ (inside the package, so `require('hvsock')` resolves to
// this package by its name). Blocks fenced as ```js nocheck are skipped and
// must say why in the text around them; there are none today.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { documentFiles } from './lib/documents.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, '.cache', 'doc-blocks');
const EXTENSIONS = { js: '.js', cjs: '.cjs', javascript: '.js', mjs: '.mjs', ts: '.ts', typescript: '.ts', mts: '.mts' };

/** Yields { language, code, line } for every fenced block of `text`. */
function* fencedBlocks(text) {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)(.*)$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) body.push(lines[i].slice(open[1].length));
    yield { language: open[2].toLowerCase(), flags: open[3].trim(), code: body.join('\n'), line: start + 1 };
  }
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const documents = documentFiles(root);
const sources = new Map();
for (const file of documents) {
  const text = readFileSync(join(root, file), 'utf8');
  for (const block of fencedBlocks(text)) {
    const extension = EXTENSIONS[block.language];
    if (!extension || block.flags.includes('nocheck')) continue;
    const name = `${basename(file, '.md')}-L${block.line}${extension}`;
    writeFileSync(join(outDir, name), `${block.code}\n`);
    sources.set(name, `${file}:${block.line}`);
  }
}

writeFileSync(
  join(outDir, 'tsconfig.json'),
  JSON.stringify(
    {
      compilerOptions: {
        strict: true,
        noEmit: true,
        allowJs: true,
        checkJs: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        moduleDetection: 'force',
        target: 'es2022',
        types: ['node'],
        skipLibCheck: true,
      },
      include: ['*'],
    },
    null,
    2,
  ),
);

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(outDir, 'tsconfig.json')], { encoding: 'utf8' });
// Point each diagnostic at the markdown file and line it came from.
const output = `${result.stdout}${result.stderr}`.replace(/^([^\s(]+)\((\d+),(\d+)\)/gm, (whole, path, line) => {
  const origin = sources.get(basename(path));
  if (!origin) return whole;
  const [file, start] = origin.split(':');
  return `${file}:${Number(start) + Number(line)} (block ${relative(root, join(outDir, basename(path)))}:${line})`;
});
if (result.status !== 0) {
  process.stderr.write(output);
  process.stderr.write(`\ncheck-doc-blocks: ${sources.size} blocks, typecheck FAILED\n`);
  process.exit(1);
}
console.log(`check-doc-blocks: ${sources.size} code blocks in ${documents.length} files typecheck (strict)`);
