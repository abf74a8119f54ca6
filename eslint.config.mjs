// typescript-eslint (flat config) over the TypeScript and JavaScript sources.
// `npm run lint` runs it with the dependency rules (.dependency-cruiser.cjs)
// and prettier --check.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'build/',
      'build-cmake/',
      'prebuilds/',
      'node_modules/',
      '.cache/',
      'coverage/',
      'docs/reference/',
      'build-asan/',
      '**/*.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_`-prefixed names are deliberately unused (overload stubs, ignored callback arguments).
      // `{ omitted, ...rest }` drops keys on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // `import x = require('...')` is how CommonJS TypeScript imports a CommonJS package.
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
      // `let socket; install(() => socket); socket = new ...`: read (in a closure) before assigned.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `interface PollSocket extends VsockEndpointGetters {}` declares the getters a mixin installs.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
  {
    // PollSocket / SeqpacketSocket / OverlappedSocket: a class merged with an
    // interface that declares the typed on() overloads and the getters
    // installEndpointGetters() (lib/linux/poll/common.ts) or
    // installHyperVGetters() (lib/win/overlapped.ts) puts on the prototype.
    // Deliberate, these three only.
    files: ['lib/linux/poll/stream.ts', 'lib/linux/poll/seqpacket.ts', 'lib/win/overlapped.ts'],
    rules: { '@typescript-eslint/no-unsafe-declaration-merging': 'off' },
  },
  {
    // Plain CommonJS: child-process fixtures, the guest guard, examples, benchmarks.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
