// @ts-check
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.turbo/**',
      '**/coverage/**',
      '**/test-artifacts/**',
      '.conveyor/**',
      'apps/monitor/dist/**',
      '**/*.cjs',
      'redis/functions/index.js',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      // Workspace packages resolve through node_modules symlinks to their TS sources ("exports"),
      // so the cycle check follows imports across packages too.
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'] })],
      'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // Except exactly the declared subpath exports: `@conveyor/core/schemas` and
              // `@conveyor/core/errors` (zod at most, so a browser bundle can use them) and
              // `@conveyor/connectors/json-schema` (kept out of the workers' start); the last entry
              // keeps files under them restricted.
              group: ['@conveyor/*/*', '!@conveyor/core/schemas', '!@conveyor/core/errors', '!@conveyor/connectors/json-schema', '@conveyor/core/schemas/*'],
              message: 'Import a workspace package by its name only (its index); deep imports bypass its public API.',
            },
          ],
        },
      ],
      'import-x/no-relative-packages': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
    },
  },
  {
    // Type-aware rules: each file is checked with the tsconfig.json nearest to it.
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['**/vitest.config.ts', '**/vite.config.ts', '**/playwright.config.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
  },
);
