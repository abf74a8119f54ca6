#!/usr/bin/env node
// Builds an ASan+UBSan variant of the addon into build-asan/ without touching
// build/Release (the normal build the other suites load). binding.gyp stays
// the one description of the target: this script derives
// build-asan/binding.gyp from it (sources re-pointed at ../native, sanitizer
// flags added) and runs node-gyp there.
//
//   node test/sanitizers/build.mjs   -> prints the path of the built .node
//
// The result links libasan/libubsan dynamically; Node itself is not
// instrumented, so load it with LD_PRELOAD=<libasan> (test/sanitizers/asan.mjs).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const asanDir = join(root, 'build-asan');
export const asanAddon = join(asanDir, 'build', 'Release', 'hvsock.node');

const SANITIZE = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'];

/** binding.gyp with paths made relative to build-asan/ and sanitizer flags on every target. */
export function sanitizedGyp(gyp) {
  const up = (p) => (p.startsWith('<') || p.startsWith('/') ? p : `../${p}`);
  const fix = (node) => {
    if (Array.isArray(node)) return node.map(fix);
    if (node === null || typeof node !== 'object') return node;
    const out = {};
    for (const [key, value] of Object.entries(node)) {
      out[key] = key === 'sources' || key === 'include_dirs' ? value.map(up) : fix(value);
    }
    return out;
  };
  const derived = fix(gyp);
  for (const target of derived.targets) {
    target.cflags = [...(target.cflags ?? []), ...SANITIZE, '-g', '-O1'];
    target.cflags_cc = [...(target.cflags_cc ?? []), ...SANITIZE, '-g', '-O1'];
    // -z nodelete: Node unloads an addon when a Worker's environment ends; the
    // module must stay mapped so leak reports at exit can name its frames.
    target.ldflags = [...(target.ldflags ?? []), ...SANITIZE, '-Wl,-z,nodelete'];
  }
  return derived;
}

/** node-gyp: the one npm runs scripts with, else npm's bundled copy. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
  return createRequire(join(npmDir, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
}

/**
 * gyp files are Python literals: here, JSON plus `#` comments and trailing
 * commas. Drops both (outside strings) so JSON.parse can read binding.gyp.
 */
export function parseGyp(text) {
  let out = '';
  let quote = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === quote) quote = null;
    } else if (c === '"') {
      quote = c; // binding.gyp uses double-quoted strings only
      out += c;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else out += c;
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
}

export function buildAsan() {
  let gyp;
  try {
    gyp = parseGyp(readFileSync(join(root, 'binding.gyp'), 'utf8'));
  } catch (e) {
    throw new Error(`binding.gyp could not be read for the sanitizer build: ${e.message}`);
  }
  mkdirSync(asanDir, { recursive: true });
  writeFileSync(join(asanDir, 'binding.gyp'), JSON.stringify(sanitizedGyp(gyp), null, 2) + '\n');
  execFileSync(process.execPath, [nodeGyp(), 'rebuild', '--loglevel=warn'], { cwd: asanDir, stdio: ['ignore', 'inherit', 'inherit'] });
  return asanAddon;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(buildAsan());
