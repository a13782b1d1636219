import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
      'no-restricted-imports': ['error', { paths: [{ name: 'express', message: 'keep the core framework-free' }] }],
    },
  },
);
