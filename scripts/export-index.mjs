#!/usr/bin/env node
// The "Every export" section of docs/api.md, made from the code's TSDoc (the
// first sentence of each export's summary, through typedoc's JSON), so the
// guide lists exactly what `require('hvsock')` exports.
//   node scripts/export-index.mjs          rewrites the section
//   node scripts/export-index.mjs --check  fails if the section is stale
// Its typedoc run uses typedoc.json, whose validation fails on any
// undocumented export: `npm run docs:check` relies on this run for that
// check rather than running typedoc a second time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const guide = join(root, 'docs', 'api.md');
const BEGIN = '<!-- export-index: begin (node scripts/export-index.mjs) -->';
const END = '<!-- export-index: end -->';
// typedoc's ReflectionKind numbers.
const KINDS = {
  4: 'namespace',
  8: 'enum',
  32: 'constant',
  64: 'function',
  128: 'class',
  256: 'interface',
  2097152: 'type',
};

function reflections() {
  const dir = mkdtempSync(join(tmpdir(), 'hvsock-exports-'));
  let result;
  let children;
  try {
    const out = join(dir, 'api.json');
    const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
    result = spawnSync(process.execPath, [typedoc, '--json', out, '--out', join(dir, 'html')], { cwd: root, encoding: 'utf8' });
    if (result.status === 0) children = JSON.parse(readFileSync(out, 'utf8')).children ?? [];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (children === undefined) {
    process.stderr.write(`${result?.stdout ?? ''}${result?.stderr ?? ''}export-index: typedoc failed (an undocumented export fails it)\n`);
    process.exit(1);
  }
  return children;
}

function summaryOf(reflection) {
  const comment = reflection.comment ?? reflection.signatures?.[0]?.comment ?? reflection.getSignature?.comment;
  const text = (comment?.summary ?? [])
    .map((part) => part.text)
    .join('')
    .replace(/\s+/g, ' ')
    .trim();
  // The first sentence: up to a full stop followed by a space, or the end.
  const first = /^(.+?\.)(\s|$)/.exec(text)?.[1] ?? text;
  return first.replace(/\|/g, '\\|');
}

function section() {
  const rows = reflections()
    .map((reflection) => ({ name: reflection.name, kind: KINDS[reflection.kind] ?? 'export', summary: summaryOf(reflection) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return [
    BEGIN,
    '',
    `${rows.length} exports. Kinds: constant, function, class, interface, type (types exist for TypeScript only).`,
    '',
    '| export | kind | what it is |',
    '|---|---|---|',
    ...rows.map((row) => `| \`${row.name}\` | ${row.kind} | ${row.summary} |`),
    '',
    END,
  ].join('\n');
}

const text = readFileSync(guide, 'utf8');
const start = text.indexOf(BEGIN);
const end = text.indexOf(END);
if (start < 0 || end < 0) throw new Error(`docs/api.md has no ${BEGIN} ... ${END} section`);
const updated = text.slice(0, start) + section() + text.slice(end + END.length);
if (process.argv.includes('--check')) {
  if (updated !== text) {
    process.stderr.write('export-index: the "Every export" section of docs/api.md is stale: run node scripts/export-index.mjs\n');
    process.exit(1);
  }
  console.log('export-index: docs/api.md lists every export');
} else {
  writeFileSync(guide, updated);
  console.log('export-index: docs/api.md updated');
}
