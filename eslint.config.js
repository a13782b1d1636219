import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The faces: what runs the gateway; nothing below them may import them. */
const FACES = ['server', 'middleware', 'commands', 'demo'];

/** import patterns naming the given src/ folders from a sibling folder */
function above(...folders) {
  return [
    { group: folders.flat().map((f) => `../${f}/*`), message: 'dependencies point one way: see README "Layout"' },
  ];
}

function layer(files, higher) {
  return { files, rules: { 'no-restricted-imports': ['error', { patterns: above(higher) }] } };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The decision core stays free of Express: only the glue (server, middleware, token router, admin) may import it.
    files: ['src/config/**', 'src/routing/**', 'src/auth/**', 'src/authorize/**', 'src/errors/**', 'src/store/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'express', message: 'keep the core framework-free' }],
          patterns: above(FACES, 'runtime', 'admin'),
        },
      ],
    },
  },
  // Dependencies point one way (README "Layout"): a folder never imports one above it.
  layer(
    ['src/proxy/**', 'src/ratelimit/**', 'src/cors/**', 'src/metrics/**'],
    [...FACES, 'runtime', 'admin', 'issuer'],
  ),
  layer(['src/issuer/**', 'src/store/**'], [...FACES, 'runtime', 'admin']),
  layer(['src/runtime/**', 'src/admin/**'], FACES),
  // plain JavaScript run by node without a loader (scripts/soak-gateway.mjs)
  { files: ['**/*.mjs'], languageOptions: { globals: { process: 'readonly', Buffer: 'readonly' } } },
);
