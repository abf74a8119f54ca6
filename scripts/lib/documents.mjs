// The documents the doc checks read: the top-level guides that exist and
// every page in docs/, as paths relative to the repository root.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function documentFiles(root) {
  const top = ['README.md', 'CONTRIBUTING.md', 'ARCHITECTURE.md'].filter((name) => existsSync(join(root, name)));
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return [...top, ...docs];
}
